/** Builders shared by the specs (not exported from the package). */
import type { RegisterBrokerRequest } from './route-registry.js';
import type { DataVersion, TopicConfig } from './types.js';

export function topic(name: string, queues = 4, perm = 6): TopicConfig {
  return { topicName: name, readQueueNums: queues, writeQueueNums: queues, perm, topicSysFlag: 0, order: false };
}

export function version(counter: number, stateVersion = 0, timestamp = 1_700_000_000_000): DataVersion {
  return { stateVersion, timestamp, counter };
}

/** A REGISTER_BROKER request with sensible defaults: master "broker-a" of "DefaultCluster". */
export function registration(overrides: Partial<RegisterBrokerRequest> = {}): RegisterBrokerRequest {
  return {
    clusterName: 'DefaultCluster',
    brokerName: 'broker-a',
    brokerAddr: '10.0.0.1:10911',
    brokerId: 0,
    haServerAddr: '10.0.0.1:10912',
    topicConfigs: [topic('TopicTest')],
    dataVersion: version(1),
    channelId: 'chan-1',
    ...overrides,
  };
}

/** A controllable clock for expiry tests. */
export class FakeClock {
  constructor(public now = 1_000_000) {}
  readonly read = (): number => this.now;
  advance(ms: number): void {
    this.now += ms;
  }
}
