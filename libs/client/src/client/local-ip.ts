import os from 'node:os';

/** First non-internal IPv4 address of this host, else 127.0.0.1 (Java RemotingUtil.getLocalAddress). */
export function localIPv4(): string {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

export function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map((p) => Number(p) & 0xff));
}
