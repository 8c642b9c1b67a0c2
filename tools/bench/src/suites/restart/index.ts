/** The `restart` suite: how fast the server comes back after SIGKILL, against a bare Node process on the same ports. */
import type { Suite } from '../../suite.js';
import { restartAfterKill } from './restart.js';

const suite: Suite = {
  name: 'restart',
  description: 'SIGKILL under load, then the restart until every port accepts, beside a bare Node process opening the same ports',
  scenarios: [restartAfterKill],
};

export default suite;
