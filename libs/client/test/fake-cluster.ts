/**
 * A fake NameServer and fake brokers on loopback sockets (RemotingServer from @apogee/remoting),
 * just enough of RocketMQ to observe what the client puts on the wire. Every request is logged;
 * any request code can be overridden to inject failures.
 */
import {
  type Connection,
  type RemotingCommand,
  RemotingServer,
  RequestCode,
  ResponseCode,
  makeRequest,
  optionalInt,
  optionalString,
  requireInt,
  requireLong,
  requireString,
  responseTo,
} from '@apogee/remoting';
import { PropertyKey, type RecordInput, decodeProperties, decodeRecord, encodeHost, encodeProperties, encodedRecordSize, writeRecord } from '@apogee/message';

export interface StoredMessage {
  record: Buffer;
  commitLogOffset: number;
  queueOffset: number;
  topic: string;
  queueId: number;
  properties: Map<string, string>;
}

type Handler = (req: RemotingCommand, conn: Connection) => RemotingCommand | null | Promise<RemotingCommand | null>;

/** Polls `cond` every 10 ms, at most `tries` times; throws when it never holds. */
export async function waitFor(cond: () => boolean, what: string, tries = 1000): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export class FakeBroker {
  readonly server = new RemotingServer();
  addr = '';
  port = 0;
  readonly log: RemotingCommand[] = [];
  readonly queues = new Map<string, StoredMessage[]>();
  readonly byOffset = new Map<number, StoredMessage>();
  readonly offsets = new Map<string, number>();
  /** group → clientId → connection */
  readonly consumers = new Map<string, Map<string, Connection>>();
  /** Send NOTIFY_CONSUMER_IDS_CHANGED to the group when its membership changes. */
  notifyOnChange = true;
  /** "topic:qid" → clientId holding the lock. */
  readonly locks = new Map<string, string>();
  private nextPhysical = 0;
  private readonly overrides = new Map<number, Handler>();
  private readonly waiters: Array<() => void> = [];

  constructor(readonly name: string) {}

  async start(): Promise<this> {
    const codes = [
      RequestCode.SEND_MESSAGE_V2,
      RequestCode.SEND_BATCH_MESSAGE,
      RequestCode.PULL_MESSAGE,
      RequestCode.QUERY_CONSUMER_OFFSET,
      RequestCode.UPDATE_CONSUMER_OFFSET,
      RequestCode.GET_MAX_OFFSET,
      RequestCode.GET_MIN_OFFSET,
      RequestCode.SEARCH_OFFSET_BY_TIMESTAMP,
      RequestCode.HEART_BEAT,
      RequestCode.UNREGISTER_CLIENT,
      RequestCode.GET_CONSUMER_LIST_BY_GROUP,
      RequestCode.CONSUMER_SEND_MSG_BACK,
      RequestCode.LOCK_BATCH_MQ,
      RequestCode.UNLOCK_BATCH_MQ,
      RequestCode.VIEW_MESSAGE_BY_ID,
      RequestCode.QUERY_MESSAGE,
      RequestCode.UPDATE_AND_CREATE_TOPIC,
      RequestCode.GET_CONSUME_STATS,
    ];
    for (const code of codes) {
      this.server.register(code, (req, conn) => {
        this.log.push(req);
        const o = this.overrides.get(code);
        return o ? o(req, conn) : this.handle(req, conn);
      });
    }
    this.server.onConnectionClosed((conn) => {
      for (const [group, members] of this.consumers) {
        for (const [id, c] of members) if (c === conn) members.delete(id);
        void group;
      }
    });
    const { port } = await this.server.listen(0, '127.0.0.1');
    this.port = port;
    this.addr = `127.0.0.1:${port}`;
    return this;
  }

  /** Replaces the handling of a request code (the request is still logged). */
  override(code: number, handler: Handler | null): void {
    if (handler) this.overrides.set(code, handler);
    else this.overrides.delete(code);
  }

  /** Default handling, for overrides that fail only sometimes. */
  handle(req: RemotingCommand, conn: Connection): RemotingCommand | null | Promise<RemotingCommand | null> {
    switch (req.code) {
      case RequestCode.SEND_MESSAGE_V2:
        return this.onSend(req, conn);
      case RequestCode.SEND_BATCH_MESSAGE:
        return responseTo(req, ResponseCode.SUCCESS, undefined, { msgId: 'BATCH', queueId: req.extFields['e']!, queueOffset: '0' });
      case RequestCode.PULL_MESSAGE:
        return this.onPull(req);
      case RequestCode.QUERY_CONSUMER_OFFSET: {
        const key = `${req.extFields['topic']}@${req.extFields['consumerGroup']}@${req.extFields['queueId']}`;
        const off = this.offsets.get(key);
        return off === undefined ? responseTo(req, ResponseCode.QUERY_NOT_FOUND, 'not found') : responseTo(req, 0, undefined, { offset: String(off) });
      }
      case RequestCode.UPDATE_CONSUMER_OFFSET:
        this.offsets.set(`${req.extFields['topic']}@${req.extFields['consumerGroup']}@${req.extFields['queueId']}`, requireLong(req.extFields, 'commitOffset'));
        return responseTo(req, 0);
      case RequestCode.GET_MAX_OFFSET:
        return responseTo(req, 0, undefined, { offset: String(this.queue(req.extFields['topic']!, Number(req.extFields['queueId'])).length) });
      case RequestCode.GET_MIN_OFFSET:
      case RequestCode.SEARCH_OFFSET_BY_TIMESTAMP:
        return responseTo(req, 0, undefined, { offset: '0' });
      case RequestCode.HEART_BEAT:
        return this.onHeartbeat(req, conn);
      case RequestCode.UNREGISTER_CLIENT: {
        const group = optionalString(req.extFields, 'consumerGroup');
        if (group && this.consumers.get(group)?.delete(req.extFields['clientID']!)) this.notify(group);
        return responseTo(req, 0);
      }
      case RequestCode.GET_CONSUMER_LIST_BY_GROUP: {
        const ids = [...(this.consumers.get(req.extFields['consumerGroup']!)?.keys() ?? [])];
        if (ids.length === 0) return responseTo(req, ResponseCode.SYSTEM_ERROR, 'no consumer');
        return responseTo(req, 0, undefined, {}, Buffer.from(JSON.stringify({ consumerIdList: ids })));
      }
      case RequestCode.CONSUMER_SEND_MSG_BACK:
        return this.onSendBack(req);
      case RequestCode.LOCK_BATCH_MQ: {
        const body = JSON.parse(req.body!.toString()) as { clientId: string; mqSet: Array<{ topic: string; brokerName: string; queueId: number }> };
        const ok = body.mqSet.filter((q) => {
          const key = `${q.topic}:${q.queueId}`;
          const holder = this.locks.get(key);
          if (holder !== undefined && holder !== body.clientId) return false;
          this.locks.set(key, body.clientId);
          return true;
        });
        return responseTo(req, 0, undefined, {}, Buffer.from(JSON.stringify({ lockOKMQSet: ok })));
      }
      case RequestCode.UNLOCK_BATCH_MQ: {
        const body = JSON.parse(req.body!.toString()) as { clientId: string; mqSet: Array<{ topic: string; queueId: number }> };
        for (const q of body.mqSet) if (this.locks.get(`${q.topic}:${q.queueId}`) === body.clientId) this.locks.delete(`${q.topic}:${q.queueId}`);
        return responseTo(req, 0);
      }
      case RequestCode.VIEW_MESSAGE_BY_ID: {
        const m = this.byOffset.get(requireLong(req.extFields, 'offset'));
        return m ? responseTo(req, 0, undefined, {}, m.record) : responseTo(req, ResponseCode.SYSTEM_ERROR, 'no message');
      }
      case RequestCode.QUERY_MESSAGE: {
        const key = req.extFields['key']!;
        const uniq = req.extFields['_UNIQUE_KEY_QUERY'] === 'true';
        const hits = [...this.byOffset.values()].filter(
          (m) =>
            m.topic === req.extFields['topic'] && (uniq ? m.properties.get('UNIQ_KEY') === key : (m.properties.get('KEYS') ?? '').split(' ').includes(key)),
        );
        if (hits.length === 0) return responseTo(req, ResponseCode.QUERY_NOT_FOUND, 'none');
        return responseTo(req, 0, undefined, { indexLastUpdateTimestamp: '0', indexLastUpdatePhyoffset: '0' }, Buffer.concat(hits.map((h) => h.record)));
      }
      case RequestCode.UPDATE_AND_CREATE_TOPIC:
        return responseTo(req, 0);
      case RequestCode.GET_CONSUME_STATS:
        return this.onConsumeStats(req);
      default:
        return responseTo(req, ResponseCode.REQUEST_CODE_NOT_SUPPORTED);
    }
  }

  requests(code: number): RemotingCommand[] {
    return this.log.filter((r) => r.code === code);
  }

  queue(topic: string, queueId: number): StoredMessage[] {
    const key = `${topic}:${queueId}`;
    let q = this.queues.get(key);
    if (!q) {
      q = [];
      this.queues.set(key, q);
    }
    return q;
  }

  /** Stores a message as a full record and wakes held pulls. */
  put(
    topic: string,
    queueId: number,
    body: Buffer,
    props: Record<string, string> = {},
    opts: { sysFlag?: number; reconsumeTimes?: number; flag?: number; bornTimestamp?: number } = {},
  ): StoredMessage {
    const q = this.queue(topic, queueId);
    const properties = encodeProperties(props);
    const input: RecordInput = {
      topic: Buffer.from(topic),
      queueId,
      flag: opts.flag ?? 0,
      queueOffset: q.length,
      physicalOffset: this.nextPhysical,
      sysFlag: opts.sysFlag ?? 0,
      bornTimestamp: opts.bornTimestamp ?? Date.now(),
      bornHost: encodeHost({ address: '127.0.0.1', port: 1 }),
      storeTimestamp: Date.now(),
      storeHost: encodeHost({ address: '127.0.0.1', port: this.port }),
      reconsumeTimes: opts.reconsumeTimes ?? 0,
      preparedTransactionOffset: 0,
      body,
      properties,
    };
    const propLen = Buffer.byteLength(properties);
    const size = encodedRecordSize(input, propLen, false);
    const record = Buffer.alloc(size);
    writeRecord(input, propLen, false, size, record, 0);
    const m: StoredMessage = { record, commitLogOffset: this.nextPhysical, queueOffset: q.length, topic, queueId, properties: decodeProperties(properties) };
    this.nextPhysical += size;
    q.push(m);
    this.byOffset.set(m.commitLogOffset, m);
    for (const w of this.waiters.splice(0)) w();
    return m;
  }

  /** Sends NOTIFY_CONSUMER_IDS_CHANGED (oneway) to every consumer of `group`. */
  notify(group: string): void {
    if (!this.notifyOnChange) return;
    for (const conn of this.consumers.get(group)?.values() ?? []) {
      this.server.oneway(conn, makeRequest(RequestCode.NOTIFY_CONSUMER_IDS_CHANGED, { extFields: { consumerGroup: group }, oneway: true }));
    }
  }

  async close(): Promise<void> {
    for (const w of this.waiters.splice(0)) w();
    await this.server.close();
  }

  private onSend(req: RemotingCommand, _conn: Connection): RemotingCommand {
    const topic = requireString(req.extFields, 'b');
    let queueId = requireInt(req.extFields, 'e');
    if (queueId < 0) queueId = 0;
    const props = Object.fromEntries(decodeProperties(optionalString(req.extFields, 'i') ?? ''));
    const m = this.put(topic, queueId, req.body ?? Buffer.alloc(0), props, {
      sysFlag: requireInt(req.extFields, 'f'),
      reconsumeTimes: optionalInt(req.extFields, 'j') ?? 0,
      flag: requireInt(req.extFields, 'h'),
    });
    return responseTo(req, 0, undefined, { msgId: decodeRecord(m.record).msgId, queueId: String(queueId), queueOffset: String(m.queueOffset) });
  }

  private async onPull(req: RemotingCommand): Promise<RemotingCommand> {
    const topic = req.extFields['topic']!;
    const queueId = Number(req.extFields['queueId']);
    const offset = requireLong(req.extFields, 'queueOffset');
    const max = requireInt(req.extFields, 'maxMsgNums');
    const sysFlag = requireInt(req.extFields, 'sysFlag');
    const suspend = requireLong(req.extFields, 'suspendTimeoutMillis');
    const q = this.queue(topic, queueId);
    if (offset === q.length && (sysFlag & 2) !== 0 && suspend > 0) {
      // Long poll: held until a message arrives, the suspend time passes, or the broker closes.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, suspend);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    const ext = (next: number) => ({ nextBeginOffset: String(next), minOffset: '0', maxOffset: String(q.length), suggestWhichBrokerId: '0' });
    if (offset > q.length) return responseTo(req, ResponseCode.PULL_OFFSET_MOVED, 'OFFSET_OVERFLOW_BADLY', ext(q.length));
    if (offset === q.length) return responseTo(req, ResponseCode.PULL_NOT_FOUND, 'NO_MESSAGE_IN_QUEUE', ext(offset));
    const found = q.slice(offset, offset + max);
    return responseTo(req, 0, 'FOUND', ext(offset + found.length), Buffer.concat(found.map((m) => m.record)));
  }

  private onHeartbeat(req: RemotingCommand, conn: Connection): RemotingCommand {
    const hb = JSON.parse(req.body!.toString()) as { clientID: string; consumerDataSet: Array<{ groupName: string }> };
    for (const c of hb.consumerDataSet) {
      let members = this.consumers.get(c.groupName);
      if (!members) {
        members = new Map();
        this.consumers.set(c.groupName, members);
      }
      const isNew = !members.has(hb.clientID);
      members.set(hb.clientID, conn);
      if (isNew) this.notify(c.groupName);
    }
    return responseTo(req, 0);
  }

  /** Every queue the group has an offset in (optionally of one topic), keyed by the queue's JSON. */
  private onConsumeStats(req: RemotingCommand): RemotingCommand {
    const group = requireString(req.extFields, 'consumerGroup');
    const topic = optionalString(req.extFields, 'topic');
    const offsetTable: Record<string, unknown> = {};
    for (const [key, consumerOffset] of this.offsets) {
      const [t, g, qid] = key.split('@') as [string, string, string];
      if (g !== group || (topic && t !== topic)) continue;
      const queueId = Number(qid);
      offsetTable[JSON.stringify({ topic: t, brokerName: this.name, queueId })] = {
        brokerOffset: this.queue(t, queueId).length,
        consumerOffset,
        lastTimestamp: 0,
      };
    }
    return responseTo(req, 0, undefined, {}, Buffer.from(JSON.stringify({ offsetTable, consumeTps: 0 })));
  }

  private onSendBack(req: RemotingCommand): RemotingCommand {
    const orig = this.byOffset.get(requireLong(req.extFields, 'offset'));
    if (!orig) return responseTo(req, ResponseCode.SYSTEM_ERROR, 'no such message');
    const group = req.extFields['group']!;
    const ext = decodeRecord(orig.record);
    const props = Object.fromEntries(ext.properties);
    props[PropertyKey.RETRY_TOPIC] ??= ext.topic;
    props[PropertyKey.ORIGIN_MESSAGE_ID] ??= req.extFields['originMsgId'] ?? ext.msgId;
    const max = optionalInt(req.extFields, 'maxReconsumeTimes') ?? 16;
    const dlq = ext.reconsumeTimes >= max || requireInt(req.extFields, 'delayLevel') < 0;
    this.put(dlq ? `%DLQ%${group}` : `%RETRY%${group}`, 0, ext.body, props, { sysFlag: ext.sysFlag, reconsumeTimes: ext.reconsumeTimes + 1, flag: ext.flag });
    return responseTo(req, 0);
  }
}

export interface TopicSpec {
  brokers: FakeBroker[];
  queues?: number;
  perm?: number;
}

export class FakeNameServer {
  readonly server = new RemotingServer();
  addr = '';
  readonly log: RemotingCommand[] = [];
  readonly topics = new Map<string, TopicSpec>();
  cluster = 'DefaultCluster';

  async start(): Promise<this> {
    this.server.register(RequestCode.GET_ROUTEINFO_BY_TOPIC, (req) => {
      this.log.push(req);
      const spec = this.topics.get(req.extFields['topic']!);
      if (!spec) return responseTo(req, ResponseCode.TOPIC_NOT_EXIST, `No topic route info in name server for the topic: ${req.extFields['topic']}`);
      return responseTo(req, 0, undefined, {}, Buffer.from(JSON.stringify(this.route(spec))));
    });
    this.server.register(RequestCode.GET_BROKER_CLUSTER_INFO, (req) => {
      this.log.push(req);
      const brokers = new Map<string, FakeBroker>();
      for (const spec of this.topics.values()) for (const b of spec.brokers) brokers.set(b.name, b);
      const brokerAddrTable = Object.fromEntries(
        [...brokers.values()].map((b) => [b.name, { cluster: this.cluster, brokerName: b.name, brokerAddrs: { '0': b.addr } }]),
      );
      return responseTo(req, 0, undefined, {}, Buffer.from(JSON.stringify({ brokerAddrTable, clusterAddrTable: { [this.cluster]: [...brokers.keys()] } })));
    });
    this.server.register(206, (req) => {
      this.log.push(req);
      return responseTo(req, 0, undefined, {}, Buffer.from(JSON.stringify({ topicList: [...this.topics.keys()].sort() })));
    });
    const { port } = await this.server.listen(0, '127.0.0.1');
    this.addr = `127.0.0.1:${port}`;
    return this;
  }

  route(spec: TopicSpec): unknown {
    const n = spec.queues ?? 4;
    return {
      queueDatas: spec.brokers.map((b) => ({ brokerName: b.name, readQueueNums: n, writeQueueNums: n, perm: spec.perm ?? 6, topicSysFlag: 0 })),
      brokerDatas: spec.brokers.map((b) => ({ cluster: this.cluster, brokerName: b.name, brokerAddrs: { '0': b.addr } })),
    };
  }

  routeRequests(topic: string): RemotingCommand[] {
    return this.log.filter((r) => r.code === RequestCode.GET_ROUTEINFO_BY_TOPIC && r.extFields['topic'] === topic);
  }

  async close(): Promise<void> {
    await this.server.close();
  }
}

/** Starts a NameServer and `brokerNames.length` brokers; close() stops them all. */
export async function startCluster(brokerNames: string[] = ['broker-a']): Promise<{ ns: FakeNameServer; brokers: FakeBroker[]; close: () => Promise<void> }> {
  const ns = await new FakeNameServer().start();
  const brokers = await Promise.all(brokerNames.map((n) => new FakeBroker(n).start()));
  return {
    ns,
    brokers,
    close: async () => {
      await Promise.all(brokers.map((b) => b.close()));
      await ns.close();
    },
  };
}
