import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Authorizer, Broker } from '@apogee/broker';
import { openStore, type MessageStore } from '@apogee/store';
import type { Connection, ConnectionOptions, Delivery, EventContext, Message, Receiver, ReceiverOptions, Sender, SenderOptions } from 'rhea';
import { AmqpGateway, type AmqpConfig } from '../src/index.js';
import { rhea } from '../src/rhea/index.js';

export { rhea };

/** A line the gateway logged. */
export interface LoggedLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: Record<string, unknown>;
  msg: string;
}

/** Records every line (and prints it with AMQP_TEST_LOG set). */
function recordingLogger(lines: LoggedLine[]) {
  const print = process.env['AMQP_TEST_LOG'] !== undefined;
  const at = (level: LoggedLine['level']) => (obj: object, msg: string) => {
    lines.push({ level, obj: obj as Record<string, unknown>, msg });
    if (print) console.log(level, msg, JSON.stringify(obj));
  };
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** An in-process store + broker engine + AMQP gateway on a loopback port, and rhea clients. */
export class AmqpHarness {
  private readonly conns: Connection[] = [];
  private constructor(
    readonly dir: string,
    public store: MessageStore,
    public broker: Broker,
    public gateway: AmqpGateway,
    readonly port: number,
    private readonly config: Partial<AmqpConfig>,
    /** What the gateway logged (every level), oldest first. */
    readonly logs: LoggedLine[],
    private readonly auth?: Authorizer,
  ) {}

  private static async open(dir: string, config: Partial<AmqpConfig>, port: number, logs: LoggedLine[], auth?: Authorizer) {
    const store = await openStore({ dataDir: path.join(dir, 'store'), segmentSize: 4 * 1024 * 1024 });
    const broker = await Broker.open({ store, configDir: path.join(dir, 'config') });
    const logger = recordingLogger(logs);
    const gateway = new AmqpGateway(auth ? { broker, config, auth, logger } : { broker, config, logger });
    const addr = await gateway.listen(port, '127.0.0.1');
    return { store, broker, gateway, port: Number(addr.split(':').pop()) };
  }

  static async start(config: Partial<AmqpConfig> = {}, auth?: Authorizer): Promise<AmqpHarness> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-amqp-'));
    const logs: LoggedLine[] = [];
    const o = await AmqpHarness.open(dir, config, 0, logs, auth);
    return new AmqpHarness(dir, o.store, o.broker, o.gateway, o.port, config, logs, auth);
  }

  /** Stops gateway, broker and store cleanly and opens them again on the same directory and port. */
  async restart(): Promise<void> {
    await this.shutdown();
    const o = await AmqpHarness.open(this.dir, this.config, this.port, this.logs, this.auth);
    this.store = o.store;
    this.broker = o.broker;
    this.gateway = o.gateway;
  }

  private async shutdown(): Promise<void> {
    for (const c of this.conns.splice(0)) closeQuietly(c);
    await this.gateway.close();
    await this.broker.close();
    await this.store.close();
  }

  /** Connects a rhea client and waits for the server's open. */
  async connect(opts: Partial<ConnectionOptions> = {}): Promise<Connection> {
    const container = rhea.create_container({ id: (opts as { container_id?: string }).container_id ?? `client-${Math.random().toString(36).slice(2)}` });
    const c = container.connect({ host: '127.0.0.1', port: this.port, reconnect: false, ...opts } as ConnectionOptions);
    this.conns.push(c);
    c.on('error', () => {});
    c.on('receiver_error', () => {});
    c.on('sender_error', () => {});
    await new Promise<void>((resolve, reject) => {
      c.once('connection_open', () => resolve());
      c.once('connection_error', (ctx: EventContext) => reject(new Error(`connection error: ${String(ctx.connection.error)}`)));
      c.once('disconnected', (ctx: EventContext) => reject(new Error(`disconnected before open: ${String(ctx.error ?? '')}`)));
    });
    return c;
  }

  async close(): Promise<void> {
    await this.shutdown();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export function closeQuietly(c: Connection): void {
  try {
    c.close();
  } catch {
    /* already gone */
  }
}

/** Opens a sending link and waits until the server answered the attach. */
export async function openSender(c: Connection, address: string, opts: SenderOptions = {}): Promise<Sender> {
  const s = c.open_sender({ target: { address }, ...opts });
  await new Promise<void>((resolve, reject) => {
    s.once('sender_open', () => resolve());
    s.once('sender_close', () => reject(new Error(`sender closed: ${JSON.stringify(s.error)}`)));
  });
  return s;
}

export interface Outcome {
  outcome: 'accepted' | 'rejected' | 'released' | 'modified';
  error?: { condition: string; description: string };
}

const waiters = new WeakMap<Sender, Map<Delivery, (o: Outcome) => void>>();

/** Sends and resolves with the server's outcome (at-least-once links). */
export function sendAndWait(s: Sender, msg: Message): Promise<Outcome> {
  let m = waiters.get(s);
  if (!m) {
    const map = new Map<Delivery, (o: Outcome) => void>();
    m = map;
    waiters.set(s, map);
    for (const outcome of ['accepted', 'rejected', 'released', 'modified'] as const) {
      s.on(outcome, (ctx: EventContext) => {
        const done = map.get(ctx.delivery!);
        if (!done) return;
        map.delete(ctx.delivery!);
        const st = (ctx.delivery as unknown as { remote_state?: { error?: Outcome['error'] } }).remote_state;
        done(st?.error ? { outcome, error: st.error } : { outcome });
      });
    }
  }
  const map = m;
  return new Promise((resolve, reject) => {
    if (s.is_closed()) return reject(new Error('sender closed'));
    map.set(s.send(msg), resolve);
  });
}

/** A receiving link with manual credit and manual settlement; messages collect in `got`. */
export interface TestReceiver {
  link: Receiver;
  got: Array<{ message: Message; delivery: Delivery }>;
  drained: number;
}

export async function openReceiver(c: Connection, address: string, opts: ReceiverOptions = {}, credit = 0): Promise<TestReceiver> {
  const link = c.open_receiver({ source: { address }, credit_window: 0, autoaccept: false, ...opts });
  const r: TestReceiver = { link, got: [], drained: 0 };
  link.on('message', (ctx: EventContext) => r.got.push({ message: ctx.message!, delivery: ctx.delivery! }));
  link.on('receiver_drained', () => r.drained++);
  await new Promise<void>((resolve, reject) => {
    link.once('receiver_open', () => resolve());
    link.once('receiver_close', () => reject(new Error(`receiver closed: ${JSON.stringify(link.error)}`)));
  });
  if (credit > 0) link.add_credit(credit);
  return r;
}

export async function eventually(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Body of a received message as text. */
export function text(m: Message): string {
  const b = m.body as unknown;
  if (typeof b === 'string') return b;
  if (Buffer.isBuffer(b)) return b.toString();
  const typed = b as { content?: Buffer; typecode?: number };
  if (typed && Buffer.isBuffer(typed.content)) return typed.content.toString();
  return JSON.stringify(b);
}

/** Opens a link the server should refuse; resolves with whether it answered the attach first, and the detach error. */
export function refusedAttach(
  c: Connection,
  role: 'sender' | 'receiver',
  address: string,
): Promise<{ attached: boolean; condition: string; description: string }> {
  const link = role === 'sender' ? c.open_sender({ target: { address } }) : c.open_receiver({ source: { address }, credit_window: 0 });
  let attached = false;
  return new Promise((resolve) => {
    link.once(`${role}_open`, () => (attached = true));
    link.once(`${role}_close`, () => {
      const e = link.error as { condition: string; description: string } | undefined;
      resolve({ attached, condition: e?.condition ?? '', description: e?.description ?? '' });
    });
  });
}
