/**
 * The bounded fuzz campaign of each protocol against a real server process (the production
 * build): a few thousand frames, about a third mutated, many connections; after every batch a
 * round trip on every endpoint. Fixed seeds, so a failure reproduces with
 * `npm run fuzz -- --protocol P --seed S --frames N` (FUZZ_SEED picks another seed here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCampaign } from '../src/campaign.js';
import { amqpFrames } from '../src/frames/amqp.js';
import { mqttFrames } from '../src/frames/mqtt.js';
import { remotingFrames } from '../src/frames/remoting.js';
import { FuzzedServer } from '../src/server.js';

/** Anonymous resident memory the server may gain over a campaign (store caches, sessions, buffers). */
const RSS_GROWTH_BUDGET_MIB = 256;

let server: FuzzedServer;
beforeAll(async () => {
  server = await FuzzedServer.start();
});
afterAll(async () => {
  await server?.stop();
});

describe.each([
  ['remoting', remotingFrames, 101],
  ['mqtt', mqttFrames, 202],
  ['amqp', amqpFrames, 303],
] as const)('fuzz %s', (_name, frames, defaultSeed) => {
  it('the server survives mutated frames on many connections, every endpoint keeps answering, memory stays bounded', async () => {
    const seed = process.env['FUZZ_SEED'] ? Number(process.env['FUZZ_SEED']) : defaultSeed;
    const r = await runCampaign(server, { frames, totalFrames: 3_000, concurrency: 20, framesPerConnection: 40, seed, maxSeconds: 120 });
    console.log(
      `fuzz ${r.protocol}: seed ${seed}, ${r.frames} frames (${r.mutated} mutated), ${r.closedByServer}/${r.connections} closed by the server, RssAnon ${r.rssBeforeMiB.toFixed(0)}→${r.rssMaxMiB.toFixed(0)} MiB`,
    );
    expect(r.failures).toEqual([]);
    expect(r.stoppedEarly).toBe(false);
    expect(r.frames).toBeGreaterThanOrEqual(3_000);
    // About a third mutated: the campaign really sent hostile input.
    expect(r.mutated).toBeGreaterThan(r.frames / 5);
    expect(server.alive).toBe(true);
    expect(r.rssMaxMiB - r.rssBeforeMiB).toBeLessThan(RSS_GROWTH_BUDGET_MIB);
  });
});
