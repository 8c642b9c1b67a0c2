import net from 'node:net';
import os from 'node:os';

/**
 * The IP the broker tells clients to connect to. A wrong one is RocketMQ users' classic
 * "No route info" trap, so it is explicit when set, else the listen address, else (when listening
 * on all interfaces) the first external IPv4 address.
 */
export function advertisedIp(brokerIp: string, listenHost: string): string {
  if (brokerIp) {
    if (net.isIPv4(brokerIp)) return brokerIp;
    throw new Error(`--broker-ip must be an IPv4 address (RocketMQ 4.x clients decode only IPv4 store hosts), got ${JSON.stringify(brokerIp)}`);
  }
  if (net.isIPv4(listenHost) && listenHost !== '0.0.0.0') return listenHost;
  if (listenHost === 'localhost' || listenHost === '::1') return '127.0.0.1';
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** A free TCP port on `host` (for "--broker-port 0": the store host must know the port before the broker listens). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}
