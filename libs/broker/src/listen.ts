import type net from 'node:net';

/**
 * Starts `server` listening on host:port (0 = any free port) and resolves to the bound
 * "host:port"; rejects with the listen error (EADDRINUSE, EACCES). The endpoints' listeners
 * (MQTT TCP and WebSocket, AMQP) all start this way.
 */
export function listenOn(server: net.Server, port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const a = server.address() as net.AddressInfo;
      resolve(`${a.address}:${a.port}`);
    });
  });
}
