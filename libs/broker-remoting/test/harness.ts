import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Broker, type BrokerConfig } from '@apogee/broker';
import { encodeProperties } from '@apogee/message';
import { NameServer } from '@apogee/namesrv';
import { RemotingClient, RequestCode, makeRequest, type RemotingCommand } from '@apogee/remoting';
import { openStore, type MessageStore } from '@apogee/store';
import { BrokerRemotingService } from '../src/index.js';

/** An in-process NameServer + store + broker endpoint on loopback, and a raw remoting client. */
export class Harness {
  readonly client = new RemotingClient({ requestTimeoutMs: 20_000 });
  private constructor(
    readonly dir: string,
    readonly store: MessageStore,
    readonly broker: Broker,
    readonly service: BrokerRemotingService,
    readonly namesrv: NameServer,
    readonly brokerAddr: string,
    readonly namesrvAddr: string,
  ) {}

  static async start(config: Partial<BrokerConfig> = {}, storeOpts: { maxMessageSize?: number } = {}): Promise<Harness> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-brk-'));
    const namesrv = new NameServer();
    const namesrvAddr = await namesrv.start(0, '127.0.0.1');
    // The store host must carry the port clients reach; take a free one first.
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const store = await openStore({ dataDir: path.join(dir, 'store'), segmentSize: 4 * 1024 * 1024, storeHost: { address: '127.0.0.1', port }, ...storeOpts });
    const broker = await Broker.open({ store, configDir: path.join(dir, 'config'), config });
    const brokerAddr = `127.0.0.1:${port}`;
    const service = new BrokerRemotingService({
      broker,
      advertisedAddr: brokerAddr,
      namesrvAddrs: [namesrvAddr],
      logger: { info() {}, warn() {}, error() {} },
    });
    await service.start(port, '127.0.0.1');
    return new Harness(dir, store, broker, service, namesrv, brokerAddr, namesrvAddr);
  }

  call(code: number, extFields: Record<string, string> = {}, body?: Buffer, timeoutMs?: number): Promise<RemotingCommand> {
    return this.client.invoke(this.brokerAddr, makeRequest(code, body === undefined ? { extFields } : { extFields, body }), timeoutMs);
  }

  /** SEND_MESSAGE_V2 with the single-letter header. */
  send(topic: string, body: string | Buffer, props: Record<string, string> = {}, queueId = -1, extra: Record<string, string> = {}): Promise<RemotingCommand> {
    return this.call(
      RequestCode.SEND_MESSAGE_V2,
      {
        a: 'pg',
        b: topic,
        c: 'TBW102',
        d: '4',
        e: String(queueId),
        f: '0',
        g: String(Date.now()),
        h: '0',
        i: encodeProperties(props),
        j: '0',
        k: 'false',
        ...extra,
      },
      Buffer.from(body),
    );
  }

  pull(
    topic: string,
    queueId: number,
    offset: number,
    opts: { group?: string; sysFlag?: number; suspend?: number; sub?: string; max?: number } = {},
  ): Promise<RemotingCommand> {
    return this.call(
      RequestCode.PULL_MESSAGE,
      {
        consumerGroup: opts.group ?? 'cg',
        topic,
        queueId: String(queueId),
        queueOffset: String(offset),
        maxMsgNums: String(opts.max ?? 32),
        sysFlag: String(opts.sysFlag ?? 4),
        commitOffset: '0',
        suspendTimeoutMillis: String(opts.suspend ?? 0),
        subscription: opts.sub ?? '*',
        subVersion: '0',
      },
      undefined,
      30_000,
    );
  }

  async close(): Promise<void> {
    this.client.close();
    await this.service.close();
    await this.broker.close();
    await this.store.close();
    await this.namesrv.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
