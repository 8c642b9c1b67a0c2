import { ClientError, ClientErrorCode } from '@apogee/client';
import { EtcdError, EtcdProtocolError, EtcdUnavailableError } from '@apogee/etcd';
import { responseCodeName } from '@apogee/remoting';
import { HttpApiError, HttpApiUnreachable } from './http-api.js';

/**
 * The one line main prints for a failed command (exit 1):
 * - a broker or NameServer answer: `error: <ResponseCode name> <remark>` (e.g. TOPIC_NOT_EXIST);
 * - a NameServer that cannot be reached: names the address and the socket error;
 * - an HTTP admin API answer: `error: <status> <code> <message>` (e.g. 404 NOT_FOUND);
 * - an etcd that cannot be reached (`cluster ha`): every endpoint and why it failed;
 * - anything else: its message.
 */
export function describeError(err: unknown, nameServers: readonly string[]): string {
  // The HTTP admin API's refusals: its status and stable code, then its message.
  if (err instanceof HttpApiError) return `error: ${err.status} ${err.code} ${err.message}`;
  if (err instanceof HttpApiUnreachable) return `error: ${err.message}`;
  if (err instanceof EtcdUnavailableError) return `error: cannot reach etcd: ${err.causes.map((c) => `${c.endpoint} (${c.error.message})`).join('; ')}`;
  if (err instanceof EtcdError || err instanceof EtcdProtocolError) return `error: ${err.message}`;
  if (err instanceof ClientError) {
    if (err.responseCode !== undefined) return `error: ${responseCodeName(err.responseCode)} ${err.remark ?? ''}`.trimEnd();
    if (err.code === ClientErrorCode.NETWORK) {
      const why = causeText(err.cause) ?? err.message;
      if (err.addr !== undefined && nameServers.includes(err.addr)) return `error: cannot reach the NameServer at ${err.addr}: ${why}`;
      return `error: cannot reach ${err.addr ?? 'the broker'}: ${why}`;
    }
    return `error: ${err.message}`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

function causeText(cause: unknown): string | undefined {
  if (cause instanceof Error) return cause.message;
  return cause === undefined ? undefined : String(cause);
}

/** NameServer addresses named by a --namesrv value ("a:1;b:2"). */
export function nameServerList(value: string): string[] {
  return value
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
