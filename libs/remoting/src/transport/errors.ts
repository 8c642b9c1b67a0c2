import { ApogeeError } from '@apogee/message';

/** No response arrived within the request's timeout. */
export class RemotingTimeoutError extends ApogeeError {
  constructor(message: string) {
    super('APG_REMOTING_TIMEOUT', message);
  }
}

/** The connection failed or closed before the response arrived. */
export class RemotingConnectionError extends ApogeeError {
  constructor(message: string, cause?: unknown) {
    super('APG_REMOTING_CONNECTION', message, { cause });
  }
}
