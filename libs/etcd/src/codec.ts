// The gateway's JSON as typed values. etcd's protobuf messages go through grpc-gateway's JSON
// marshaller: bytes as base64, int64 as decimal strings, snake_case field names on output (camelCase
// or snake_case accepted on input), and fields at their zero value left out — so an absent number is
// 0, an absent enum is its first value (PUT, EQUAL), an absent list is empty.
import { EtcdProtocolError } from './errors.js';

/** A key or value as the caller gives it: strings are UTF-8. */
export type Bytes = string | Buffer;

/** Lease IDs are int64 and pass 2^53: kept as their decimal string. */
export type LeaseId = string;

export interface KeyValue {
  readonly key: Buffer;
  readonly value: Buffer;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** '0' when the key has no lease. */
  readonly lease: LeaseId;
}

export interface ResponseHeader {
  readonly revision: number;
  readonly memberId: string;
  readonly raftTerm: number;
}

export const b64 = (b: Bytes): string => (typeof b === 'string' ? Buffer.from(b, 'utf8') : b).toString('base64');

/** The key just after every key that starts with `prefix` (etcd's range_end for a prefix). */
export function prefixEnd(prefix: Bytes): Buffer {
  const end = Buffer.from(typeof prefix === 'string' ? Buffer.from(prefix, 'utf8') : prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]! += 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]); // every byte 0xff (or empty): range to the end of the keyspace
}

/** Reads fields of one answer object, naming the endpoint and the field when one is malformed. */
export class Reader {
  constructor(
    private readonly o: Record<string, unknown>,
    readonly endpoint: string,
  ) {}

  static of(v: unknown, endpoint: string, what: string): Reader {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new EtcdProtocolError(`${what} is not an object`, endpoint);
    return new Reader(v as Record<string, unknown>, endpoint);
  }

  private bad(field: string, what: string): never {
    throw new EtcdProtocolError(`field ${field}: ${what}`, this.endpoint);
  }

  has(field: string): boolean {
    return this.o[field] !== undefined && this.o[field] !== null;
  }

  int(field: string): number {
    const v = this.o[field];
    if (v === undefined || v === null) return 0;
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?[0-9]+$/.test(v) ? Number(v) : NaN;
    if (!Number.isSafeInteger(n)) this.bad(field, `not an integer: ${JSON.stringify(v).slice(0, 40)}`);
    return n;
  }

  /** An int64 kept as its decimal string (lease IDs, member IDs). */
  id(field: string): string {
    const v = this.o[field];
    if (v === undefined || v === null) return '0';
    const s = typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : v;
    if (typeof s !== 'string' || !/^-?[0-9]{1,20}$/.test(s)) this.bad(field, 'not an int64');
    return s;
  }

  bool(field: string): boolean {
    const v = this.o[field];
    if (v === undefined || v === null) return false;
    if (typeof v !== 'boolean') this.bad(field, 'not a boolean');
    return v;
  }

  str(field: string, fallback = ''): string {
    const v = this.o[field];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'string') this.bad(field, 'not a string');
    return v;
  }

  bytes(field: string): Buffer {
    const v = this.str(field);
    if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) this.bad(field, 'not base64');
    return Buffer.from(v, 'base64');
  }

  list(field: string): unknown[] {
    const v = this.o[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) this.bad(field, 'not a list');
    return v;
  }

  /** A list of objects. */
  items(field: string): Reader[] {
    return this.list(field).map((v, i) => Reader.of(v, this.endpoint, `${field}[${i}]`));
  }

  child(field: string): Reader {
    return Reader.of(this.o[field] ?? {}, this.endpoint, `field ${field}`);
  }
}

export function readHeader(r: Reader): ResponseHeader {
  const h = r.child('header');
  return { revision: h.int('revision'), memberId: h.id('member_id'), raftTerm: h.int('raft_term') };
}

export function readKeyValue(r: Reader): KeyValue {
  return {
    key: r.bytes('key'),
    value: r.bytes('value'),
    createRevision: r.int('create_revision'),
    modRevision: r.int('mod_revision'),
    version: r.int('version'),
    lease: r.id('lease'),
  };
}
