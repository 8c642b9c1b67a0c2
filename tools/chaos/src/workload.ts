/**
 * The workload, through the real remoting endpoints with @apogee/client: a producer sending at a
 * bounded rate, each message with a unique sequence key, every outcome logged with its times; a
 * consumer pulling every queue of the topic and recording every message it receives. After the
 * run: drain (the consumer catches up to the queues' max offsets, bounded) and a verification
 * read of every queue from its min offset with a fresh consumer.
 */
import { type MessageQueue, Producer, PullConsumer, type ReceivedMessage } from '@apogee/client';
import { sleep } from './sh.js';

export type SendOutcome = 'acked' | 'failed' | 'timeout';

export interface SendRecord {
  seq: number;
  /** ms since the workload's start. */
  startMs: number;
  endMs: number;
  outcome: SendOutcome | 'pending';
  /** Of an ack: where the message went. */
  broker?: string;
  queueId?: number;
  queueOffset?: number;
  error?: string;
}

export interface Receipt {
  seq: number;
  /** The run id the message carries (another run's message is "unexpected"). */
  rid: string;
  broker: string;
  queueId: number;
  queueOffset: number;
  atMs: number;
}

export interface WorkloadOptions {
  nameServer: string;
  topic: string;
  rid: string;
  /** Sends per second. */
  rate: number;
  sendTimeoutMs: number;
  retryTimes: number;
  messageSize: number;
  /** The producer's and consumer's route refresh (default 5 s). */
  routeRefreshMs?: number;
  log: (line: string) => void;
}

const KEY_RE = /^chaos-([0-9a-z]+)-(\d+)$/;

function isTimeout(err: unknown): boolean {
  for (let e: unknown = err, i = 0; e instanceof Error && i < 8; e = (e as { cause?: unknown }).cause, i++) {
    if ((e as { code?: unknown }).code === 'APG_REMOTING_TIMEOUT' || /timed? ?out/i.test(e.message)) return true;
  }
  return false;
}

function queueKey(q: MessageQueue): string {
  return `${q.brokerName}/${q.queueId}`;
}

export class Workload {
  readonly sends: SendRecord[] = [];
  readonly receipts: Receipt[] = [];
  /** Ticks the producer skipped because too many sends were in flight. */
  throttled = 0;
  /** Consumer offset jumps the broker asked for (OFFSET_ILLEGAL). */
  offsetResets = 0;
  /** Sends whose SDK promise settled after the harness had already called them timed out. */
  lateSettled = 0;
  /** The workload's clock starts here (performance.now()). */
  readonly t0 = performance.now();
  private readonly producer: Producer;
  private readonly consumer: PullConsumer;
  private readonly queues = new Map<string, { q: MessageQueue; offset: number }>();
  private readonly loops = new Map<string, Promise<void>>();
  private inFlight = new Set<Promise<void>>();
  private consuming = false;
  private discovery: Promise<void> | undefined;

  constructor(private readonly o: WorkloadOptions) {
    const common = { nameServer: o.nameServer, requestTimeoutMs: 3000, routeRefreshMs: o.routeRefreshMs ?? 5000, heartbeatMs: 10_000 };
    this.producer = new Producer({ ...common, group: `chaos-p-${o.rid}`, sendTimeoutMs: o.sendTimeoutMs, retryTimes: o.retryTimes });
    this.consumer = new PullConsumer({ ...common, group: `chaos-c-${o.rid}` });
    // Background failures (route refresh, heartbeats to a dead broker) are expected under faults.
    this.producer.on('error', () => {});
    this.consumer.on('error', () => {});
  }

  /** ms since the workload was made. */
  now(): number {
    return performance.now() - this.t0;
  }

  async start(): Promise<void> {
    await this.producer.start();
    await this.consumer.start();
    this.consuming = true;
    await this.discoverQueues();
    if (this.queues.size === 0) throw new Error(`no queues of ${this.o.topic}`);
    this.discovery = (async () => {
      while (this.consuming) {
        await sleep(2000);
        if (this.consuming) await this.discoverQueues().catch(() => {});
      }
    })();
  }

  private async discoverQueues(): Promise<void> {
    for (const q of await this.consumer.fetchSubscribeQueues(this.o.topic)) {
      const k = queueKey(q);
      if (this.queues.has(k)) continue;
      this.queues.set(k, { q, offset: 0 });
      this.loops.set(k, this.pullLoop(k));
    }
  }

  private record(m: ReceivedMessage, into: Receipt[]): void {
    const key = m.keys[0] ?? '';
    const parsed = KEY_RE.exec(key);
    into.push({
      seq: parsed ? Number(parsed[2]) : -1,
      rid: parsed ? parsed[1]! : '',
      broker: m.brokerName ?? '?',
      queueId: m.queueId,
      queueOffset: m.queueOffset,
      atMs: this.now(),
    });
  }

  private async pullLoop(k: string): Promise<void> {
    const entry = this.queues.get(k)!;
    while (this.consuming) {
      try {
        const r = await this.consumer.pull(entry.q, '*', entry.offset, 32, { suspendMs: 1000, timeoutMs: 4000 });
        if (r.status === 'FOUND') for (const m of r.messages) this.record(m, this.receipts);
        if (r.status === 'OFFSET_ILLEGAL') this.offsetResets++;
        entry.offset = r.nextBeginOffset;
      } catch {
        if (this.consuming) await sleep(300);
      }
    }
  }

  /** Sends at `rate` per second until `untilMs` (workload time) or `stop()` says so. */
  async produce(untilMs: number, stop: () => boolean): Promise<void> {
    const o = this.o;
    const maxInFlight = Math.min(5000, Math.max(50, Math.ceil((o.rate * o.sendTimeoutMs * (o.retryTimes + 1)) / 1000)));
    const guardMs = o.sendTimeoutMs * (o.retryTimes + 1) + 2000;
    const begin = this.now();
    let slots = 0;
    while (!stop()) {
      const now = this.now();
      if (now >= untilMs) break;
      const due = Math.floor(((now - begin) * o.rate) / 1000) + 1;
      for (; slots < due; slots++) {
        if (this.inFlight.size >= maxInFlight) {
          this.throttled++;
          continue;
        }
        this.sendOne(guardMs);
      }
      await sleep(5);
    }
  }

  private sendOne(guardMs: number): void {
    const seq = this.sends.length;
    const rec: SendRecord = { seq, startMs: this.now(), endMs: -1, outcome: 'pending' };
    this.sends.push(rec);
    const key = `chaos-${this.o.rid}-${seq}`;
    const body = `${key}|`.padEnd(this.o.messageSize, 'x');
    let timer: NodeJS.Timeout | undefined;
    const settle = (outcome: SendOutcome, extra: Partial<SendRecord> = {}): void => {
      if (rec.outcome !== 'pending') {
        this.lateSettled++;
        return;
      }
      Object.assign(rec, { outcome, endMs: this.now(), ...extra });
    };
    const p = this.producer.send({ topic: this.o.topic, body, keys: key }).then(
      (r) =>
        r.status === 'SEND_OK'
          ? settle('acked', { broker: r.messageQueue.brokerName, queueId: r.messageQueue.queueId, queueOffset: r.queueOffset })
          : settle('failed', { error: r.status }),
      (err: unknown) => settle(isTimeout(err) ? 'timeout' : 'failed', { error: (err as Error).message?.slice(0, 200) ?? String(err) }),
    );
    const guard = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        settle('timeout', { error: `no answer within ${guardMs} ms` });
        resolve();
      }, guardMs);
    });
    const done = Promise.race([p, guard]).finally(() => {
      clearTimeout(timer);
      this.inFlight.delete(done);
    });
    this.inFlight.add(done);
  }

  /** Waits for every send in flight to settle (each is bounded by its guard). */
  async settle(): Promise<void> {
    await Promise.all([...this.inFlight]);
  }

  /** Lets the consumer catch up to every queue's max offset, for at most `maxMs`. True when it did. */
  async drain(maxMs: number): Promise<boolean> {
    const deadline = this.now() + maxMs;
    while (this.now() < deadline) {
      await this.discoverQueues().catch(() => {});
      let behind = 0;
      for (const e of this.queues.values()) {
        try {
          if (e.offset < (await this.consumer.maxOffset(e.q))) behind++;
        } catch {
          behind++;
        }
      }
      if (behind === 0) return true;
      await sleep(500);
    }
    return false;
  }

  /** Reads every queue from its min offset with a fresh consumer (bounded): what the brokers hold now. */
  async verify(maxMs: number): Promise<{ receipts: Receipt[]; complete: boolean }> {
    const reader = new PullConsumer({
      nameServer: this.o.nameServer,
      group: `chaos-v-${this.o.rid}`,
      requestTimeoutMs: 3000,
      routeRefreshMs: this.o.routeRefreshMs ?? 5000,
    });
    reader.on('error', () => {});
    await reader.start();
    const out: Receipt[] = [];
    const deadline = this.now() + maxMs;
    let complete = true;
    try {
      for (const e of this.queues.values()) {
        let offset = 0;
        let failures = 0;
        for (let guard = 0; guard < 1_000_000; guard++) {
          if (this.now() > deadline) {
            complete = false;
            break;
          }
          try {
            const r = await reader.pull(e.q, '*', offset, 32, { timeoutMs: 4000 });
            if (r.status === 'FOUND') for (const m of r.messages) this.record(m, out);
            if (r.status !== 'FOUND' && r.nextBeginOffset <= offset) break;
            offset = r.nextBeginOffset;
          } catch {
            if (++failures > 20) {
              complete = false;
              break;
            }
            await sleep(300);
          }
        }
      }
    } finally {
      await reader.shutdown().catch(() => {});
    }
    return { receipts: out, complete };
  }

  /** Stops the consumer loops and shuts the clients down. */
  async close(): Promise<void> {
    this.consuming = false;
    await Promise.race([Promise.all([...this.loops.values(), this.discovery]), sleep(8000)]);
    await Promise.race([Promise.all([this.producer.shutdown().catch(() => {}), this.consumer.shutdown().catch(() => {})]), sleep(5000)]);
  }
}
