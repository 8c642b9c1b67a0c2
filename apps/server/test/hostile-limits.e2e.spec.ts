/**
 * Issue 13, item 1 against a real server process: a maximum of connections per listener (the one
 * past it closed at once, counted in apogee_connections_refused_total) and a first-frame and idle
 * deadline on every port (NameServer, broker, MQTT over TCP and WebSocket, AMQP, HTTP).
 */
import fs from 'node:fs';
import type net from 'node:net';
import path from 'node:path';
import { RequestCode, makeRequest } from '@apogee/remoting';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closedByServer, everyEndpointAnswers, metric, openSocket, writeConfig } from './hostile-helpers.js';
import { RawRemoting } from './raw-remoting.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const LIMIT = 3;
const dirs: string[] = [];
afterAll(async () => {
  await killAllStarted();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function startWith(config: object): Promise<ServerProcess> {
  const dir = tempDataDir('apg-limits-');
  dirs.push(dir);
  return ServerProcess.start(dir, undefined, ['--config', writeConfig(path.join(dir, 'config.json'), config)]);
}

describe('connections per listener', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startWith({
      remoting: { maxConnections: LIMIT },
      mqtt: { maxConnections: LIMIT },
      amqp: { maxConnections: LIMIT },
      http: { maxConnections: LIMIT },
    });
  });

  const listeners: Array<[string, (s: ServerProcess) => number, string | null]> = [
    ['NameServer', (s) => s.ports.namesrvPort, 'namesrv'],
    ['broker', (s) => s.ports.brokerPort, 'broker'],
    ['MQTT', (s) => s.ports.mqttPort, 'mqtt'],
    ['MQTT WebSocket', (s) => s.ports.mqttWsPort, null],
    ['AMQP', (s) => s.ports.amqpPort, 'amqp'],
    ['HTTP', (s) => s.ports.httpPort, 'http'],
  ];
  for (const [name, port, label] of listeners) {
    it(`${name}: past ${LIMIT} open connections a new one is closed at once; once they go, connections are served again`, async () => {
      // The broker's own connection to the NameServer counts there too: open until one is refused.
      const held: net.Socket[] = [];
      let refused: net.Socket | null = null;
      for (let i = 0; i <= LIMIT && !refused; i++) {
        const s = await openSocket(port(server));
        const closed = await Promise.race([closedByServer(s).then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 500))]);
        if (closed) refused = s;
        else held.push(s);
      }
      expect(refused).not.toBeNull();
      expect(held.length).toBeLessThanOrEqual(LIMIT);
      for (const s of held) s.destroy();
      await new Promise((r) => setTimeout(r, 300));
      if (label) expect(await metric(server, `apogee_connections_refused_total{listener="${label}"}`)).toBeGreaterThanOrEqual(1);
      await everyEndpointAnswers(server, `cap-${name.replace(/\W/g, '')}`);
    });
  }

  it('the refusals are warned about, rate-limited, naming the listener and its maximum', () => {
    const lines = server.logs().filter((l) => String(l['msg']).includes('connection refused') && l['limit'] === LIMIT);
    expect(new Set(lines.map((l) => l['listener']))).toEqual(new Set(['namesrv', 'broker', 'mqtt', 'amqp', 'http']));
  });
});

describe('first-frame and idle deadlines on every port', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startWith({
      remoting: { firstFrameTimeoutSeconds: 1, idleTimeoutSeconds: 2 },
      mqtt: { connectTimeoutSeconds: 1, idleTimeoutSeconds: 2 },
      amqp: { openTimeoutSeconds: 1 },
      http: { headersTimeoutSeconds: 1, requestTimeoutSeconds: 2, keepAliveTimeoutSeconds: 1 },
    });
  });

  const silentPorts: Array<[string, (s: ServerProcess) => number]> = [
    ['NameServer', (s) => s.ports.namesrvPort],
    ['broker', (s) => s.ports.brokerPort],
    ['MQTT', (s) => s.ports.mqttPort],
    ['MQTT WebSocket (no upgrade request)', (s) => s.ports.mqttWsPort],
    ['AMQP', (s) => s.ports.amqpPort],
    ['HTTP', (s) => s.ports.httpPort],
  ];
  for (const [name, port] of silentPorts) {
    it(`${name}: a connection that sends nothing is closed`, async () => {
      await closedByServer(await openSocket(port(server)));
    });
  }

  it('HTTP: a request whose headers never end is closed; an idle keep-alive connection is closed after its timeout', async () => {
    const partial = await openSocket(server.ports.httpPort);
    partial.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
    await closedByServer(partial);
    const kept = await openSocket(server.ports.httpPort);
    kept.write('GET /health HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n');
    expect((await closedByServer(kept)).toString()).toMatch(/^HTTP\/1.1 200/);
  });

  it('MQTT WebSocket: an upgrade followed by no CONNECT is closed', async () => {
    const s = await openSocket(server.ports.mqttWsPort);
    s.write(
      'GET /mqtt HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n',
    );
    expect((await closedByServer(s)).toString()).toMatch(/^HTTP\/1.1 101/);
  });

  it('MQTT: a client with keep alive 0 (none) that goes silent is closed after idleTimeoutSeconds', async () => {
    const c = await mqtt.connectAsync(server.mqttUrl, { clientId: 'idle-ka0', keepalive: 0, reconnectPeriod: 0 });
    await new Promise<void>((resolve) => c.once('close', () => resolve()));
    c.end(true);
  });

  it('remoting: a connection idle after its first request is closed after idleTimeoutSeconds', async () => {
    const raw = await RawRemoting.connect(server.brokerAddr);
    await raw.request(makeRequest(RequestCode.GET_BROKER_RUNTIME_INFO));
    await closedByServer(raw.socket);
  });

  it('every endpoint still answers', async () => {
    await everyEndpointAnswers(server, 'deadlines');
  });
});
