import path from 'node:path';
import { Broker } from './broker.js';
import { engineContract } from './test-engine-contract.js';
import { openTestStore } from './test-support.js';

// The in-process engine: a Broker over a real store in a temp directory.
engineContract('in-process Broker', async (dir) => {
  const store = await openTestStore(path.join(dir, 'store'));
  const engine = await Broker.open({ store, configDir: path.join(dir, 'config') });
  return {
    engine,
    close: async () => {
      await engine.close();
      await store.close();
    },
  };
});
