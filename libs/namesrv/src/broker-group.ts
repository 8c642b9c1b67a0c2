import { dict } from './json-fields.js';
import type { BrokerData } from './types.js';

/**
 * One broker group (all members sharing a brokerName: a master, id 0, and slaves, ids ≥ 1), as the
 * registry keeps it. Mutable and internal; routes and cluster info get copies via toBrokerData.
 */
export interface BrokerGroup {
  /** The cluster the group first registered under; what BrokerData.cluster reports. */
  cluster: string;
  brokerName: string;
  /** brokerId → "ip:port". */
  addrs: Map<number, string>;
  enableActingMaster: boolean;
  zoneName: string | undefined;
  /** Every cluster whose clusterAddrTable lists this group (normally just `cluster`). */
  clusters: Set<string>;
}

export function newBrokerGroup(cluster: string, brokerName: string): BrokerGroup {
  return {
    cluster,
    brokerName,
    addrs: new Map(),
    enableActingMaster: false,
    zoneName: undefined,
    clusters: new Set([cluster]),
  };
}

/** Lowest registered brokerId: 0 when the master is present, else the "prime" slave. */
export function minBrokerId(group: BrokerGroup): number | undefined {
  let min: number | undefined;
  for (const id of group.addrs.keys()) if (min === undefined || id < min) min = id;
  return min;
}

/** A detached BrokerData with brokerAddrs keyed by decimal brokerId in ascending id order. */
export function toBrokerData(group: BrokerGroup): BrokerData {
  const brokerAddrs = dict<string>();
  for (const id of [...group.addrs.keys()].sort((a, b) => a - b)) {
    brokerAddrs[String(id)] = group.addrs.get(id)!;
  }
  const data: BrokerData = {
    cluster: group.cluster,
    brokerName: group.brokerName,
    brokerAddrs,
    enableActingMaster: group.enableActingMaster,
  };
  if (group.zoneName !== undefined) data.zoneName = group.zoneName;
  return data;
}
