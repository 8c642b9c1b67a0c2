import http from 'node:http';
import type net from 'node:net';
import { listenOn } from '@apogee/broker';
import { peerHost } from '@apogee/message';
import { WebSocketServer, createWebSocketStream } from 'ws';
import type { MqttGateway } from './gateway.js';

/**
 * MQTT over WebSocket (MQTT 5.0 §6): binary frames on path `/mqtt` (also `/`), subprotocol
 * `mqtt` (or the old `mqttv3.1`); the byte stream goes to the same engine as TCP. The upgrade
 * request must arrive within connectTimeoutSeconds (then CONNECT within as long again, in
 * handleStream); the listener holds at most maxConnections sockets (upgraded or not) and the
 * gateway counts upgraded ones against the same cap under "mqtt-ws".
 */
export async function listenWebSocket(gateway: MqttGateway, port: number, host: string, path = '/mqtt'): Promise<{ addr: string; close: () => Promise<void> }> {
  const deadlineMs = gateway.config.connectTimeoutSeconds * 1000;
  const server = http.createServer(
    // Node checks both timeouts every connectionsCheckingInterval (30 s by default).
    { headersTimeout: deadlineMs, requestTimeout: deadlineMs, keepAliveTimeout: deadlineMs, connectionsCheckingInterval: Math.min(1000, deadlineMs) },
    (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket: connect with a WebSocket client to /mqtt\n');
    },
  );
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
    gateway.handleStream(stream, remote, peerHost(sock.remoteAddress, sock.remotePort), 'mqtt-ws');
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
