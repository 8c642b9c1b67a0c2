// Leases (etcd's Lease service through /v3/lease/*). A key put with a lease is deleted when the lease
// expires or is revoked; the group controller's `master` key lives on its holder's lease.
import { type LeaseId, type Reader, type ResponseHeader, readHeader } from './codec.js';
import { EtcdError, EtcdProtocolError } from './errors.js';
import type { CallOptions, HttpTransport } from './transport.js';

export interface LeaseGrant {
  readonly header: ResponseHeader;
  readonly id: LeaseId;
  /** The TTL etcd granted, in seconds (it may raise a TTL below its minimum). */
  readonly ttl: number;
}

export interface LeaseTimeToLive {
  readonly header: ResponseHeader;
  /** Seconds left; -1 when the lease does not exist (expired or revoked). */
  readonly ttl: number;
  readonly grantedTtl: number;
  readonly keys: Buffer[];
}

const NOT_FOUND = 5;

export class LeaseApi {
  constructor(private readonly http: HttpTransport) {}

  async grant(ttlSeconds: number, options: CallOptions = {}): Promise<LeaseGrant> {
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1) throw new RangeError(`lease TTL must be a whole number of seconds ≥ 1, not ${ttlSeconds}`);
    const r = await this.http.call('/v3/lease/grant', { TTL: ttlSeconds }, options);
    const error = r.str('error');
    if (error !== '') throw new EtcdError(0, error, r.endpoint);
    return { header: readHeader(r), id: r.id('ID'), ttl: r.int('TTL') };
  }

  /** One keepalive: the seconds the lease now has, 0 when it is gone (expired or revoked — the
   * gateway then answers without a TTL). The gateway serves keepalive as a stream; one request body
   * gives one `{result}` line. */
  async keepAliveOnce(id: LeaseId, options: CallOptions = {}): Promise<number> {
    const r = unwrapStreamed(await this.http.call('/v3/lease/keepalive', { ID: id }, options));
    return Math.max(0, r.int('TTL'));
  }

  /** Revokes the lease and deletes its keys; false when it no longer existed. */
  async revoke(id: LeaseId, options: CallOptions = {}): Promise<boolean> {
    try {
      await this.http.call('/v3/lease/revoke', { ID: id }, options);
      return true;
    } catch (e) {
      if (e instanceof EtcdError && e.code === NOT_FOUND) return false;
      throw e;
    }
  }

  async timeToLive(id: LeaseId, options: CallOptions & { keys?: boolean } = {}): Promise<LeaseTimeToLive> {
    const r = await this.http.call('/v3/lease/timetolive', { ID: id, keys: options.keys ?? false }, options);
    const keys = r.list('keys').map((k, i) => {
      if (typeof k !== 'string') throw new EtcdProtocolError(`keys[${i}] is not base64`, r.endpoint);
      return Buffer.from(k, 'base64');
    });
    return { header: readHeader(r), ttl: r.int('TTL'), grantedTtl: r.int('grantedTTL'), keys };
  }
}

/** A streamed call's one message: `{result: …}`, or `{error: {grpc_code, message}}` when the stream
 * failed after it began. */
export function unwrapStreamed(r: Reader): Reader {
  if (r.has('error')) {
    const e = r.child('error');
    throw new EtcdError(e.int('grpc_code') || e.int('code'), e.str('message', 'stream error'), r.endpoint);
  }
  return r.child('result');
}
