/**
 * The optional MQTT workload (`--mqtt`), with mqtt.js at QoS 1 against the topology's MQTT
 * endpoint: a publisher (clean session, reconnecting) publishing `chaos/<rid>` at a bounded rate,
 * each message carrying its sequence number, an outcome per message (acked = PUBACK within the
 * timeout); a subscriber with a persistent session (clean = false) recording every delivery.
 * Its figures come from the same checker as the remoting workload's: lost = PUBACKed, never
 * delivered; duplicated = delivered more than once.
 */
import mqtt, { type MqttClient } from 'mqtt';
import { sleep } from './sh.js';
import type { Receipt, SendRecord } from './workload.js';

export interface MqttWorkloadOptions {
  url: string;
  rid: string;
  /** Publishes per second. */
  rate: number;
  /** A publish without PUBACK after this long counts as timed out. */
  timeoutMs: number;
  messageSize: number;
  now: () => number;
}

const PAYLOAD_RE = /^m-([0-9a-z]+)-(\d+)\|/;

function connect(url: string, clientId: string, clean: boolean): Promise<MqttClient> {
  return new Promise((resolve, reject) => {
    const c = mqtt.connect(url, { clientId, clean, protocolVersion: 4, keepalive: 10, reconnectPeriod: 500, connectTimeout: 3000 });
    const t = setTimeout(() => {
      c.end(true);
      reject(new Error(`MQTT ${clientId}: no CONNACK from ${url} within 10 s`));
    }, 10_000);
    c.once('connect', () => {
      clearTimeout(t);
      resolve(c);
    });
    // Errors while the broker is down are the point of the run; mqtt.js reconnects by itself.
    c.on('error', () => {});
  });
}

export class MqttWorkload {
  readonly sends: SendRecord[] = [];
  readonly receipts: Receipt[] = [];
  lateSettled = 0;
  throttled = 0;
  private pub: MqttClient | undefined;
  private sub: MqttClient | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly topic: string;

  constructor(private readonly o: MqttWorkloadOptions) {
    this.topic = `chaos/${o.rid}`;
  }

  async start(): Promise<void> {
    this.sub = await connect(this.o.url, `chaos-s-${this.o.rid}`, false);
    this.sub.on('message', (_topic, payload) => {
      const m = PAYLOAD_RE.exec(payload.toString('latin1', 0, 64));
      this.receipts.push({
        seq: m ? Number(m[2]) : -1,
        rid: m ? m[1]! : '',
        broker: 'mqtt',
        queueId: 0,
        // Every delivery is a position of its own: a message delivered twice is a duplicate.
        queueOffset: this.receipts.length,
        atMs: this.o.now(),
      });
    });
    await this.sub.subscribeAsync(this.topic, { qos: 1 });
    this.pub = await connect(this.o.url, `chaos-p-${this.o.rid}`, true);
  }

  async produce(untilMs: number, stop: () => boolean): Promise<void> {
    const maxInFlight = Math.min(5000, Math.max(50, Math.ceil((this.o.rate * this.o.timeoutMs) / 1000)));
    const begin = this.o.now();
    let slots = 0;
    while (!stop()) {
      const now = this.o.now();
      if (now >= untilMs) break;
      const due = Math.floor(((now - begin) * this.o.rate) / 1000) + 1;
      for (; slots < due; slots++) {
        if (this.inFlight.size >= maxInFlight) this.throttled++;
        else this.publishOne();
      }
      await sleep(5);
    }
  }

  private publishOne(): void {
    const seq = this.sends.length;
    const rec: SendRecord = { seq, startMs: this.o.now(), endMs: -1, outcome: 'pending' };
    this.sends.push(rec);
    const settle = (outcome: 'acked' | 'failed' | 'timeout', error?: string): void => {
      if (rec.outcome !== 'pending') {
        this.lateSettled++;
        return;
      }
      rec.outcome = outcome;
      rec.endMs = this.o.now();
      if (outcome === 'acked') rec.broker = 'mqtt';
      if (error !== undefined) rec.error = error;
    };
    const done = new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        settle('timeout', `no PUBACK within ${this.o.timeoutMs} ms`);
        resolve();
      }, this.o.timeoutMs);
      this.pub!.publish(this.topic, `m-${this.o.rid}-${seq}|`.padEnd(this.o.messageSize, 'x'), { qos: 1 }, (err) => {
        clearTimeout(timer);
        if (err) settle('failed', err.message.slice(0, 200));
        else settle('acked');
        resolve();
      });
    }).finally(() => this.inFlight.delete(done));
    this.inFlight.add(done);
  }

  /** Waits for the publishes in flight (each bounded by the timeout). */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /** Waits until every acked message was delivered, or nothing new came for 5 s, at most `maxMs`. */
  async drain(maxMs: number): Promise<boolean> {
    const deadline = this.o.now() + maxMs;
    let last = this.receipts.length;
    let quietSince = this.o.now();
    while (this.o.now() < deadline) {
      const seen = new Set(this.receipts.map((r) => r.seq));
      if (this.sends.every((s) => s.outcome !== 'acked' || seen.has(s.seq))) return true;
      if (this.receipts.length !== last) {
        last = this.receipts.length;
        quietSince = this.o.now();
      } else if (this.o.now() - quietSince > 5000) return false;
      await sleep(250);
    }
    return false;
  }

  async close(): Promise<void> {
    for (const c of [this.pub, this.sub]) c?.end(true);
  }
}
