import { BrokerError, type BrokerErrorKind } from '@apogee/broker';
import { HeaderFieldError, type RemotingCommand, ResponseCode, requestCodeName, responseTo } from '@apogee/remoting';

const CODE_OF: Record<BrokerErrorKind, number> = {
  TOPIC_NOT_EXIST: ResponseCode.TOPIC_NOT_EXIST,
  NO_PERMISSION: ResponseCode.NO_PERMISSION,
  INVALID_PARAMETER: ResponseCode.INVALID_PARAMETER,
  MESSAGE_ILLEGAL: ResponseCode.MESSAGE_ILLEGAL,
  SYSTEM_BUSY: ResponseCode.SYSTEM_BUSY,
  SERVICE_NOT_AVAILABLE: ResponseCode.SERVICE_NOT_AVAILABLE,
  SUBSCRIPTION_GROUP_NOT_EXIST: ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
  SUBSCRIPTION_PARSE_FAILED: ResponseCode.SUBSCRIPTION_PARSE_FAILED,
  SUBSCRIPTION_NOT_EXIST: ResponseCode.SUBSCRIPTION_NOT_EXIST,
  NOT_SUPPORTED: ResponseCode.REQUEST_CODE_NOT_SUPPORTED,
  NOT_FOUND: ResponseCode.SYSTEM_ERROR,
  SYSTEM_ERROR: ResponseCode.SYSTEM_ERROR,
};

/**
 * The response for a failed request: engine refusals keep their reason as the remark under the
 * matching RocketMQ code; malformed headers are SYSTEM_ERROR naming the request and the field
 * (as Java's header decoding does); anything else is SYSTEM_ERROR with the error's message.
 */
export function errorResponse(req: RemotingCommand, err: unknown): RemotingCommand {
  if (err instanceof BrokerError) return responseTo(req, CODE_OF[err.kind], err.reason);
  if (err instanceof HeaderFieldError) return responseTo(req, ResponseCode.SYSTEM_ERROR, `${requestCodeName(req.code)}: ${err.message.replace(/^APG_[A-Z_]+: /, '')}`);
  const message = err instanceof Error ? err.message : String(err);
  return responseTo(req, ResponseCode.SYSTEM_ERROR, `${requestCodeName(req.code)}: ${message}`);
}
