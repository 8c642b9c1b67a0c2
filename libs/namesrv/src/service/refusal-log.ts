import { RateLimitedWarnings, type WarnSink } from '@apogee/message';
import { type Connection, type RemotingCommand, RequestCode, ResponseCode, refusalFields, responseCodeName } from '@apogee/remoting';

/** What the NameServer logs to; pino loggers fit. */
export interface NamesrvLogger extends WarnSink {
  debug?(obj: object, msg: string): void;
  /** pino's: whether lines of `level` are written. */
  isLevelEnabled?(level: string): boolean;
}

/**
 * Answers that are part of normal operation, logged at debug rather than warned about: clients ask
 * for the route of topics that do not exist yet (a producer probing before auto-creation, a
 * consumer's %RETRY% topic before its first retry, every 30 s) and for KV entries that may be absent
 * (ORDER_TOPIC_CONFIG of an unordered topic).
 */
export function isExpectedAnswer(req: RemotingCommand, res: RemotingCommand): boolean {
  if (req.code === RequestCode.GET_ROUTEINFO_BY_TOPIC) return res.code === ResponseCode.TOPIC_NOT_EXIST;
  if (req.code === RequestCode.GET_KV_CONFIG || req.code === RequestCode.GET_KVLIST_BY_NAMESPACE) return res.code === ResponseCode.QUERY_NOT_FOUND;
  return false;
}

/**
 * The NameServer's report of a request not answered with SUCCESS: a rate-limited warning (per
 * response code) naming the client, the request and the reason, or a debug line for an expected answer.
 */
export function refusalLog(logger: NamesrvLogger, limiter: RateLimitedWarnings): (req: RemotingCommand, res: RemotingCommand, conn: Connection) => void {
  return (req, res, conn) => {
    if (isExpectedAnswer(req, res)) {
      // Missing routes are asked for often: the fields are only built when debug lines are written.
      if (logger.debug && (logger.isLevelEnabled?.('debug') ?? true))
        logger.debug(refusalFields(req, res, conn), 'namesrv: request answered without SUCCESS (expected)');
      return;
    }
    limiter.warn(`namesrv:${responseCodeName(res.code)}`, refusalFields(req, res, conn), 'namesrv: request refused');
  };
}
