import { PERM_READ, PERM_WRITE, isRetryTopic, isWriteable } from '@apogee/message';
import { minBrokerId, newBrokerGroup, toBrokerData, type BrokerGroup } from './broker-group.js';
import { BrokerLiveTable, type BrokerLiveInfo, type ChannelId } from './broker-live-table.js';
import { sameDataVersion } from './data-version.js';
import { dict } from './json-fields.js';
import { TopicQueueTable } from './topic-queue-table.js';
import {
  DEFAULT_BROKER_TIMEOUT_MILLIS,
  MASTER_ID,
  NAMESPACE_ORDER_TOPIC_CONFIG,
  type BrokerData,
  type BrokerMember,
  type ClusterInfo,
  type DataVersion,
  type QueueData,
  type TopicConfig,
  type TopicRouteData,
} from './types.js';

/** Read access to KV config; the registry reads orderTopicConf through it. */
export interface KvLookup {
  get(namespace: string, key: string): string | undefined;
}

export interface RouteRegistryOptions {
  /** Milliseconds since the epoch; injected so expiry is testable without waiting. */
  clock?: () => number;
  /** Where orderTopicConf comes from (namespace ORDER_TOPIC_CONFIG, key = topic). */
  kv?: KvLookup;
  /**
   * Drop a broker's topics that its new registration no longer lists (RocketMQ
   * deleteTopicWithBrokerRegistration, default false: topics go only with the broker or by delete).
   */
  deleteTopicWithBrokerRegistration?: boolean;
  /**
   * When a group enabled acting master and has no master, present its lowest-id slave as "0" in
   * routes of read-only queues (RocketMQ supportActingMaster, default false).
   */
  supportActingMaster?: boolean;
  /**
   * Answer a route for a `%RETRY%<group>` topic no broker registered yet: every group with a
   * master, one read-write queue. Brokers create that topic on the group's first heartbeat, but
   * clients (ali-ons, Java) look its route up before that heartbeat and then only retry 30 s later,
   * so a new group's first retries would stall. Default true (Apogee's choice, not RocketMQ's).
   */
  routeUnregisteredRetryTopics?: boolean;
}

/** REGISTER_BROKER (103): request header fields plus the decoded body. */
export interface RegisterBrokerRequest {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
  haServerAddr: string;
  topicConfigs: Iterable<TopicConfig>;
  dataVersion: DataVersion;
  heartbeatTimeoutMillis?: number;
  /** Absent for brokers older than 5.0. */
  enableActingMaster?: boolean;
  zoneName?: string;
  /** Replaces the member's filter servers when given (empty clears them). */
  filterServerList?: readonly string[];
  channelId: ChannelId;
}

export interface RegisterBrokerResult {
  /** False when another address holds this brokerId with a higher stateVersion (nothing stored). */
  accepted: boolean;
  /** For a slave: its live master's address (response header masterAddr), else null. */
  masterAddr: string | null;
  /** For a slave: its live master's HA address (response header haServerAddr), else null. */
  haServerAddr: string | null;
  /** First registration of this member, or its DataVersion differs from the last one. */
  changed: boolean;
}

/** UNREGISTER_BROKER (104) header fields. */
export interface UnregisterBrokerRequest {
  clusterName: string;
  brokerName: string;
  brokerAddr: string;
  brokerId: number;
}

/** TopicList body: `brokerAddr` is only set by the system topic list. */
export interface TopicListResult {
  topicList: string[];
  brokerAddr?: string;
}

/**
 * The NameServer's route tables (RocketMQ RouteInfoManager): which broker groups exist, which
 * members are alive, and which topics each group serves. Pure state: no timers, no sockets. The
 * transport calls scanExpired every few seconds and onChannelClosed when a connection drops.
 *
 * Indexing: topic → brokerName → QueueData plus brokerName → topics, brokers by name, live
 * members by address and by channel. routeFor is O(brokers of the topic); dropping a group is
 * O(topics of that group).
 */
export class RouteRegistry {
  private readonly clock: () => number;
  private readonly kv: KvLookup | undefined;
  private readonly deleteTopicWithBrokerRegistration: boolean;
  private readonly supportActingMaster: boolean;
  private readonly topicQueues = new TopicQueueTable();
  private readonly groups = new Map<string, BrokerGroup>();
  private readonly clusters = new Map<string, Set<string>>();
  private readonly live = new BrokerLiveTable();
  private readonly filterServers = new Map<string, string[]>();

  constructor(options: RouteRegistryOptions = {}) {
    this.clock = options.clock ?? Date.now;
    this.kv = options.kv;
    this.deleteTopicWithBrokerRegistration = options.deleteTopicWithBrokerRegistration ?? false;
    this.supportActingMaster = options.supportActingMaster ?? false;
    this.routeUnregisteredRetryTopics = options.routeUnregisteredRetryTopics ?? true;
  }

  private readonly routeUnregisteredRetryTopics: boolean;

  /** The provisional route of a retry topic no broker has registered yet (see routeUnregisteredRetryTopics). */
  private provisionalRetryRoute(topic: string): TopicRouteData | null {
    if (!this.routeUnregisteredRetryTopics || !isRetryTopic(topic)) return null;
    const queueDatas: QueueData[] = [];
    const brokerDatas: BrokerData[] = [];
    for (const name of [...this.groups.keys()].sort(compareStrings)) {
      const group = this.groups.get(name)!;
      if (!group.addrs.has(MASTER_ID)) continue;
      queueDatas.push({ brokerName: name, readQueueNums: 1, writeQueueNums: 1, perm: PERM_READ | PERM_WRITE, topicSysFlag: 0 });
      brokerDatas.push(toBrokerData(group));
    }
    return brokerDatas.length === 0 ? null : { queueDatas, brokerDatas, filterServerTable: dict<string[]>() };
  }

  /**
   * REGISTER_BROKER (103): adds or refreshes a member. Topic configs are taken from the group's
   * lowest-id member only (the master, else the lowest-id slave); a slave's registration refreshes
   * its liveness but leaves the master's queue data alone.
   */
  registerBroker(req: RegisterBrokerRequest): RegisterBrokerResult {
    const { clusterName, brokerName, brokerAddr, brokerId } = req;
    const rejected: RegisterBrokerResult = { accepted: false, masterAddr: null, haServerAddr: null, changed: false };

    // Another address claims this id: keep the one with the newer stateVersion (controller mode).
    const existingGroup = this.groups.get(brokerName);
    const holder = existingGroup?.addrs.get(brokerId);
    if (holder !== undefined && holder !== brokerAddr) {
      const holderLive = this.live.get(holder);
      if (holderLive !== undefined && holderLive.dataVersion.stateVersion > req.dataVersion.stateVersion) {
        return rejected;
      }
    }

    // The same process re-registering under another name or cluster moves: drop the old membership.
    const previous = this.live.get(brokerAddr);
    if (previous !== undefined && (previous.brokerName !== brokerName || previous.clusterName !== clusterName)) {
      this.dropMember(previous);
    }
    const previousLive = this.live.get(brokerAddr);
    const versionChanged = previousLive === undefined || !sameDataVersion(previousLive.dataVersion, req.dataVersion);

    let group = this.groups.get(brokerName);
    let registerFirst = false;
    if (group === undefined) {
      group = newBrokerGroup(clusterName, brokerName);
      this.groups.set(brokerName, group);
      registerFirst = true;
    }
    group.clusters.add(clusterName);
    this.clusterSet(clusterName).add(brokerName);
    group.enableActingMaster = req.enableActingMaster ?? false;
    group.zoneName = req.zoneName;

    // A slave promoted to master (or the reverse) keeps one id per address.
    for (const [id, addr] of [...group.addrs]) {
      if (addr === brokerAddr && id !== brokerId) group.addrs.delete(id);
    }
    const replacedAddr = group.addrs.get(brokerId);
    group.addrs.set(brokerId, brokerAddr);
    if (replacedAddr === undefined) registerFirst = true;
    else if (replacedAddr !== brokerAddr) {
      // The id moved to a new address; the old address no longer belongs to any group.
      this.live.delete(replacedAddr);
      this.filterServers.delete(replacedAddr);
      registerFirst = true;
    }

    if (brokerId === minBrokerId(group)) {
      this.applyTopicConfigs(group, brokerId, req.topicConfigs, registerFirst || versionChanged);
    }

    this.live.set({
      clusterName,
      brokerName,
      brokerAddr,
      brokerId,
      lastUpdateMillis: this.clock(),
      timeoutMillis: req.heartbeatTimeoutMillis ?? DEFAULT_BROKER_TIMEOUT_MILLIS,
      dataVersion: { ...req.dataVersion },
      channelId: req.channelId,
      haServerAddr: req.haServerAddr,
    });

    if (req.filterServerList !== undefined) {
      if (req.filterServerList.length === 0) this.filterServers.delete(brokerAddr);
      else this.filterServers.set(brokerAddr, [...req.filterServerList]);
    }

    const result: RegisterBrokerResult = {
      accepted: true,
      masterAddr: null,
      haServerAddr: null,
      changed: registerFirst || versionChanged,
    };
    if (brokerId !== MASTER_ID) {
      const masterAddr = group.addrs.get(MASTER_ID);
      const masterLive = masterAddr === undefined ? undefined : this.live.get(masterAddr);
      if (masterAddr !== undefined && masterLive !== undefined) {
        result.masterAddr = masterAddr;
        result.haServerAddr = masterLive.haServerAddr;
      }
    }
    return result;
  }

  /**
   * UNREGISTER_BROKER (104): removes the member at `brokerAddr`. The group goes (with its topics'
   * queue data) when its last member goes. Returns whether anything was removed.
   */
  unregisterBroker(req: UnregisterBrokerRequest): boolean {
    const liveInfo = this.live.get(req.brokerAddr);
    let removed = false;
    if (liveInfo !== undefined) {
      removed = this.dropMember(liveInfo);
    }
    // RocketMQ also removes the address from the named group even without a live entry.
    if (this.removeAddrFromGroup(req.brokerName, req.brokerAddr)) removed = true;
    return removed;
  }

  /**
   * BROKER_HEARTBEAT (904), also done by QUERY_DATA_VERSION (322): refreshes a live member's
   * timestamp. With `clusterName`, only a member of that cluster counts. Returns whether it was known.
   */
  heartbeat(brokerAddr: string, clusterName?: string): boolean {
    const info = this.live.get(brokerAddr);
    if (info === undefined || (clusterName !== undefined && info.clusterName !== clusterName)) return false;
    info.lastUpdateMillis = this.clock();
    return true;
  }

  /** Drops every member registered over a closed connection; returns them. */
  onChannelClosed(channelId: ChannelId): BrokerMember[] {
    return this.live.onChannel(channelId).map((info) => {
      this.dropMember(info);
      return memberOf(info);
    });
  }

  /**
   * Drops members whose last registration or heartbeat is older than their timeout (default
   * 120 s): last + timeout < now. Returns them (RocketMQ also closes their channels).
   */
  scanExpired(now: number = this.clock()): BrokerMember[] {
    return this.live.expired(now).map((info) => {
      this.dropMember(info);
      return memberOf(info);
    });
  }

  /**
   * QUERY_DATA_VERSION (322) "changed": true unless the live member at `brokerAddr` last registered
   * exactly this DataVersion. (The handler also calls heartbeat, as RocketMQ does.)
   */
  isDataVersionChanged(brokerAddr: string, dataVersion: DataVersion, clusterName?: string): boolean {
    const current = this.brokerDataVersion(brokerAddr, clusterName);
    return current === null || !sameDataVersion(current, dataVersion);
  }

  /** The DataVersion a live member last registered (body of the QUERY_DATA_VERSION answer). */
  brokerDataVersion(brokerAddr: string, clusterName?: string): DataVersion | null {
    const info = this.live.get(brokerAddr);
    if (info === undefined || (clusterName !== undefined && info.clusterName !== clusterName)) return null;
    return { ...info.dataVersion };
  }

  /**
   * GET_ROUTEINFO_BY_TOPIC (105): the topic's queue data and the groups serving it, or null
   * (TOPIC_NOT_EXIST). Lists are sorted by brokerName, as ali-ons sorts them, so repeated answers
   * are byte-identical when nothing changed.
   */
  routeFor(topic: string): TopicRouteData | null {
    const perBroker = this.topicQueues.get(topic);
    if (perBroker === undefined) return this.provisionalRetryRoute(topic);
    const queueDatas: QueueData[] = [];
    const brokerDatas: BrokerData[] = [];
    const filterServerTable = dict<string[]>();
    for (const brokerName of [...perBroker.keys()].sort(compareStrings)) {
      const group = this.groups.get(brokerName);
      if (group === undefined) continue;
      const queueData = { ...perBroker.get(brokerName)! };
      const brokerData = toBrokerData(group);
      if (this.supportActingMaster) presentActingMaster(brokerData, queueData);
      queueDatas.push(queueData);
      brokerDatas.push(brokerData);
      for (const addr of group.addrs.values()) {
        const servers = this.filterServers.get(addr);
        if (servers !== undefined) filterServerTable[addr] = [...servers];
      }
    }
    if (brokerDatas.length === 0) return null;
    const route: TopicRouteData = { queueDatas, brokerDatas, filterServerTable };
    const orderTopicConf = this.kv?.get(NAMESPACE_ORDER_TOPIC_CONFIG, topic);
    if (orderTopicConf !== undefined) route.orderTopicConf = orderTopicConf;
    return route;
  }

  /** GET_BROKER_CLUSTER_INFO (106): every group and every cluster's group names (sorted). */
  clusterInfo(): ClusterInfo {
    const brokerAddrTable = dict<BrokerData>();
    for (const name of [...this.groups.keys()].sort(compareStrings)) {
      brokerAddrTable[name] = toBrokerData(this.groups.get(name)!);
    }
    const clusterAddrTable = dict<string[]>();
    for (const cluster of [...this.clusters.keys()].sort(compareStrings)) {
      clusterAddrTable[cluster] = [...this.clusters.get(cluster)!].sort(compareStrings);
    }
    return { brokerAddrTable, clusterAddrTable };
  }

  /** GET_ALL_TOPIC_LIST_FROM_NAMESERVER (206): every routable topic, sorted. */
  topicList(): string[] {
    return [...this.topicQueues.topics()].sort(compareStrings);
  }

  /** GET_TOPICS_BY_CLUSTER (224): topics with queues on any group of the cluster, sorted. */
  topicsOfCluster(clusterName: string): string[] {
    const topics = new Set<string>();
    for (const brokerName of this.clusters.get(clusterName) ?? []) {
      for (const topic of this.topicQueues.topicsOf(brokerName)) topics.add(topic);
    }
    return [...topics].sort(compareStrings);
  }

  /**
   * GET_SYSTEM_TOPIC_LIST_FROM_NS (304): cluster names and broker names (each doubles as a topic
   * in RocketMQ) plus the address of some broker.
   */
  systemTopicList(): TopicListResult {
    const topics = new Set<string>();
    for (const [cluster, names] of this.clusters) {
      topics.add(cluster);
      for (const name of names) topics.add(name);
    }
    const result: TopicListResult = { topicList: [...topics].sort(compareStrings) };
    for (const group of this.groups.values()) {
      const first = group.addrs.values().next();
      if (first.done !== true) {
        result.brokerAddr = first.value;
        break;
      }
    }
    return result;
  }

  /**
   * DELETE_TOPIC_IN_NAMESRV (216): removes the topic's route, everywhere or (with `clusterName`)
   * only on that cluster's groups. Returns whether anything was removed.
   */
  deleteTopic(topic: string, clusterName?: string): boolean {
    if (clusterName === undefined) return this.topicQueues.removeTopic(topic);
    let removed = false;
    for (const brokerName of this.clusters.get(clusterName) ?? []) {
      if (this.topicQueues.remove(topic, brokerName)) removed = true;
    }
    return removed;
  }

  /**
   * REGISTER_TOPIC_IN_NAMESRV (217): adds queue data for a topic directly. Like RocketMQ, does
   * nothing (returns false) if any entry names an unknown broker group.
   */
  registerTopic(topic: string, queueDatas: readonly QueueData[]): boolean {
    if (queueDatas.length === 0) return false;
    if (queueDatas.some((qd) => !this.groups.has(qd.brokerName))) return false;
    for (const queueData of queueDatas) this.topicQueues.put(topic, queueData);
    return true;
  }

  /** WIPE_WRITE_PERM_OF_BROKER (205): clears WRITE on all of a group's topics; returns the count. */
  wipeWritePermOfBroker(brokerName: string): number {
    return this.topicQueues.updatePerm(brokerName, (perm) => perm & ~PERM_WRITE);
  }

  /** ADD_WRITE_PERM_OF_BROKER (327): sets READ|WRITE on all of a group's topics; returns the count. */
  addWritePermOfBroker(brokerName: string): number {
    return this.topicQueues.updatePerm(brokerName, () => PERM_READ | PERM_WRITE);
  }

  /** Every live member (for diagnostics and tests), sorted by address. */
  liveBrokers(): Array<BrokerMember & { lastUpdateMillis: number; timeoutMillis: number }> {
    return [...this.live.values()]
      .map((info) => ({ ...memberOf(info), lastUpdateMillis: info.lastUpdateMillis, timeoutMillis: info.timeoutMillis }))
      .sort((a, b) => compareStrings(a.brokerAddr, b.brokerAddr));
  }

  private applyTopicConfigs(group: BrokerGroup, brokerId: number, topicConfigs: Iterable<TopicConfig>, refreshAll: boolean): void {
    const configs = [...topicConfigs];
    const brokerName = group.brokerName;
    if (this.deleteTopicWithBrokerRegistration) {
      const listed = new Set(configs.map((tc) => tc.topicName));
      for (const topic of [...this.topicQueues.topicsOf(brokerName)]) {
        if (!listed.has(topic)) this.topicQueues.remove(topic, brokerName);
      }
    }
    // An acting master (a slave standing in) must not take writes.
    const wipeWrite = brokerId !== MASTER_ID && group.enableActingMaster;
    for (const tc of configs) {
      if (!refreshAll && this.topicQueues.has(tc.topicName, brokerName)) continue;
      this.topicQueues.put(tc.topicName, {
        brokerName,
        readQueueNums: tc.readQueueNums,
        writeQueueNums: tc.writeQueueNums,
        perm: wipeWrite ? tc.perm & ~PERM_WRITE : tc.perm,
        topicSysFlag: tc.topicSysFlag,
      });
    }
  }

  /** Removes a live member and its address from its group. */
  private dropMember(info: BrokerLiveInfo): boolean {
    this.live.delete(info.brokerAddr);
    this.filterServers.delete(info.brokerAddr);
    this.removeAddrFromGroup(info.brokerName, info.brokerAddr);
    return true;
  }

  private removeAddrFromGroup(brokerName: string, brokerAddr: string): boolean {
    const group = this.groups.get(brokerName);
    if (group === undefined) return false;
    let removed = false;
    for (const [id, addr] of [...group.addrs]) {
      if (addr === brokerAddr) {
        group.addrs.delete(id);
        removed = true;
      }
    }
    if (!removed) return false;
    if (this.live.get(brokerAddr)?.brokerName === brokerName) {
      this.live.delete(brokerAddr);
      this.filterServers.delete(brokerAddr);
    }
    if (group.addrs.size === 0) {
      this.groups.delete(brokerName);
      for (const cluster of group.clusters) {
        const names = this.clusters.get(cluster);
        names?.delete(brokerName);
        if (names?.size === 0) this.clusters.delete(cluster);
      }
      this.topicQueues.removeBroker(brokerName);
    } else if (group.enableActingMaster && !group.addrs.has(MASTER_ID)) {
      // The master left a group running with acting master: its queues become read-only.
      this.wipeWritePermOfBroker(brokerName);
    }
    return true;
  }

  private clusterSet(clusterName: string): Set<string> {
    let names = this.clusters.get(clusterName);
    if (names === undefined) {
      names = new Set();
      this.clusters.set(clusterName, names);
    }
    return names;
  }
}

function memberOf(info: BrokerLiveInfo): BrokerMember {
  return {
    clusterName: info.clusterName,
    brokerName: info.brokerName,
    brokerAddr: info.brokerAddr,
    brokerId: info.brokerId,
  };
}

/** Acting master: a master-less group with read-only queues shows its lowest-id slave as "0". */
function presentActingMaster(brokerData: BrokerData, queueData: QueueData): void {
  const ids = Object.keys(brokerData.brokerAddrs).map(Number);
  if (ids.length === 0 || ids.includes(MASTER_ID) || brokerData.enableActingMaster !== true) return;
  if (isWriteable(queueData.perm)) return;
  const minId = Math.min(...ids);
  const addr = brokerData.brokerAddrs[String(minId)]!;
  const rest = dict<string>();
  rest[String(MASTER_ID)] = addr;
  for (const id of ids.sort((a, b) => a - b)) if (id !== minId) rest[String(id)] = brokerData.brokerAddrs[String(id)]!;
  brokerData.brokerAddrs = rest;
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
