import { BrokerError, type Logger } from '@apogee/broker';
import { RateLimitedWarnings } from '@apogee/message';
import { type Connection, HeaderFieldError, type RemotingCommand, RequestCode, ResponseCode, refusalFields, responseCodeName } from '@apogee/remoting';

/**
 * Answers that are part of normal operation, logged at debug rather than warned about:
 * - the pull protocol's own answers: PULL_NOT_FOUND (nothing new), PULL_RETRY_IMMEDIATELY,
 *   PULL_OFFSET_MOVED (the client corrects its offset and goes on);
 * - QUERY_NOT_FOUND: the offset of a group that has committed none yet, a key no message carries;
 * - "no such member" answers to questions every broker is asked: GET_CONSUMER_LIST_BY_GROUP on a
 *   broker the group is not connected to (SYSTEM_ERROR, as RocketMQ answers it) and
 *   GET_CONSUMER_CONNECTION_LIST of an offline group (CONSUMER_NOT_ONLINE).
 * Every other answer but SUCCESS is a refusal or a failure worth a warning.
 */
export function isExpectedAnswer(req: RemotingCommand, res: RemotingCommand): boolean {
  switch (res.code) {
    case ResponseCode.PULL_NOT_FOUND:
    case ResponseCode.PULL_RETRY_IMMEDIATELY:
    case ResponseCode.PULL_OFFSET_MOVED:
      return req.code === RequestCode.PULL_MESSAGE || req.code === RequestCode.LITE_PULL_MESSAGE;
    case ResponseCode.QUERY_NOT_FOUND:
      return req.code === RequestCode.QUERY_CONSUMER_OFFSET || req.code === RequestCode.QUERY_MESSAGE;
    case ResponseCode.SYSTEM_ERROR:
      return req.code === RequestCode.GET_CONSUMER_LIST_BY_GROUP;
    case ResponseCode.CONSUMER_NOT_ONLINE:
      return req.code === RequestCode.GET_CONSUMER_CONNECTION_LIST;
    default:
      return false;
  }
}

/**
 * The remoting endpoint's log of requests not answered with SUCCESS and of connections closed on
 * a bad frame. Refusals (engine refusals, malformed headers, unknown codes) are warnings, at most
 * a burst per response code and minute (RateLimitedWarnings); a handler that failed unexpectedly
 * (not a BrokerError or HeaderFieldError: a bug) is an error with its stack, limited the same way;
 * expected answers (isExpectedAnswer) are debug lines.
 */
export class RefusalLog {
  private readonly warnings: RateLimitedWarnings;
  private readonly errors: RateLimitedWarnings;

  constructor(private readonly logger: Logger) {
    this.warnings = new RateLimitedWarnings(logger);
    this.errors = new RateLimitedWarnings({ warn: (obj, msg) => logger.error(obj, msg) });
  }

  /** A request answered (or, oneway, left unanswered) with `res`; `clientId` when the connection's heartbeat named it. */
  notSuccess(req: RemotingCommand, res: RemotingCommand, conn: Pick<Connection, 'remote'>, err: unknown, clientId: string | undefined): void {
    if (err !== undefined && !(err instanceof BrokerError) && !(err instanceof HeaderFieldError)) {
      const fields = refusalFields(req, res, conn, clientId);
      fields['err'] = err instanceof Error ? (err.stack ?? err.message) : String(err);
      this.errors.warn('remoting:unexpected', fields, 'broker: request failed unexpectedly');
      return;
    }
    if (isExpectedAnswer(req, res)) {
      // Pull misses are frequent: the fields are only built when debug lines are written.
      if (debugEnabled(this.logger)) this.logger.debug!(refusalFields(req, res, conn, clientId), 'broker: request answered without SUCCESS (expected)');
      return;
    }
    this.warnings.warn(`remoting:${responseCodeName(res.code)}`, refusalFields(req, res, conn, clientId), 'broker: request refused');
  }

  /** A connection closed because its bytes were not a remoting frame. */
  badFrame(conn: Pick<Connection, 'remote'>, err: Error, clientId: string | undefined): void {
    const fields: Record<string, unknown> = { remote: conn.remote };
    if (clientId !== undefined) fields['clientId'] = clientId;
    fields['err'] = err.message;
    this.warnings.warn('remoting:bad-frame', fields, 'broker: connection closed on a bad frame');
  }

  /** Writes the summaries still pending (at shutdown). */
  flush(): void {
    this.warnings.flush();
    this.errors.flush();
  }
}

/** Whether `logger` writes debug lines (pino says so through isLevelEnabled; a plain object by having debug). */
export function debugEnabled(logger: { debug?: unknown; isLevelEnabled?: (level: string) => boolean }): boolean {
  if (typeof logger.debug !== 'function') return false;
  return typeof logger.isLevelEnabled === 'function' ? logger.isLevelEnabled('debug') : true;
}
