import mqtt from 'mqtt';
import { WebSocket } from 'ws';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listenWebSocket } from '../src/index.js';
import { MqttHarness, eventually, inbox } from './harness.js';

let h: MqttHarness;
let ws: { addr: string; close: () => Promise<void> };
beforeEach(async () => {
  h = await MqttHarness.start();
  ws = await listenWebSocket(h.gateway, 0, '127.0.0.1');
});
afterEach(async () => {
  await ws.close();
  await h.close();
});

describe('MQTT over WebSocket (/mqtt)', () => {
  for (const protocolVersion of [4, 5] as const) {
    it(`v${protocolVersion}: a WebSocket client and a TCP client exchange messages both ways`, async () => {
      const wsClient = await mqtt.connectAsync(`ws://${ws.addr}/mqtt`, { protocolVersion, reconnectPeriod: 0 });
      try {
        const tcp = await h.connect({ protocolVersion });
        const fromTcp = inbox(wsClient);
        const fromWs = inbox(tcp);
        await wsClient.subscribeAsync('ws/in', { qos: 1 });
        await tcp.subscribeAsync('ws/out', { qos: 1 });
        await tcp.publishAsync('ws/in', 'tcp→ws', { qos: 1 });
        await wsClient.publishAsync('ws/out', 'ws→tcp', { qos: 1 });
        await eventually(() => fromTcp.length === 1 && fromWs.length === 1, 'both deliveries');
        expect(fromTcp[0]!.payload).toBe('tcp→ws');
        expect(fromWs[0]!.payload).toBe('ws→tcp');
      } finally {
        await wsClient.endAsync();
      }
    });
  }

  it('refuses other paths and non-MQTT subprotocols at the handshake', async () => {
    const attempt = (path: string, protocol: string) =>
      new Promise<string>((resolve) => {
        const c = new WebSocket(`ws://${ws.addr}${path}`, protocol);
        c.once('open', () => {
          c.close();
          resolve('open');
        });
        c.once('unexpected-response', (_req, res) => resolve(`http ${res.statusCode}`));
        c.once('error', (err) => resolve(`error ${err.message}`));
      });
    expect(await attempt('/elsewhere', 'mqtt')).toMatch(/^http 401|^error/);
    expect(await attempt('/mqtt', 'chat')).toMatch(/^error|^http/);
    expect(await attempt('/mqtt', 'mqtt')).toBe('open');
  });
});
