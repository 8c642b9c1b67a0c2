import { BrokerError, type BrokerErrorKind } from '@apogee/broker';
import { formatError } from '@apogee/message';
import { HeaderFieldError, type RemotingCommand, ResponseCode, requestCodeName, responseTo } from '@apogee/remoting';

/**
 * The one table from the engine's refusals to RocketMQ ResponseCodes. The BrokerError's message
 * (its `reason`, without the code) goes along as the remark.
 */
export const RESPONSE_CODE_OF: Readonly<Record<BrokerErrorKind, number>> = {
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
  ILLEGAL_OPERATION: ResponseCode.ILLEGAL_OPERATION,
  SYSTEM_ERROR: ResponseCode.SYSTEM_ERROR,
};

/**
 * The response for a failed request: engine refusals keep their reason as the remark under the
 * code RESPONSE_CODE_OF gives; malformed headers are SYSTEM_ERROR naming the request and the
 * field (as Java's header decoding does); anything else is SYSTEM_ERROR with the error's code
 * and message.
 */
export function errorResponse(req: RemotingCommand, err: unknown): RemotingCommand {
  if (err instanceof BrokerError) return responseTo(req, RESPONSE_CODE_OF[err.kind], err.reason);
  if (err instanceof HeaderFieldError) return responseTo(req, ResponseCode.SYSTEM_ERROR, `${requestCodeName(req.code)}: ${err.detail}`);
  return responseTo(req, ResponseCode.SYSTEM_ERROR, `${requestCodeName(req.code)}: ${formatError(err)}`);
}
