import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeRecord, type MessageExt } from '@apogee/message';
import { openStore, type MessageStore, type StoreConfig } from '@apogee/store';
import { Broker, type BrokerRole } from './broker.js';
import type { ClientChannel } from './client/client-channel.js';
import type { BrokerConfig } from './config.js';
import { BrokerError } from './errors.js';
import type { SendRequest } from './send/send-types.js';

/** Test helpers (not exported from the package). Real store, temp directories, no mocks. */

export const silentStoreLogger = { info() {}, warn() {}, error() {} };

/** A fresh temp directory under os.tmpdir(). */
export function makeTempDir(prefix = 'apg-broker-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Opens a real store on `dataDir` with a small segment size. */
export function openTestStore(dataDir: string, extra: Partial<StoreConfig> = {}): Promise<MessageStore> {
  return openStore({ dataDir, segmentSize: 1024 * 1024, ...extra }, silentStoreLogger);
}

export interface HarnessOptions {
  store?: Partial<StoreConfig>;
  config?: Partial<BrokerConfig>;
  now?: () => number;
  role?: BrokerRole;
}

/** A broker on a real store in a temp directory; `reopen` closes and reopens both on the same files. */
export class BrokerHarness {
  store!: MessageStore;
  broker!: Broker;
  readonly dir: string;
  private open = false;

  private constructor(private opts: HarnessOptions) {
    this.dir = makeTempDir();
  }

  static async create(opts: HarnessOptions = {}): Promise<BrokerHarness> {
    const h = new BrokerHarness(opts);
    await h.start();
    return h;
  }

  private async start(): Promise<void> {
    this.store = await openTestStore(path.join(this.dir, 'store'), this.opts.store);
    const o: Parameters<typeof Broker.open>[0] = { store: this.store, configDir: path.join(this.dir, 'config') };
    if (this.opts.config) o.config = this.opts.config;
    if (this.opts.now) o.now = this.opts.now;
    if (this.opts.role) o.role = this.opts.role;
    this.broker = await Broker.open(o);
    this.open = true;
  }

  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.broker.close();
    await this.store.close();
  }

  /** Closes and reopens on the same files, with `over` changing the options (a role, a config). */
  async reopen(over: Partial<HarnessOptions> = {}): Promise<void> {
    this.opts = { ...this.opts, ...over };
    await this.close();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.close();
    removeDir(this.dir);
  }

  /** Decoded messages of a queue from `offset`. */
  async messages(topic: string, queueId: number, offset = 0, max = 64): Promise<MessageExt[]> {
    const r = await this.store.get(topic, queueId, offset, max);
    return r.messages.map((m) => decodeRecord(m.record));
  }
}

export const props = (o: Record<string, string> = {}): Map<string, string> => new Map(Object.entries(o));

export function sendRequest(topic: string, body: string, over: Partial<SendRequest> = {}): SendRequest {
  return { topic, queueId: -1, body: Buffer.from(body), properties: props(), ...over };
}

/** Runs `fn`; returns what it threw (sync or async), failing if it did not throw. */
export async function caught(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error, none was thrown');
}

/** Asserts `fn` throws a BrokerError of `kind`; returns it. */
export async function brokerError(fn: () => unknown, kind: BrokerError['kind']): Promise<BrokerError> {
  const err = await caught(fn);
  if (!(err instanceof BrokerError)) throw new Error(`expected BrokerError ${kind}, got ${String(err)}`);
  if (err.kind !== kind) throw new Error(`expected BrokerError ${kind}, got ${err.kind}: ${err.reason}`);
  return err;
}

/** Polls `cond` every `stepMs` at most `tries` times; throws if it never held. */
export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, tries = 400, stepMs = 25): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, stepMs));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** A client connection that records NOTIFY_CONSUMER_IDS_CHANGED calls. */
export interface TestChannel extends ClientChannel {
  notified: string[];
}

export function testChannel(id: string): TestChannel {
  const notified: string[] = [];
  return { id, remoteAddress: `127.0.0.1:${40000 + id.length}`, notified, notifyConsumerIdsChanged: (g) => notified.push(g) };
}
