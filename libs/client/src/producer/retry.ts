import { ResponseCode } from '@apogee/remoting';
import { ClientError, ClientErrorCode } from '../errors.js';

/** Response codes after which a send is retried on another queue, preferably another broker. */
export const RETRYABLE_SEND_CODES: ReadonlySet<number> = new Set([
  ResponseCode.SYSTEM_ERROR,
  ResponseCode.SYSTEM_BUSY,
  ResponseCode.SERVICE_NOT_AVAILABLE,
  ResponseCode.TOPIC_NOT_EXIST,
]);

/** True for a failure worth another attempt: a retryable broker code, a timeout or a connection error. */
export function isRetryableSendError(err: unknown): boolean {
  if (!(err instanceof ClientError)) return false;
  if (err.code === ClientErrorCode.NETWORK) return true;
  return err.code === ClientErrorCode.BROKER && err.responseCode !== undefined && RETRYABLE_SEND_CODES.has(err.responseCode);
}
