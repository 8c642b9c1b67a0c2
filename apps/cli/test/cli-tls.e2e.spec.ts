/**
 * The CLI over remoting TLS: a child process against a real apps/server process whose NameServer
 * and broker ports enforce TLS with client certificates required (certificates made with openssl).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAllStarted } from '../../server/test/server-process.js';
import { type TlsServer, removeDir, startTlsServer } from '../../server/test/tls-fixtures.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/cli/src/main.ts');

function cli(args: readonly string[], extraEnv: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  for (const k of ['APOGEE_NAMESRV', 'APOGEE_TLS', 'APOGEE_TLS_CA', 'APOGEE_TLS_CERT', 'APOGEE_TLS_KEY']) if (!(k in extraEnv)) delete env[k];
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

let s: TlsServer;
let ns: string[];
let mtls: string[];

beforeAll(async () => {
  s = await startTlsServer(['--remoting-tls', 'enforcing', '--tls-client-auth', 'required']);
  ns = ['--namesrv', s.server.namesrvAddr];
  mtls = ['--tls-ca', s.pki.ca.cert, '--tls-cert', s.pki.client.cert, '--tls-key', s.pki.client.key];
});

afterAll(async () => {
  await killAllStarted();
  if (s) removeDir(s.dataDir);
});

describe('apogee CLI over TLS', () => {
  it('creates a topic, sends and consumes with --tls-ca/--tls-cert/--tls-key', async () => {
    const created = await cli([...ns, ...mtls, 'topic', 'create', 'CliTls', '--queues', '1', '--json']);
    expect(created.stderr).toBe('');
    expect(JSON.parse(created.stdout)).toMatchObject({ topic: 'CliTls', brokers: [s.server.brokerAddr] });
    const sent = await cli([...ns, ...mtls, 'send', 'CliTls', 'over-tls', '--json']);
    expect(JSON.parse(sent.stdout)).toMatchObject({ status: 'SEND_OK' });
    // The same settings from the environment.
    const env = { APOGEE_TLS_CA: s.pki.ca.cert, APOGEE_TLS_CERT: s.pki.client.cert, APOGEE_TLS_KEY: s.pki.client.key };
    const got = await cli([...ns, 'consume', 'CliTls', '--group', 'cli-tls', '--count', '1', '--timeout-ms', '30000', '--json'], env);
    expect(got.code).toBe(0);
    expect(JSON.parse(got.stdout.trim()).body.text).toBe('over-tls');
  });

  it('fails (exit 1) without TLS, without a client certificate, or trusting another CA; a missing file is named', async () => {
    const plain = await cli([...ns, 'topic', 'list']);
    expect(plain.code).toBe(1);
    expect(plain.stderr).toContain(`cannot reach the NameServer at ${s.server.namesrvAddr}`);
    expect((await cli([...ns, '--tls-ca', s.pki.ca.cert, 'topic', 'list'])).code).toBe(1);
    const wrongCa = await cli([...ns, '--tls-ca', s.pki.otherCa.cert, '--tls-cert', s.pki.client.cert, '--tls-key', s.pki.client.key, 'topic', 'list']);
    expect(wrongCa.code).toBe(1);
    expect(wrongCa.stderr).toMatch(/certificate|self-signed/i);
    const missing = await cli([...ns, '--tls-ca', '/nonexistent/ca.pem', 'topic', 'list']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('error: TLS CA file /nonexistent/ca.pem: cannot be read (ENOENT)\n');
  });
});
