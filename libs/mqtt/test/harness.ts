import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Broker, type Authorizer } from '@apogee/broker';
import { openStore, type MessageStore } from '@apogee/store';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { MqttGateway, listenWebSocket, type MqttConfig } from '../src/index.js';

/** A line the gateway logged. */
export interface LoggedLine {
  level: 'info' | 'warn' | 'error' | 'debug';
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(lines: LoggedLine[]) {
  const at = (level: LoggedLine['level']) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { info: at('info'), warn: at('warn'), error: at('error'), debug: at('debug') };
}

/** An in-process store + broker engine + MQTT gateway on a loopback port, and mqtt.js clients. */
export class MqttHarness {
  private readonly clients: MqttClient[] = [];
  /** Which endpoint connect() uses; tests that run over both set it. */
  transport: 'tcp' | 'ws' = 'tcp';
  private ws: { addr: string; close: () => Promise<void> } | null = null;
  private constructor(
    readonly dir: string,
    public store: MessageStore,
    public broker: Broker,
    public gateway: MqttGateway,
    readonly url: string,
    private readonly config: Partial<MqttConfig>,
    /** What the gateway logged (every level), oldest first. */
    readonly logs: LoggedLine[],
    private readonly auth?: Authorizer,
  ) {}

  private static async open(
    dir: string,
    config: Partial<MqttConfig>,
    port: number,
    logs: LoggedLine[],
    auth?: Authorizer,
  ): Promise<{ store: MessageStore; broker: Broker; gateway: MqttGateway; addr: string }> {
    const store = await openStore({ dataDir: path.join(dir, 'store'), segmentSize: 4 * 1024 * 1024 });
    const broker = await Broker.open({ store, configDir: path.join(dir, 'config') });
    const logger = recordingLogger(logs);
    const gateway = new MqttGateway(auth ? { broker, config, auth, logger } : { broker, config, logger });
    const addr = await gateway.listen(port, '127.0.0.1');
    return { store, broker, gateway, addr };
  }

  static async start(config: Partial<MqttConfig> = {}, auth?: Authorizer): Promise<MqttHarness> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-mqtt-'));
    const logs: LoggedLine[] = [];
    const o = await MqttHarness.open(dir, config, 0, logs, auth);
    return new MqttHarness(dir, o.store, o.broker, o.gateway, `mqtt://${o.addr}`, config, logs, auth);
  }

  /** Stops gateway, broker and store cleanly and opens them again on the same directory and port. */
  async restart(): Promise<void> {
    await this.shutdown();
    const port = Number(this.url.split(':').pop());
    const o = await MqttHarness.open(this.dir, this.config, port, this.logs, this.auth);
    this.store = o.store;
    this.broker = o.broker;
    this.gateway = o.gateway;
  }

  private async shutdown(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((c) => c.endAsync(true).catch(() => {})));
    await this.ws?.close();
    this.ws = null;
    await this.gateway.close();
    await this.broker.close();
    await this.store.close();
  }

  /** Connects an mqtt.js client and waits for CONNACK; `before` runs first (e.g. to attach an inbox that must see messages sent right after CONNACK). */
  async connect(opts: IClientOptions = {}, before?: (c: MqttClient) => void): Promise<MqttClient> {
    let url = this.url;
    if (this.transport === 'ws') {
      this.ws ??= await listenWebSocket(this.gateway, 0, '127.0.0.1');
      url = `ws://${this.ws.addr}/mqtt`;
    }
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...opts });
    this.clients.push(c);
    before?.(c);
    await new Promise<void>((resolve, reject) => {
      c.once('connect', () => resolve());
      c.once('error', reject);
      c.once('close', () => reject(new Error('closed before CONNACK')));
    });
    c.on('error', () => {});
    return c;
  }

  async close(): Promise<void> {
    await this.shutdown();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Collects messages a client receives. */
export function inbox(c: MqttClient): Array<{ topic: string; payload: string; qos: number; retain: boolean }> {
  const got: Array<{ topic: string; payload: string; qos: number; retain: boolean }> = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain }));
  return got;
}

export async function eventually(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
