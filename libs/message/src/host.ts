import net from 'node:net';
import { IllegalMessageError } from './errors.js';

/** A socket address as stored in a record: IPv4 (4 B) or IPv6 (16 B) followed by an int port. */
export interface HostAddress {
  readonly address: string;
  readonly port: number;
}

/**
 * A connected peer as a record's born host: IPv4 where it can be (`::ffff:a.b.c.d` → `a.b.c.d`,
 * `::1` → `127.0.0.1`), since 4.x clients decode only IPv4 hosts. Unknown address → loopback.
 */
export function peerHost(address: string | undefined, port: number | undefined): HostAddress {
  let a = address ?? '127.0.0.1';
  if (a.startsWith('::ffff:') && a.includes('.')) a = a.slice(7);
  else if (a === '::1') a = '127.0.0.1';
  return { address: a, port: port ?? 0 };
}

/**
 * Encodes a host as RocketMQ stores it: 8 bytes for IPv4, 20 for IPv6. IPv4-mapped IPv6 addresses
 * (`::ffff:1.2.3.4`) are stored as IPv4, so 4.x clients that only read IPv4 hosts can decode them.
 */
export function encodeHost(host: HostAddress): Buffer {
  const addr = host.address;
  if (net.isIPv4(addr)) {
    const out = Buffer.allocUnsafe(8);
    const parts = addr.split('.');
    for (let i = 0; i < 4; i++) out[i] = Number(parts[i]);
    out.writeInt32BE(host.port | 0, 4);
    return out;
  }
  if (net.isIPv6(addr)) {
    const out = Buffer.allocUnsafe(20);
    ipv6ToBytes(addr, out);
    out.writeInt32BE(host.port | 0, 16);
    // ::ffff:a.b.c.d in any spelling (::FFFF:…, hex groups, uncompressed zeros) is stored as IPv4.
    if (isV4Mapped(out)) return out.subarray(12);
    return out;
  }
  throw new IllegalMessageError(`host address is neither IPv4 nor IPv6: ${JSON.stringify(host.address)}`);
}

function isV4Mapped(v6: Buffer): boolean {
  for (let i = 0; i < 10; i++) if (v6[i] !== 0) return false;
  return v6[10] === 0xff && v6[11] === 0xff;
}

/** Decodes 8 (IPv4) or 20 (IPv6) bytes at `offset`. */
export function decodeHost(buf: Buffer, offset: number, ipv6: boolean): HostAddress {
  if (!ipv6) {
    return {
      address: `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`,
      port: buf.readInt32BE(offset + 4),
    };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(buf.readUInt16BE(offset + i).toString(16));
  return { address: groups.join(':'), port: buf.readInt32BE(offset + 16) };
}

/** Formats a host as `ip:port` (IPv6 in brackets). */
export function formatHost(host: HostAddress): string {
  return host.address.includes(':') ? `[${host.address}]:${host.port}` : `${host.address}:${host.port}`;
}

function ipv6ToBytes(addr: string, out: Buffer): void {
  let text = addr;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  // A trailing dotted IPv4 part becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const p = tail.split('.').map(Number);
    text = `${text.slice(0, lastColon + 1)}${((p[0]! << 8) | p[1]!).toString(16)}:${((p[2]! << 8) | p[3]!).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest !== undefined && rest.length > 0 ? rest.split(':') : [];
  const zeros = 8 - headGroups.length - restGroups.length;
  const groups = rest === undefined ? headGroups : [...headGroups, ...new Array<string>(zeros).fill('0'), ...restGroups];
  for (let i = 0; i < 8; i++) out.writeUInt16BE(parseInt(groups[i] ?? '0', 16), i * 2);
}
