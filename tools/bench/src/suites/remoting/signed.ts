/**
 * `produce-signed`: pipelined SDK sends signed with RocketMQ ACL 1.0 (AccessKey + HmacSHA1
 * Signature, verified by the broker and decided by the auth rules) as a ratio of unsigned sends to
 * the same server in the same run. The server's `auth` section allows anonymous clients and has one
 * user with keys, so both producers are accepted; every request of both passes the ACL guard.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runChild } from '../../child.js';
import type { BenchContext, Scenario } from '../../suite.js';
import { ApogeeServer, clientNodeFlags, pick } from './common.js';
import type { SignedInput, SignedOutput } from './signed-child.js';

const CHILD = fileURLToPath(new URL('./signed-child.ts', import.meta.url));
const WINDOW = 1000;
const BODY = 128;
export const SIGNED_TARGET_RATIO = 0.9;
const KEYS = { accessKey: 'bench-access-key', secretKey: 'bench-secret-key' };

export const produceSigned: Scenario = {
  name: 'produce-signed',
  description: `SDK Producer, ${BODY} B bodies, ${WINDOW} in flight: ACL 1.0 signed sends vs unsigned sends on one server with an auth section`,
  async run(ctx: BenchContext): Promise<void> {
    const out = await ctx.tmp.with('server-signed', async (dir) => {
      const config = path.join(dir, 'apogee.json');
      fs.writeFileSync(config, JSON.stringify({ auth: { allowAnonymous: true, users: [{ username: 'bench', ...KEYS }] } }));
      const apogee = await ApogeeServer.start(path.join(dir, 'data'), 'async', config);
      try {
        const topic = 'BenchSigned';
        await apogee.createTopic(topic);
        const input: SignedInput = {
          nameServer: apogee.namesrvAddr,
          topic,
          bodySize: BODY,
          ...KEYS,
          window: WINDOW,
          // Short runs, alternated often: on a shared machine drift then spreads over both sides alike.
          runs: pick(ctx, 7, 9),
          maxMessages: pick(ctx, 300_000, 2_000_000),
          durationMs: pick(ctx, 700, 2000),
          warmupMs: pick(ctx, 1500, 3000),
        };
        return await runChild<SignedOutput>({ module: CHILD, input, nodeFlags: clientNodeFlags(), timeoutMs: pick(ctx, 60_000, 300_000) });
      } finally {
        await apogee.stop();
      }
    });
    ctx.report.add({
      scenario: 'produce-signed',
      metric: `signed pipelined send (AccessKey + HmacSHA1 Signature), ${WINDOW} in flight`,
      unit: 'msg/s',
      better: 'higher',
      samples: out.signed,
      baseline: { name: `unsigned send to the same server, ${WINDOW} in flight`, samples: out.unsigned },
      target: { on: 'ratio', op: '>=', value: SIGNED_TARGET_RATIO },
    });
  },
};
