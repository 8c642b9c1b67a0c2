import { IllegalMessageError } from './errors.js';
import { decodeHost, type HostAddress } from './host.js';
import { readInt64BE, writeInt64BE } from './int64.js';

/**
 * Offset message id: uppercase hex of the store host (IPv4 4 B + port int, or IPv6 16 B + port)
 * followed by the 8-byte commit-log offset — 32 characters for IPv4, 56 for IPv6.
 */
export function createOffsetMessageId(storeHost: Buffer, commitLogOffset: number): string {
  const buf = Buffer.allocUnsafe(storeHost.length + 8);
  storeHost.copy(buf, 0);
  writeInt64BE(buf, commitLogOffset, storeHost.length);
  return buf.toString('hex').toUpperCase();
}

export interface OffsetMessageId {
  storeHost: HostAddress;
  commitLogOffset: number;
}

/** Parses an offset message id; throws IllegalMessageError when it is not one. */
export function decodeOffsetMessageId(id: string): OffsetMessageId {
  if ((id.length !== 32 && id.length !== 56) || !/^[0-9A-Fa-f]+$/.test(id)) {
    throw new IllegalMessageError(`not an offset message id (32 or 56 hex characters): ${JSON.stringify(id)}`);
  }
  const buf = Buffer.from(id, 'hex');
  const v6 = buf.length === 28;
  return { storeHost: decodeHost(buf, 0, v6), commitLogOffset: readInt64BE(buf, v6 ? 20 : 8) };
}

/**
 * Generates client unique ids (UNIQ_KEY) in RocketMQ's MessageClientIDSetter layout: hex of
 * IP (4 or 16 B) + pid (2 B) + an instance hash (4 B) + ms since the start of the current month,
 * local time (4 B) + a counter (2 B). 32 characters for IPv4.
 */
export class UniqueIdGenerator {
  private readonly fixed: string;
  private counter = 0;
  private monthStart = 0;
  private nextMonthStart = 0;

  constructor(ip: Buffer = Buffer.from([127, 0, 0, 1]), pid: number = process.pid, instanceHash: number = (Math.random() * 0x7fffffff) | 0) {
    if (ip.length !== 4 && ip.length !== 16) throw new IllegalMessageError('unique id IP must be 4 or 16 bytes');
    const fixed = Buffer.allocUnsafe(ip.length + 6);
    ip.copy(fixed, 0);
    fixed.writeUInt16BE(pid & 0xffff, ip.length);
    fixed.writeInt32BE(instanceHash | 0, ip.length + 2);
    this.fixed = fixed.toString('hex').toUpperCase();
  }

  next(now: number = Date.now()): string {
    if (now >= this.nextMonthStart) this.setMonth(now);
    let diff = now - this.monthStart;
    if (diff < 0) diff = 0;
    const tail = Buffer.allocUnsafe(6);
    tail.writeInt32BE(diff | 0, 0);
    tail.writeUInt16BE(this.counter, 4);
    this.counter = (this.counter + 1) & 0xffff;
    return this.fixed + tail.toString('hex').toUpperCase();
  }

  private setMonth(now: number): void {
    const d = new Date(now);
    this.monthStart = new Date(d.getFullYear(), d.getMonth(), 1).getTime();
    this.nextMonthStart = new Date(d.getFullYear(), d.getMonth() + 1, 1).getTime();
  }
}
