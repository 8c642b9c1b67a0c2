import { ApogeeError } from '@apogee/message';
import { responseCodeName } from '@apogee/remoting';

/** Stable codes of the SDK's errors (users search for them; keep them unchanged). */
export const ClientErrorCode = {
  /** A broker or NameServer answered with a non-success response code (see `responseCode`). */
  BROKER: 'APG_CLIENT_BROKER',
  /** No route (or no usable queue) for a topic. */
  NO_ROUTE: 'APG_CLIENT_NO_ROUTE',
  /** The caller passed something the SDK refuses before touching the network. */
  ILLEGAL_ARGUMENT: 'APG_CLIENT_ILLEGAL_ARGUMENT',
  /** The object is not started, or already shut down. */
  STATE: 'APG_CLIENT_STATE',
  /** A request got no response in time, or its connection failed (see `cause`). */
  NETWORK: 'APG_CLIENT_NETWORK',
} as const;
export type ClientErrorCode = (typeof ClientErrorCode)[keyof typeof ClientErrorCode];

export interface ClientErrorDetails {
  /** RocketMQ response code the peer answered with (ResponseCode.java), when there was an answer. */
  responseCode?: number;
  /** The peer's remark (error text), when there was an answer. */
  remark?: string;
  /** "host:port" of the peer. */
  addr?: string;
  cause?: unknown;
}

/** The one error class thrown by `@apogee/client`. */
export class ClientError extends ApogeeError {
  declare readonly code: ClientErrorCode;
  readonly responseCode: number | undefined;
  readonly remark: string | undefined;
  readonly addr: string | undefined;

  constructor(code: ClientErrorCode, message: string, details: ClientErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.responseCode = details.responseCode;
    this.remark = details.remark;
    this.addr = details.addr;
  }

  /** Error for a response whose code the caller did not accept. */
  static fromResponse(what: string, res: { code: number; remark?: string }, addr?: string): ClientError {
    const remark = res.remark ?? '';
    const details: ClientErrorDetails = { responseCode: res.code, remark };
    if (addr !== undefined) details.addr = addr;
    return new ClientError(
      ClientErrorCode.BROKER,
      `${what} failed${addr ? ` at ${addr}` : ''}: ${responseCodeName(res.code)} (${res.code})${remark ? ` ${remark}` : ''}`,
      details,
    );
  }
}
