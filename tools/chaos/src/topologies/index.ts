/** The topologies `--topology` names. A new one is one more entry. */
import type { Topology, TopologyContext } from '../topology.js';
import { ClusterTopology } from './cluster.js';
import { HaTopology } from './ha.js';
import { SingleTopology } from './single.js';

export const TOPOLOGIES: Record<string, (ctx: TopologyContext) => Topology> = {
  single: (ctx) => new SingleTopology(ctx),
  cluster: (ctx) => new ClusterTopology(ctx),
  ha: (ctx) => new HaTopology(ctx),
};
