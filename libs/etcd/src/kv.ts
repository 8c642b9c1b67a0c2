// The key-value calls: range, put, delete and txn (etcd's KV service through /v3/kv/*).
import { type Bytes, type KeyValue, type LeaseId, type Reader, type ResponseHeader, b64, prefixEnd, readHeader, readKeyValue } from './codec.js';
import type { CallOptions, HttpTransport } from './transport.js';

export interface RangeOptions extends CallOptions {
  /** Every key that starts with `key`. */
  readonly prefix?: boolean;
  readonly limit?: number;
  /** Read at this revision (0 = the newest). */
  readonly revision?: number;
  /** Only the count (and the header), no key-values. */
  readonly countOnly?: boolean;
}

export interface RangeResult {
  readonly header: ResponseHeader;
  readonly kvs: KeyValue[];
  readonly count: number;
  readonly more: boolean;
}

export interface PutOptions extends CallOptions {
  readonly lease?: LeaseId;
  /** Answer with the key-value the put replaced. */
  readonly prevKv?: boolean;
}

export interface PutResult {
  readonly header: ResponseHeader;
  readonly prevKv: KeyValue | null;
}

export interface DeleteOptions extends CallOptions {
  readonly prefix?: boolean;
  readonly prevKv?: boolean;
}

export interface DeleteResult {
  readonly header: ResponseHeader;
  readonly deleted: number;
  readonly prevKvs: KeyValue[];
}

/** One compare of a txn. `target` says which number (or the value) of `key` is compared with what;
 * a key that does not exist has version, create and mod revision 0 and fails every VALUE compare. */
export type Compare = { readonly key: Bytes; readonly result?: CompareResult } & (
  | { readonly target: 'VERSION'; readonly version: number }
  | { readonly target: 'CREATE'; readonly createRevision: number }
  | { readonly target: 'MOD'; readonly modRevision: number }
  | { readonly target: 'VALUE'; readonly value: Bytes }
  | { readonly target: 'LEASE'; readonly lease: LeaseId }
);

export type CompareResult = 'EQUAL' | 'GREATER' | 'LESS' | 'NOT_EQUAL';

export type TxnOp =
  | { readonly put: { readonly key: Bytes; readonly value: Bytes; readonly lease?: LeaseId } }
  | { readonly delete: { readonly key: Bytes; readonly prefix?: boolean } }
  | { readonly range: { readonly key: Bytes; readonly prefix?: boolean } };

export interface Txn {
  readonly compare: readonly Compare[];
  readonly success?: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

/** One answer per op of the branch that ran, in order. */
export type TxnOpResult =
  | { readonly kind: 'put' }
  | { readonly kind: 'delete'; readonly deleted: number }
  | { readonly kind: 'range'; readonly kvs: KeyValue[]; readonly count: number };

export interface TxnResult {
  readonly header: ResponseHeader;
  readonly succeeded: boolean;
  readonly responses: TxnOpResult[];
}

export class KvApi {
  constructor(private readonly http: HttpTransport) {}

  async range(key: Bytes, options: RangeOptions = {}): Promise<RangeResult> {
    const body = rangeRequest(key, options.prefix);
    if (options.limit) body['limit'] = options.limit;
    if (options.revision) body['revision'] = options.revision;
    if (options.countOnly) body['count_only'] = true;
    const r = await this.http.call('/v3/kv/range', body, options);
    return { header: readHeader(r), ...readRange(r) };
  }

  /** The one key-value at `key`, or null. */
  async get(key: Bytes, options: CallOptions = {}): Promise<KeyValue | null> {
    return (await this.range(key, options)).kvs[0] ?? null;
  }

  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<PutResult> {
    const body: Record<string, unknown> = { key: b64(key), value: b64(value) };
    if (options.lease && options.lease !== '0') body['lease'] = options.lease;
    if (options.prevKv) body['prev_kv'] = true;
    const r = await this.http.call('/v3/kv/put', body, options);
    return { header: readHeader(r), prevKv: r.has('prev_kv') ? readKeyValue(r.child('prev_kv')) : null };
  }

  async delete(key: Bytes, options: DeleteOptions = {}): Promise<DeleteResult> {
    const body = rangeRequest(key, options.prefix);
    if (options.prevKv) body['prev_kv'] = true;
    const r = await this.http.call('/v3/kv/deleterange', body, options);
    return { header: readHeader(r), deleted: r.int('deleted'), prevKvs: r.items('prev_kvs').map(readKeyValue) };
  }

  async txn(txn: Txn, options: CallOptions = {}): Promise<TxnResult> {
    const body = {
      compare: txn.compare.map(compareRequest),
      success: (txn.success ?? []).map(opRequest),
      failure: (txn.failure ?? []).map(opRequest),
    };
    const r = await this.http.call('/v3/kv/txn', body, options);
    return { header: readHeader(r), succeeded: r.bool('succeeded'), responses: r.items('responses').map(readOpResult) };
  }

  /** Drops the history before `revision` (watches from older revisions then fail as compacted). */
  async compact(revision: number, options: CallOptions = {}): Promise<ResponseHeader> {
    return readHeader(await this.http.call('/v3/kv/compaction', { revision, physical: true }, options));
  }
}

function rangeRequest(key: Bytes, prefix: boolean | undefined): Record<string, unknown> {
  const body: Record<string, unknown> = { key: b64(key) };
  if (prefix) body['range_end'] = b64(prefixEnd(key));
  return body;
}

function readRange(r: Reader): { kvs: KeyValue[]; count: number; more: boolean } {
  return { kvs: r.items('kvs').map(readKeyValue), count: r.int('count'), more: r.bool('more') };
}

function compareRequest(c: Compare): Record<string, unknown> {
  const out: Record<string, unknown> = { key: b64(c.key), target: c.target, result: c.result ?? 'EQUAL' };
  switch (c.target) {
    case 'VERSION':
      out['version'] = c.version;
      break;
    case 'CREATE':
      out['create_revision'] = c.createRevision;
      break;
    case 'MOD':
      out['mod_revision'] = c.modRevision;
      break;
    case 'VALUE':
      out['value'] = b64(c.value);
      break;
    case 'LEASE':
      out['lease'] = c.lease;
      break;
  }
  return out;
}

function opRequest(op: TxnOp): Record<string, unknown> {
  if ('put' in op) {
    const put: Record<string, unknown> = { key: b64(op.put.key), value: b64(op.put.value) };
    if (op.put.lease && op.put.lease !== '0') put['lease'] = op.put.lease;
    return { request_put: put };
  }
  if ('delete' in op) return { request_delete_range: rangeRequest(op.delete.key, op.delete.prefix) };
  return { request_range: rangeRequest(op.range.key, op.range.prefix) };
}

function readOpResult(r: Reader): TxnOpResult {
  if (r.has('response_put')) return { kind: 'put' };
  if (r.has('response_delete_range')) return { kind: 'delete', deleted: r.child('response_delete_range').int('deleted') };
  if (r.has('response_range')) return { kind: 'range', ...readRange(r.child('response_range')) };
  // A nested txn answer (we send none) or a shape we do not know.
  return { kind: 'put' };
}
