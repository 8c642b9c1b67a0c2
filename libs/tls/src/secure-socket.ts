import type net from 'node:net';
import tls from 'node:tls';
import type { ServerTlsContext } from './server-context.js';

/**
 * A TLS server that never listens: accepted sockets are handed to it (remoting permissive or
 * enforcing mode, AMQP's TLS protocol header, after some bytes were read) and it runs the server
 * side of the handshake with the current certificate, the client-certificate mode and the
 * handshake deadline, exactly as a listening tls.Server would. `serve` gets each TLS socket once
 * the handshake is done; a failed handshake (timeout, wrong CA, no certificate when required)
 * destroys the socket and is reported to `onFail`.
 */
export function tlsHandOff(
  ctx: ServerTlsContext,
  listener: string,
  serve: (secure: tls.TLSSocket) => void,
  onFail?: (socket: tls.TLSSocket, reason: string) => void,
): (socket: net.Socket) => void {
  const server = ctx.track(tls.createServer(ctx.serverOptions(), serve), listener);
  if (onFail) server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => onFail(socket, err.message));
  return (socket) => {
    // The raw socket's handle now belongs to the TLS socket; its errors surface there.
    socket.on('error', () => {});
    server.emit('connection', socket);
  };
}
