/**
 * How the load generator sends: through the SDK (`Producer` of @apogee/client, the default), or,
 * as a fallback when the SDK does not work, raw `RemotingClient.invoke` with SEND_MESSAGE_V2 /
 * SEND_BATCH_MESSAGE headers (facts §2.1). The same Sender drives the echo ceiling and Apogee, so
 * both sides pay the same client cost.
 */
import { Producer } from '@apogee/client';
import { encodeBatchBody, encodeProperties, DEFAULT_TOPIC } from '@apogee/message';
import { RemotingClient, RequestCode, ResponseCode, makeRequest, type RemotingCommand } from '@apogee/remoting';
import { QUEUES } from './common.js';

export type ClientKind = 'sdk' | 'raw';

export interface Sender {
  readonly kind: ClientKind;
  /** One message; resolves when the broker acknowledged it. */
  send(body: Buffer): Promise<void>;
  /** One SEND_BATCH_MESSAGE of these bodies. */
  sendBatch(bodies: readonly Buffer[]): Promise<void>;
  close(): Promise<void>;
}

const GROUP = 'bench_producer';
const SEND_TIMEOUT_MS = 10_000;

class SdkSender implements Sender {
  readonly kind = 'sdk' as const;
  private readonly producer: Producer;

  constructor(
    nameServer: string,
    private readonly topic: string,
  ) {
    // No retries: a failed send fails the run instead of being hidden in the figure.
    this.producer = new Producer({ nameServer, group: GROUP, sendTimeoutMs: SEND_TIMEOUT_MS, retryTimes: 0, requestTimeoutMs: SEND_TIMEOUT_MS });
    this.producer.on('error', () => {});
  }

  start(): Promise<void> {
    return this.producer.start();
  }

  async send(body: Buffer): Promise<void> {
    const r = await this.producer.send({ topic: this.topic, body });
    if (r.status !== 'SEND_OK') throw new Error(`send: ${r.status}`);
  }

  async sendBatch(bodies: readonly Buffer[]): Promise<void> {
    const r = await this.producer.sendBatch(bodies.map((body) => ({ topic: this.topic, body })));
    if (r.status !== 'SEND_OK') throw new Error(`sendBatch: ${r.status}`);
  }

  close(): Promise<void> {
    return this.producer.shutdown();
  }
}

/** The raw fallback: SEND_MESSAGE_V2 (310) / SEND_BATCH_MESSAGE (320) straight to the broker address. */
class RawSender implements Sender {
  readonly kind = 'raw' as const;
  private readonly client = new RemotingClient({ requestTimeoutMs: SEND_TIMEOUT_MS });
  private queue = 0;
  private seq = 0;
  private readonly props: string;

  constructor(
    private readonly brokerAddr: string,
    private readonly brokerName: string,
    private readonly topic: string,
  ) {
    this.props = encodeProperties(new Map([['WAIT', 'true']]));
  }

  private header(batch: boolean, properties: string): Record<string, string> {
    return {
      a: GROUP,
      b: this.topic,
      c: DEFAULT_TOPIC,
      d: '4',
      e: String(this.queue++ % QUEUES),
      f: '0',
      g: String(Date.now()),
      h: '0',
      i: properties,
      j: '0',
      k: 'false',
      m: String(batch),
      n: this.brokerName,
    };
  }

  private uniq(): string {
    return `BENCH${process.pid.toString(16)}${(this.seq++).toString(16).padStart(12, '0')}`;
  }

  private async invoke(cmd: RemotingCommand): Promise<void> {
    const res = await this.client.invoke(this.brokerAddr, cmd, SEND_TIMEOUT_MS);
    if (res.code !== ResponseCode.SUCCESS) throw new Error(`send: response code ${res.code} ${res.remark ?? ''}`);
  }

  send(body: Buffer): Promise<void> {
    const props = encodeProperties(
      new Map([
        ['WAIT', 'true'],
        ['UNIQ_KEY', this.uniq()],
      ]),
    );
    return this.invoke(makeRequest(RequestCode.SEND_MESSAGE_V2, { extFields: this.header(false, props), body }));
  }

  sendBatch(bodies: readonly Buffer[]): Promise<void> {
    const items = bodies.map((body) => ({
      body,
      flag: 0,
      properties: encodeProperties(
        new Map([
          ['WAIT', 'true'],
          ['UNIQ_KEY', this.uniq()],
        ]),
      ),
    }));
    return this.invoke(makeRequest(RequestCode.SEND_BATCH_MESSAGE, { extFields: this.header(true, this.props), body: encodeBatchBody(items) }));
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

/** Broker name and master address of `topic`, from a GET_ROUTEINFO_BY_TOPIC to the NameServer. */
async function routeOf(nameServer: string, topic: string): Promise<{ brokerName: string; addr: string }> {
  const c = new RemotingClient();
  try {
    const res = await c.invoke(nameServer, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic } }));
    if (res.code !== ResponseCode.SUCCESS || !res.body) throw new Error(`no route for ${topic}: code ${res.code}`);
    const route = JSON.parse(res.body.toString('utf8')) as { brokerDatas: Array<{ brokerName: string; brokerAddrs: Record<string, string> }> };
    const bd = route.brokerDatas[0];
    const addr = bd?.brokerAddrs['0'];
    if (!bd || !addr) throw new Error(`route of ${topic} names no master`);
    return { brokerName: bd.brokerName, addr };
  } finally {
    c.close();
  }
}

/**
 * A started Sender. `prefer` 'sdk' tries the SDK Producer with one probe send and falls back to
 * raw sends if that fails (the reason goes to `onFallback`).
 */
export async function openSender(nameServer: string, topic: string, prefer: ClientKind, onFallback: (reason: string) => void): Promise<Sender> {
  const probe = Buffer.from('probe');
  if (prefer === 'sdk') {
    const s = new SdkSender(nameServer, topic);
    try {
      await s.start();
      await s.send(probe);
      await s.sendBatch([probe, probe]);
      return s;
    } catch (err) {
      onFallback(err instanceof Error ? err.message : String(err));
      await s.close().catch(() => {});
    }
  }
  const { brokerName, addr } = await routeOf(nameServer, topic);
  const raw = new RawSender(addr, brokerName, topic);
  await raw.send(probe);
  await raw.sendBatch([probe, probe]);
  return raw;
}
