import type { Target } from '../../report.js';

/** The brief's target: throughput over TLS at least 0.7 × plain, measured in the same run. */
export const TLS_TARGET: Target = { on: 'ratio', op: '>=', value: 0.7, label: '≥ 0.7 × plain' };
