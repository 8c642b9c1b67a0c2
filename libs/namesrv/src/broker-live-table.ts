import type { BrokerMember, DataVersion } from './types.js';

/**
 * Identifies the connection a broker registered over, so that closing it drops the broker.
 * Whatever the transport uses (a number, a string, the socket object itself); compared by identity.
 */
export type ChannelId = string | number | object;

/** What the NameServer remembers of a live broker member (RocketMQ BrokerLiveInfo). */
export interface BrokerLiveInfo extends BrokerMember {
  lastUpdateMillis: number;
  timeoutMillis: number;
  dataVersion: DataVersion;
  channelId: ChannelId;
  haServerAddr: string;
}

/**
 * Live broker members keyed by address, indexed by channel. One "ip:port" is one broker process,
 * so the address alone is the key (RocketMQ keys by cluster + address; a process cannot be in two
 * clusters at once, and a re-registration under another cluster or name moves it).
 */
export class BrokerLiveTable {
  private readonly byAddr = new Map<string, BrokerLiveInfo>();
  private readonly byChannel = new Map<ChannelId, Set<string>>();

  get(brokerAddr: string): BrokerLiveInfo | undefined {
    return this.byAddr.get(brokerAddr);
  }

  set(info: BrokerLiveInfo): void {
    this.delete(info.brokerAddr);
    this.byAddr.set(info.brokerAddr, info);
    let addrs = this.byChannel.get(info.channelId);
    if (addrs === undefined) {
      addrs = new Set();
      this.byChannel.set(info.channelId, addrs);
    }
    addrs.add(info.brokerAddr);
  }

  delete(brokerAddr: string): BrokerLiveInfo | undefined {
    const info = this.byAddr.get(brokerAddr);
    if (info === undefined) return undefined;
    this.byAddr.delete(brokerAddr);
    const addrs = this.byChannel.get(info.channelId);
    if (addrs !== undefined) {
      addrs.delete(brokerAddr);
      if (addrs.size === 0) this.byChannel.delete(info.channelId);
    }
    return info;
  }

  /** Members that registered over a channel. */
  onChannel(channelId: ChannelId): BrokerLiveInfo[] {
    const addrs = this.byChannel.get(channelId);
    if (addrs === undefined) return [];
    return [...addrs].map((addr) => this.byAddr.get(addr)).filter((info) => info !== undefined);
  }

  /** Members whose last registration or heartbeat plus their timeout lies before `now`. */
  expired(now: number): BrokerLiveInfo[] {
    const result: BrokerLiveInfo[] = [];
    for (const info of this.byAddr.values()) {
      if (info.lastUpdateMillis + info.timeoutMillis < now) result.push(info);
    }
    return result;
  }

  values(): IterableIterator<BrokerLiveInfo> {
    return this.byAddr.values();
  }

  get size(): number {
    return this.byAddr.size;
  }
}
