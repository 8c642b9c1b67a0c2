/**
 * The CLI signing its requests (RocketMQ ACL 1.0) against a real apps/server process whose `auth`
 * section turns anonymous access off: `consume` of another user's topic is what issue 13 found
 * open (`npm run cli -- consume alice` read alice's messages).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, killAllStarted, tempDataDir } from '../../server/test/server-process.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/cli/src/main.ts');
const ACL = 'org.apache.rocketmq.acl.common.AclException';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<Run> {
  const env: Record<string, string | undefined> = { ...process.env, ...extraEnv };
  for (const k of ['APOGEE_NAMESRV', 'APOGEE_ACCESS_KEY', 'APOGEE_SECRET_KEY']) if (!(k in extraEnv)) delete env[k];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

let server: ServerProcess;
let dataDir: string;
let ns: string[];
const ALICE = ['--access-key', 'alice-ak', '--secret-key', 'alice-secret'];
const MALLORY = ['--access-key', 'mallory-ak', '--secret-key', 'mallory-secret'];

beforeAll(async () => {
  dataDir = tempDataDir('apg-cli-acl-');
  fs.mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'apogee.json');
  const own = (u: string) => ({ allow: [`${u}/#`] });
  fs.writeFileSync(
    file,
    JSON.stringify({
      auth: {
        allowAnonymous: false,
        users: [
          {
            username: 'alice',
            accessKey: 'alice-ak',
            secretKey: 'alice-secret',
            publish: own('alice'),
            subscribe: own('alice'),
            groups: { allow: ['alice-g'] },
          },
          {
            username: 'mallory',
            accessKey: 'mallory-ak',
            secretKey: 'mallory-secret',
            publish: own('mallory'),
            subscribe: own('mallory'),
            groups: { allow: ['mallory-g'] },
          },
          { username: 'ops', accessKey: 'ops-access', secretKey: 'ops-secret', admin: true },
        ],
      },
    }),
  );
  server = await ServerProcess.start(path.join(dataDir, 'data'), undefined, ['--config', file]);
  ns = ['--namesrv', server.namesrvAddr];
});

afterAll(async () => {
  await killAllStarted();
  if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('apogee CLI with --access-key/--secret-key', () => {
  it('signs with flags or the environment; unsigned, wrongly signed and forbidden requests are refused', async () => {
    // Creating a topic is an admin request.
    const denied = await cli([...ns, ...ALICE, 'topic', 'create', 'alice', '--queues', '1']);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`${ACL}: Need admin permission for request code=17, but accessKey=alice-ak is not`);
    const created = await cli([...ns, 'topic', 'create', 'alice', '--queues', '1'], { APOGEE_ACCESS_KEY: 'ops-access', APOGEE_SECRET_KEY: 'ops-secret' });
    expect(created.code, created.stderr).toBe(0);

    const sent = await cli([...ns, ...ALICE, 'send', 'alice', 'dear diary']);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout).toMatch(/^SEND_OK/);

    // The case: without keys (and with another user's) alice's topic is not readable.
    const anonymous = await cli([...ns, 'consume', 'alice', '--group', 'alice-g', '--count', '1', '--timeout-ms', '3000']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain(`${ACL}: No accessKey is configured`);
    expect(anonymous.stdout).not.toContain('dear diary');
    const mallory = await cli([...ns, ...MALLORY, 'consume', 'alice', '--group', 'mallory-g', '--count', '1', '--timeout-ms', '3000']);
    expect(mallory.stdout).not.toContain('dear diary');
    expect(mallory.stderr).toContain(`${ACL}: No default permission for topic:alice`);
    const wrong = await cli([...ns, '--access-key', 'alice-ak', '--secret-key', 'not-her-secret', 'topic', 'list']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`${ACL}: Check signature failed for accessKey=alice-ak`);

    const alice = await cli([...ns, 'consume', 'alice', '--group', 'alice-g', '--count', '1', '--timeout-ms', '30000', '--json'], {
      APOGEE_ACCESS_KEY: 'alice-ak',
      APOGEE_SECRET_KEY: 'alice-secret',
    });
    expect(alice.code, alice.stderr).toBe(0);
    expect(JSON.parse(alice.stdout.trim().split('\n')[0]!).body.text).toBe('dear diary');
  });

  it('wants both keys or neither', async () => {
    const half = await cli([...ns, '--access-key', 'alice-ak', 'topic', 'list']);
    expect(half.code).toBe(2);
    expect(half.stderr).toContain('--access-key and --secret-key go together');
    const halfEnv = await cli([...ns, 'topic', 'list'], { APOGEE_SECRET_KEY: 'alice-secret' });
    expect(halfEnv.code).toBe(2);
  });
});
