/** @apogee/chaos: the chaos harness (docs/chaos.md) as a library, for tests and the CLI. */
export { runChaos, DEFAULTS, type ChaosOptions, type ChaosReport } from './run.js';
export { formatReport } from './report.js';
export { check, unavailability, type CheckInput, type CheckResult, type FaultFigures, type FaultWindow } from './checker.js';
export { buildSchedule, parseDuration, parseKinds, parseRange, FAULT_KINDS, type FaultKind, type ScheduledFault } from './schedule.js';
export { ChaosNet, NS_PREFIX, sweepStale, unsupportedReason } from './net.js';
export { TOPOLOGIES } from './topologies/index.js';
export type { Topology, TopologyContext, ChaosHost, HostRole } from './topology.js';
