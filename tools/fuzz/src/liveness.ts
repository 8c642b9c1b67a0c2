import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import mqtt from 'mqtt';
import rhea from 'rhea';
import type { ServerPorts } from './server.js';

const TIMEOUT_MS = 15_000;

function within<T>(what: string, p: Promise<T>): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`${what}: no answer within ${TIMEOUT_MS / 1000} s`)), TIMEOUT_MS);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(t));
}

async function remoting(ports: ServerPorts): Promise<void> {
  const c = new RemotingClient({ requestTimeoutMs: TIMEOUT_MS });
  try {
    const ns = await c.invoke(`127.0.0.1:${ports.namesrvPort}`, makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
    if (ns.code !== ResponseCode.SUCCESS) throw new Error(`NameServer: cluster info answered ${ns.code} ${ns.remark ?? ''}`);
    const br = await c.invoke(`127.0.0.1:${ports.brokerPort}`, makeRequest(RequestCode.GET_BROKER_RUNTIME_INFO));
    if (br.code !== ResponseCode.SUCCESS) throw new Error(`broker: runtime info answered ${br.code} ${br.remark ?? ''}`);
  } finally {
    c.close();
  }
}

async function mqttRoundTrip(url: string, tag: string): Promise<void> {
  const c = await mqtt.connectAsync(url, { clientId: `fuzz-live-${tag}`, reconnectPeriod: 0, connectTimeout: TIMEOUT_MS });
  try {
    const got = new Promise<string>((resolve) => c.on('message', (_t, p) => resolve(p.toString())));
    await c.subscribeAsync(`fuzz-live/${tag}`, { qos: 1 });
    await c.publishAsync(`fuzz-live/${tag}`, 'alive', { qos: 1 });
    if ((await got) !== 'alive') throw new Error(`${url}: the round trip returned something else`);
  } finally {
    await c.endAsync(true);
  }
}

function amqpRoundTrip(port: number, queue: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = rhea.create_container({ id: `fuzz-live-${queue}` }).connect({ host: '127.0.0.1', port, reconnect: false });
    conn.on('error', (e) => reject(e as Error));
    conn.on('disconnected', (ctx) => reject(new Error(`AMQP: disconnected (${String(ctx.error ?? 'no error')})`)));
    conn.open_receiver(queue).on('message', (ctx) => {
      if (String(ctx.message?.body) === 'alive') resolve();
      else reject(new Error('AMQP: the round trip returned something else'));
      conn.close();
    });
    conn.open_sender(queue).on('sendable', (ctx) => {
      ctx.sender?.send({ body: 'alive' });
      ctx.sender?.close();
    });
  });
}

/**
 * A round trip on every endpoint of the server: NameServer and broker (remoting), MQTT over TCP
 * and WebSocket, AMQP and HTTP. Rejects naming the endpoint that did not answer.
 */
export async function everyEndpointAnswers(ports: ServerPorts, tag: string): Promise<void> {
  await within('remoting', remoting(ports));
  await within('MQTT', mqttRoundTrip(`mqtt://127.0.0.1:${ports.mqttPort}`, `${tag}-tcp`));
  await within('MQTT over WebSocket', mqttRoundTrip(`ws://127.0.0.1:${ports.mqttWsPort}/mqtt`, `${tag}-ws`));
  await within('AMQP', amqpRoundTrip(ports.amqpPort, `fuzz-live-${tag}`));
  const res = await within('HTTP', fetch(`http://127.0.0.1:${ports.httpPort}/health`));
  if (res.status !== 200) throw new Error(`HTTP: /health answered ${res.status}`);
}
