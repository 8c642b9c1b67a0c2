import { PropertyKey, decodeOffsetMessageId, decodeRecords, formatHost, Perm, retryTopicOf } from '@apogee/message';
import { RequestCode, ResponseCode, makeRequest, toExtFields } from '@apogee/remoting';
import { ClientInstance } from '../client/instance.js';
import { getMaxOffset, getMinOffset, queryConsumerOffset } from '../client/offset-requests.js';
import type { ClientOptions } from '../client/options.js';
import { ClientError, ClientErrorCode } from '../errors.js';
import { type ReceivedMessage, toReceivedMessage } from '../message.js';
import { type ClusterInfo, parseClusterInfo, parseConsumerIdList, parseGroupList, parseOpenTransactions, parseTopicList } from '../protocol/bodies.js';
import { ExtraRequestCode } from '../protocol/codes.js';
import { createTopicHeader, queryMessageHeader } from '../protocol/headers.js';
import { masterAddr, subscribeQueues } from '../route/topic-route.js';
import { compareProgress, parseConsumeStats } from './consume-stats.js';
import { type MessageTraceOptions, type TraceLookups, gatherMessageTrace } from '../trace/gather-trace.js';
import type { MessageTrace } from '../trace/timeline.js';
import type { CreateTopicOptions, OpenTransaction, QueryOptions, QueueProgress, TopicDescription } from './types.js';

export type AdminOptions = ClientOptions;

/** Administration and inspection over the NameServer and brokers (mqadmin-style). */
export class Admin {
  private readonly inst: ClientInstance;

  constructor(opts: AdminOptions) {
    this.inst = new ClientInstance(opts);
  }

  /** GET_BROKER_CLUSTER_INFO (106). */
  async clusterInfo(): Promise<ClusterInfo> {
    const res = await this.inst.invokeNameServer(makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
    if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse('GET_BROKER_CLUSTER_INFO', res);
    return parseClusterInfo(res.body);
  }

  /** UPDATE_AND_CREATE_TOPIC (17) on each target master; returns the addresses it was created on. */
  async createTopic(topic: string, opts: CreateTopicOptions = {}): Promise<string[]> {
    const header = createTopicHeader({
      topic,
      readQueueNums: opts.readQueueNums ?? 8,
      writeQueueNums: opts.writeQueueNums ?? 8,
      perm: opts.perm ?? Perm.READ | Perm.WRITE,
      order: opts.order ?? false,
    });
    const addrs = opts.brokerAddr ? [opts.brokerAddr] : await this.masters(opts.cluster);
    if (addrs.length === 0)
      throw new ClientError(ClientErrorCode.NO_ROUTE, `no master broker${opts.cluster ? ` in cluster ${opts.cluster}` : ''} to create ${topic} on`);
    for (const addr of addrs) {
      const res = await this.inst.invoke(addr, makeRequest(RequestCode.UPDATE_AND_CREATE_TOPIC, { extFields: header }));
      if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse(`UPDATE_AND_CREATE_TOPIC ${topic}`, res, addr);
    }
    return addrs;
  }

  /** GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206). */
  async listTopics(): Promise<string[]> {
    const res = await this.inst.invokeNameServer(makeRequest(ExtraRequestCode.GET_ALL_TOPIC_LIST_FROM_NAMESERVER));
    if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse('GET_ALL_TOPIC_LIST_FROM_NAMESERVER', res);
    return parseTopicList(res.body);
  }

  /** Route plus min/max offset of every readable queue. */
  async describeTopic(topic: string): Promise<TopicDescription> {
    const { route } = await this.inst.getRoute(topic, { force: true });
    const queues = await Promise.all(
      subscribeQueues(topic, route).map(async (q) => ({
        brokerName: q.brokerName,
        queueId: q.queueId,
        minOffset: await getMinOffset(this.inst, q),
        maxOffset: await getMaxOffset(this.inst, q),
      })),
    );
    return { topic, route, queues };
  }

  /**
   * Per-queue progress of `group`; consumerOffset is −1 where the group stored none.
   *
   * With `topics`: those topics plus the group's `%RETRY%` topic (skipped when it has no route),
   * read queue by queue. Without: GET_CONSUME_STATS (208) on every master, merged — every queue
   * the group has committed in or subscribes to; when a master answers 208 with an error (a broker
   * that does not implement it), only the `%RETRY%` topic is read as above.
   */
  async groupProgress(group: string, topics: string | readonly string[] = []): Promise<QueueProgress[]> {
    const list = typeof topics === 'string' ? [topics] : [...topics];
    if (list.length === 0) {
      const stats = await this.consumeStats(group);
      if (stats !== undefined) return stats;
    }
    return this.progressByQueue(group, [...list, retryTopicOf(group)]);
  }

  /** GET_CONSUME_STATS (208) on every master, merged; undefined when one answers an error code. */
  private async consumeStats(group: string): Promise<QueueProgress[] | undefined> {
    const addrs = await this.masters();
    if (addrs.length === 0) return undefined;
    const parts = await Promise.all(
      addrs.map(async (addr) => {
        const res = await this.inst.invoke(addr, makeRequest(RequestCode.GET_CONSUME_STATS, { extFields: toExtFields({ consumerGroup: group }) }));
        return res.code === ResponseCode.SUCCESS ? parseConsumeStats(res.body) : undefined;
      }),
    );
    if (parts.some((p) => p === undefined)) return undefined;
    return parts.flatMap((p) => p ?? []).sort(compareProgress);
  }

  private async progressByQueue(group: string, topics: readonly string[]): Promise<QueueProgress[]> {
    const rows: QueueProgress[] = [];
    for (const topic of [...new Set(topics)]) {
      let route;
      try {
        route = (await this.inst.getRoute(topic, { force: true })).route;
      } catch (err) {
        if (topic === retryTopicOf(group) && err instanceof ClientError && err.code === ClientErrorCode.NO_ROUTE) continue;
        throw err;
      }
      const part = await Promise.all(
        subscribeQueues(topic, route).map(async (q) => {
          const [brokerOffset, stored] = await Promise.all([getMaxOffset(this.inst, q), queryConsumerOffset(this.inst, group, q)]);
          const consumerOffset = stored ?? -1;
          return {
            topic,
            brokerName: q.brokerName,
            queueId: q.queueId,
            brokerOffset,
            consumerOffset,
            lag: Math.max(0, brokerOffset - Math.max(consumerOffset, 0)),
          };
        }),
      );
      rows.push(...part);
    }
    return rows;
  }

  /** Client ids of the group's online consumers (GET_CONSUMER_LIST_BY_GROUP 38), merged over every master. */
  async consumerConnections(group: string): Promise<string[]> {
    const ids = new Set<string>();
    let answered = false;
    let lastErr: unknown;
    for (const addr of await this.masters()) {
      try {
        const res = await this.inst.invoke(addr, makeRequest(RequestCode.GET_CONSUMER_LIST_BY_GROUP, { extFields: toExtFields({ consumerGroup: group }) }));
        answered = true;
        // The broker answers SYSTEM_ERROR when it knows no consumer of the group.
        if (res.code === ResponseCode.SUCCESS) for (const id of parseConsumerIdList(res.body)) ids.add(id);
      } catch (err) {
        lastErr = err;
      }
    }
    if (!answered && lastErr !== undefined) throw lastErr;
    return [...ids].sort();
  }

  /** VIEW_MESSAGE_BY_ID (33) at the broker and commit-log offset an offset message id encodes. */
  async viewMessage(offsetMsgId: string): Promise<ReceivedMessage> {
    let decoded;
    try {
      decoded = decodeOffsetMessageId(offsetMsgId);
    } catch (err) {
      throw new ClientError(ClientErrorCode.ILLEGAL_ARGUMENT, `not an offset message id: ${offsetMsgId}`, { cause: err });
    }
    const addr = formatHost(decoded.storeHost);
    const res = await this.inst.invoke(addr, makeRequest(RequestCode.VIEW_MESSAGE_BY_ID, { extFields: toExtFields({ offset: decoded.commitLogOffset }) }));
    if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse(`VIEW_MESSAGE_BY_ID ${offsetMsgId}`, res, addr);
    const msgs = res.body ? decodeRecords(res.body) : [];
    if (msgs.length === 0) throw new ClientError(ClientErrorCode.BROKER, `VIEW_MESSAGE_BY_ID ${offsetMsgId}: empty body`, { addr });
    return toReceivedMessage(msgs[0]!, await this.brokerNameOf(addr));
  }

  /** QUERY_MESSAGE (12) by business key on every broker of `topic`; index collisions are filtered out. */
  async queryMessageByKey(topic: string, key: string, opts: QueryOptions = {}): Promise<ReceivedMessage[]> {
    const found = await this.query(topic, key, opts, false);
    return found.filter((m) => m.keys.includes(key));
  }

  /** QUERY_MESSAGE (12) by UNIQ_KEY (the producer's msgId). */
  async queryMessageByUniqKey(topic: string, uniqKey: string, opts: QueryOptions = {}): Promise<ReceivedMessage[]> {
    const found = await this.query(topic, uniqKey, opts, true);
    return found.filter((m) => m.properties[PropertyKey.UNIQ_CLIENT_MESSAGE_ID_KEYIDX] === uniqKey);
  }

  /**
   * The timeline of a message (docs/trace.md): publish, store, deliveries and consume results per
   * group, retries, dead letter, transaction end — from the clients' trace records, the broker's
   * own, and what the message and the groups' committed offsets tell. `msgId` is the UNIQ_KEY or
   * the offset message id. An unknown id gives a trace with `found: false` and no events.
   */
  queryMessageTrace(msgId: string, opts: MessageTraceOptions = {}): Promise<MessageTrace> {
    return gatherMessageTrace(this.traceLookups(), msgId, opts);
  }

  /** Consumer groups that consume `topic` (QUERY_TOPIC_CONSUME_BY_WHO 300), merged over its brokers. */
  async topicConsumers(topic: string): Promise<string[]> {
    const { route } = await this.inst.getRoute(topic, { force: true });
    const groups = new Set<string>();
    for (const bd of route.brokerDatas) {
      const addr = masterAddr(bd) ?? Object.values(bd.brokerAddrs)[0];
      if (addr === undefined) continue;
      const res = await this.inst.invoke(addr, makeRequest(RequestCode.QUERY_TOPIC_CONSUME_BY_WHO, { extFields: toExtFields({ topic }) }));
      if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse(`QUERY_TOPIC_CONSUME_BY_WHO ${topic}`, res, addr);
      for (const g of parseGroupList(res.body)) groups.add(g);
    }
    return [...groups].sort();
  }

  /** The remoting requests the trace gatherer uses; a topic without a route has nothing. */
  private traceLookups(): TraceLookups {
    const none = <T>(p: Promise<T[]>): Promise<T[]> =>
      p.catch((err: unknown) => (err instanceof ClientError && err.code === ClientErrorCode.NO_ROUTE ? [] : Promise.reject(err)));
    return {
      byKey: (topic, key) => none(this.queryMessageByKey(topic, key, { maxNum: 64 })),
      byUniqKey: (topic, key) => none(this.queryMessageByUniqKey(topic, key)),
      byOffsetMsgId: async (id) => {
        // A UNIQ_KEY parses as an offset id too (its IP is the producer's): ask only a known broker.
        let addr: string;
        try {
          addr = formatHost(decodeOffsetMessageId(id).storeHost);
        } catch {
          return undefined;
        }
        const brokers = Object.values((await this.clusterInfo()).brokerAddrTable).flatMap((bd) => Object.values(bd.brokerAddrs));
        if (!brokers.includes(addr)) return undefined;
        try {
          return await this.viewMessage(id);
        } catch (err) {
          // No record at that offset (expired, or the id was a UNIQ_KEY after all).
          if (err instanceof ClientError) return undefined;
          throw err;
        }
      },
      consumerGroups: (topic) => none(this.topicConsumers(topic)),
      committedOffset: async (group, m) =>
        (await queryConsumerOffset(this.inst, group, { topic: m.storeTopic, brokerName: m.brokerName ?? '', queueId: m.queueId })) ?? -1,
    };
  }

  /**
   * Open transactions (half messages without a decision) of every master, oldest first per broker:
   * Apogee's APOGEE_LIST_OPEN_TRANSACTIONS (30037); a broker without it (Apache RocketMQ) fails
   * with its REQUEST_CODE_NOT_SUPPORTED answer. At most `max` (default 1,000) per broker.
   */
  async openTransactions(opts: { max?: number; brokerAddr?: string } = {}): Promise<OpenTransaction[]> {
    const out: OpenTransaction[] = [];
    for (const addr of opts.brokerAddr ? [opts.brokerAddr] : await this.masters()) {
      const res = await this.inst.invoke(addr, makeRequest(RequestCode.APOGEE_LIST_OPEN_TRANSACTIONS, { extFields: toExtFields({ max: opts.max ?? 1000 }) }));
      if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse('APOGEE_LIST_OPEN_TRANSACTIONS', res, addr);
      for (const t of parseOpenTransactions(res.body)) out.push({ ...t, brokerAddr: addr });
    }
    return out;
  }

  /** Closes every connection. */
  async shutdown(): Promise<void> {
    this.inst.close();
  }

  private async query(topic: string, key: string, opts: QueryOptions, uniq: boolean): Promise<ReceivedMessage[]> {
    const { route } = await this.inst.getRoute(topic, { force: true });
    const header = queryMessageHeader(
      { topic, key, maxNum: opts.maxNum ?? 32, beginTimestamp: opts.begin ?? 0, endTimestamp: opts.end ?? Date.now() + 60_000 },
      uniq,
    );
    const byId = new Map<string, ReceivedMessage>();
    await Promise.all(
      route.brokerDatas.map(async (bd) => {
        const addr = masterAddr(bd) ?? Object.values(bd.brokerAddrs)[0];
        if (addr === undefined) return;
        const res = await this.inst.invoke(addr, makeRequest(RequestCode.QUERY_MESSAGE, { extFields: header }));
        if (res.code === ResponseCode.QUERY_NOT_FOUND) return;
        if (res.code !== ResponseCode.SUCCESS) throw ClientError.fromResponse(`QUERY_MESSAGE ${topic} ${key}`, res, addr);
        for (const ext of res.body ? decodeRecords(res.body) : []) {
          const m = toReceivedMessage(ext, bd.brokerName);
          byId.set(m.offsetMsgId, m);
        }
      }),
    );
    return [...byId.values()].sort((a, b) => a.storeTimestamp - b.storeTimestamp || a.commitLogOffset - b.commitLogOffset);
  }

  /** Master addresses of a cluster (or of every cluster). */
  private async masters(cluster?: string): Promise<string[]> {
    const info = await this.clusterInfo();
    const names = cluster ? (info.clusterAddrTable[cluster] ?? []) : Object.keys(info.brokerAddrTable);
    const out: string[] = [];
    for (const name of names) {
      const bd = info.brokerAddrTable[name];
      const m = bd ? masterAddr(bd) : undefined;
      if (m) out.push(m);
    }
    return out.sort();
  }

  private async brokerNameOf(addr: string): Promise<string | undefined> {
    try {
      const info = await this.clusterInfo();
      for (const bd of Object.values(info.brokerAddrTable)) if (Object.values(bd.brokerAddrs).includes(addr)) return bd.brokerName;
    } catch {
      // The name is a convenience; the message is still valid without it.
    }
    return undefined;
  }
}
