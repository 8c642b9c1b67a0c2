/**
 * SIGKILL the server while 2,000 timers are pending (some fired already), restart it on the same
 * data directory, and check that every acknowledged timer fires exactly once, none before its due time.
 */
import fs from 'node:fs';
import { Producer } from '@apogee/client';
import { afterAll, describe, expect, it } from 'vitest';
import { createTopic } from './remoting-helpers.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';
import { pullAll } from './timer-helpers.js';

const TIMERS = 2000;
const SPREAD_MS = 4000;

afterAll(killAllStarted);

describe('timers across a crash', () => {
  it('fire exactly once and never early after a SIGKILL mid-load', async () => {
    const dataDir = tempDataDir('apg-timer-crash-');
    try {
      let server = await ServerProcess.start(dataDir);
      await createTopic(server.brokerAddr, server.namesrvAddr, 'TimerCrash');
      const p = new Producer({ nameServer: server.namesrvAddr, group: 'timer-crash-p' });
      await p.start();
      const base = Date.now() + 500;
      const due = new Map<string, number>();
      const sends: Array<Promise<unknown>> = [];
      for (let i = 0; i < TIMERS; i++) {
        const at = base + Math.floor((i * SPREAD_MS) / TIMERS);
        sends.push(p.send({ topic: 'TimerCrash', body: `c${i}`, keys: `k${i}`, deliverTimeMs: at }).then(() => due.set(`k${i}`, at)));
      }
      await Promise.all(sends);
      // Kill with part of the load fired and part still pending.
      await new Promise((r) => setTimeout(r, base + SPREAD_MS / 2 - Date.now()));
      await server.kill();
      await p.shutdown();
      const beforeRestart = Date.now();
      server = await ServerProcess.start(dataDir);
      // Wait for the last due time, then for the broker to have fired everything.
      await new Promise((r) => setTimeout(r, Math.max(0, base + SPREAD_MS - Date.now())));
      let got = await pullAll(server.namesrvAddr, 'TimerCrash');
      for (let tries = 0; got.length < TIMERS && tries < 100; tries++) {
        await new Promise((r) => setTimeout(r, 300));
        got = await pullAll(server.namesrvAddr, 'TimerCrash');
      }
      await new Promise((r) => setTimeout(r, 1000)); // a late duplicate would show up here
      got = await pullAll(server.namesrvAddr, 'TimerCrash');
      const seen = new Map<string, number>();
      for (const m of got) seen.set(m.keys[0]!, (seen.get(m.keys[0]!) ?? 0) + 1);
      expect(due.size).toBe(TIMERS);
      expect([...seen.values()].filter((n) => n > 1)).toEqual([]);
      expect(seen.size).toBe(TIMERS);
      for (const m of got) expect(m.storeTimestamp).toBeGreaterThanOrEqual(due.get(m.keys[0]!)!);
      const firedAfterRestart = got.filter((m) => m.storeTimestamp >= beforeRestart).length;
      expect(firedAfterRestart).toBeGreaterThan(0);
      expect(firedAfterRestart).toBeLessThan(TIMERS);
      await server.stop();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
