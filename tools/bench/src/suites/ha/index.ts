/** The `ha` suite: a broker group of a master and a synchronously replicated replica, beside a single broker. */
import type { Suite } from '../../suite.js';
import { syncSend } from './sync-send.js';

const suite: Suite = {
  name: 'ha',
  description: 'synchronous replication to one replica (2 in-sync copies) vs a single broker in the same run: send throughput and send → ack latency',
  scenarios: [syncSend],
};

export default suite;
