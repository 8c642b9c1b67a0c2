// The client: endpoints, one transport, and the kv, lease and watch calls on it. `close()` ends
// every watch, fails the calls in flight and drops the connections, so a process can exit.
import type { Bytes, LeaseId } from './codec.js';
import { type Endpoint, parseEndpoints } from './endpoints.js';
import { type DeleteOptions, KvApi, type PutOptions, type RangeOptions, type Txn } from './kv.js';
import { LeaseApi } from './lease.js';
import { type CallOptions, HttpTransport, type TransportOptions } from './transport.js';
import { Watch, type WatchHandlers, type WatchOptions } from './watch.js';

export interface EtcdClientOptions extends TransportOptions {
  /** `etcd://H:P[,H:P…]` or the parsed list. */
  readonly endpoints: string | readonly Endpoint[];
}

export class EtcdClient {
  private readonly http: HttpTransport;
  private readonly kv: KvApi;
  private readonly leases: LeaseApi;
  private readonly watches = new Set<Watch>();

  constructor(options: EtcdClientOptions) {
    const endpoints = typeof options.endpoints === 'string' ? parseEndpoints(options.endpoints) : options.endpoints;
    this.http = new HttpTransport(endpoints, options);
    this.kv = new KvApi(this.http);
    this.leases = new LeaseApi(this.http);
  }

  get endpoints(): readonly Endpoint[] {
    return this.http.endpoints;
  }

  range(key: Bytes, options?: RangeOptions) {
    return this.kv.range(key, options);
  }
  get(key: Bytes, options?: CallOptions) {
    return this.kv.get(key, options);
  }
  put(key: Bytes, value: Bytes, options?: PutOptions) {
    return this.kv.put(key, value, options);
  }
  delete(key: Bytes, options?: DeleteOptions) {
    return this.kv.delete(key, options);
  }
  txn(txn: Txn, options?: CallOptions) {
    return this.kv.txn(txn, options);
  }
  compact(revision: number, options?: CallOptions) {
    return this.kv.compact(revision, options);
  }

  leaseGrant(ttlSeconds: number, options?: CallOptions) {
    return this.leases.grant(ttlSeconds, options);
  }
  leaseKeepAliveOnce(id: LeaseId, options?: CallOptions) {
    return this.leases.keepAliveOnce(id, options);
  }
  leaseRevoke(id: LeaseId, options?: CallOptions) {
    return this.leases.revoke(id, options);
  }
  leaseTimeToLive(id: LeaseId, options?: CallOptions & { keys?: boolean }) {
    return this.leases.timeToLive(id, options);
  }

  /** Watches `key` (every key under it with `prefix`) from `options.fromRevision`. */
  watch(key: Bytes, options: WatchOptions, handlers: WatchHandlers | WatchHandlers['onEvent']): Watch {
    const h = typeof handlers === 'function' ? { onEvent: handlers } : handlers;
    const w = new Watch(this.http, key, options, h, (stopped) => this.watches.delete(stopped));
    if (w.active) this.watches.add(w);
    return w;
  }

  close(): void {
    for (const w of [...this.watches]) w.cancel();
    this.http.close();
  }
}
