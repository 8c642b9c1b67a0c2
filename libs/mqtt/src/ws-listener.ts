import http from 'node:http';
import type net from 'node:net';
import { listenOn } from '@apogee/broker';
import { peerHost } from '@apogee/message';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { MqttGateway } from './gateway.js';

/** How a WebSocket listener differs from plain HTTP. */
export interface WebSocketListenerOptions {
  /** The listener's name (its own connection cap; "mqtt-wss" for secure WebSocket). Default "mqtt-ws". */
  name?: string;
  /**
   * Makes the HTTP server the WebSocket upgrades arrive on (default http.createServer); an
   * https.Server for secure WebSocket. `options` carries the listener's deadlines.
   */
  createServer?: (onRequest: http.RequestListener, options: http.ServerOptions) => http.Server;
  /** The name of a connection's verified client certificate (null: none); see MqttConfig.useIdentityAsUsername. */
  certificateName?: (socket: net.Socket) => string | null;
}

/**
 * MQTT over WebSocket (MQTT 5.0 §6): binary frames on path `/mqtt` (also `/`), subprotocol
 * `mqtt` (or the old `mqttv3.1`); the byte stream goes to the same engine as TCP. The upgrade
 * request must arrive within connectTimeoutSeconds (then CONNECT within as long again, in
 * handleStream); the listener holds at most maxConnections sockets (upgraded or not) and the
 * gateway counts upgraded ones against the same cap under "mqtt-ws".
 */
export async function listenWebSocket(
  gateway: MqttGateway,
  port: number,
  host: string,
  path = '/mqtt',
  listener: WebSocketListenerOptions = {},
): Promise<{ addr: string; close: () => Promise<void> }> {
  const deadlineMs = gateway.config.connectTimeoutSeconds * 1000;
  // Node checks both timeouts every connectionsCheckingInterval (30 s by default).
  const options: http.ServerOptions = {
    headersTimeout: deadlineMs,
    requestTimeout: deadlineMs,
    keepAliveTimeout: deadlineMs,
    connectionsCheckingInterval: Math.min(1000, deadlineMs),
  };
  const onRequest: http.RequestListener = (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with a WebSocket client to /mqtt\n');
  };
  const server = listener.createServer ? listener.createServer(onRequest, options) : http.createServer(options, onRequest);
  if (gateway.config.maxConnections > 0) server.maxConnections = gateway.config.maxConnections;
  const wss = new WebSocketServer({
    server,
    maxPayload: gateway.config.maxPacketSize + 16,
    handleProtocols: (protocols) => {
      for (const p of ['mqtt', 'mqttv3.1']) if (protocols.has(p)) return p;
      return false;
    },
    verifyClient: (info: { req: http.IncomingMessage }) => {
      const url = info.req.url ?? '/';
      const p = url.split('?')[0];
      return p === path || p === '/';
    },
  });
  wss.on('connection', (ws, req) => {
    const stream = createWebSocketStream(ws);
    const sock = req.socket as net.Socket;
    const remote = `ws:${sock.remoteAddress}:${sock.remotePort}`;
    gateway.handleStream(stream, remote, peerHost(sock.remoteAddress, sock.remotePort), {
      listener: listener.name ?? 'mqtt-ws',
      certificateName: listener.certificateName?.(sock),
    });
  });
  const addr = await listenOn(server, port, host);
  return {
    addr,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => server.close(() => resolve()));
      }),
  };
}
