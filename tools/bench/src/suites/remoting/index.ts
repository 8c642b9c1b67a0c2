/** The `remoting` suite: Apogee's server over the RocketMQ remoting protocol, against an echo ceiling. */
import type { Suite } from '../../suite.js';
import { latencyAsync, latencySync } from './latency.js';
import { produce128, produce1k } from './produce.js';
import { produceSigned } from './signed.js';
import { produceTransaction } from './transaction.js';
import { pullSql92 } from './sql92-pull.js';

const suite: Suite = {
  name: 'remoting',
  description:
    'the server over RocketMQ remoting: producer throughput vs an echo ceiling, signed vs unsigned sends, transactional vs plain sends, send→push-consumer latency, SQL92-filtered vs unfiltered pulls',
  scenarios: [produce128, produce1k, produceSigned, produceTransaction, latencyAsync, latencySync, pullSql92],
};

export default suite;
