/** The `store` suite: the message store alone, against this machine's disk ceilings. */
import type { Suite } from '../../suite.js';
import { append128, append4k } from './append.js';
import { lmqFanout } from './lmq-fanout.js';
import { lmqMillion } from './lmq-million.js';
import { syncFlush } from './sync-flush.js';
import { coldRead, tailRead } from './tail-read.js';

const suite: Suite = {
  name: 'store',
  description: 'the message store alone: append, group commit, LMQ fan-out, a million LMQs, reads',
  scenarios: [append4k, append128, syncFlush, lmqFanout, lmqMillion, tailRead, coldRead],
};

export default suite;
