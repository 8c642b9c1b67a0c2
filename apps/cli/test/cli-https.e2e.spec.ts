/**
 * The CLI's HTTP admin API commands over HTTPS: a child process against real apps/server processes
 * with TLS configured (their HTTP port serves HTTPS; certificates made with openssl) and an `auth`
 * section. Trusting the CA with --tls-ca (or APOGEE_TLS_CA) `mqtt clients` and `acl show` work; not
 * trusting it, trusting another CA, a wrong --tls-servername, http:// to the HTTPS port and https://
 * to a plain one fail with one clear line and exit 1; a server that requires client certificates
 * takes --tls-cert/--tls-key.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hashPassword } from '@apogee/broker';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerProcess, killAllStarted, tempDataDir } from '../../server/test/server-process.js';
import { type TlsServer, removeDir, startTlsServer } from '../../server/test/tls-fixtures.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/cli/src/main.ts');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI as `ops` (admin, its password in the environment), nothing else of APOGEE_* from the test's environment. */
function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const full: Record<string, string | undefined> = { ...process.env, APOGEE_USER: 'ops', APOGEE_PASSWORD: 'ops-secret', ...env };
  for (const k of Object.keys(full)) if (k.startsWith('APOGEE_') && !(k in env) && k !== 'APOGEE_USER' && k !== 'APOGEE_PASSWORD') delete full[k];
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repoRoot, env: full, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

function json(r: Run): any {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return JSON.parse(r.stdout.trim().split('\n')[0]!);
}

/** A failed run: exit 1 and exactly one `error: …` line on stderr (no stack trace), which is returned. */
function failure(r: Run): string {
  expect(r.code, r.stdout).toBe(1);
  expect(r.stderr).toMatch(/^error: [^\n]+\n$/);
  return r.stderr.trim();
}

/** `s` as a literal part of a RegExp. */
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const dirs: string[] = [];
let s: TlsServer;
let mtls: TlsServer;
let plain: ServerProcess;
let https: string;
let ca: string[];

/** A config file with an `auth` section whose only admin is `ops` (anonymous clients are no admins). */
async function configFile(): Promise<string> {
  const dir = tempDataDir('apg-cli-https-conf-');
  dirs.push(dir);
  const file = path.join(dir, 'apogee.json');
  const auth = { allowAnonymous: true, anonymous: { admin: false }, users: [{ username: 'ops', password: await hashPassword('ops-secret'), admin: true }] };
  fs.writeFileSync(file, JSON.stringify({ auth }));
  return file;
}

beforeAll(async () => {
  const file = await configFile();
  s = await startTlsServer(['--config', file]);
  dirs.push(s.dataDir);
  https = `https://${s.server.httpAddr}`;
  ca = ['--http', https, '--tls-ca', s.pki.ca.cert];
  // Client certificates required, on every TLS listener and so on the HTTPS port too.
  mtls = await startTlsServer(['--config', file, '--tls-client-auth', 'required']);
  dirs.push(mtls.dataDir);
  const plainDir = tempDataDir('apg-cli-https-plain-');
  dirs.push(plainDir);
  plain = await ServerProcess.start(plainDir);
});

afterAll(async () => {
  await killAllStarted();
  for (const d of dirs) removeDir(d);
});

describe('apogee CLI over the HTTPS admin API', () => {
  it('lists MQTT clients and shows the ACL over https:// with --tls-ca, and with APOGEE_HTTP + APOGEE_TLS_CA', async () => {
    const client = await mqtt.connectAsync(s.server.mqttUrl, { clientId: 'cli-https-dev', protocolVersion: 5, reconnectPeriod: 0 });
    try {
      await client.subscribeAsync('sensors/+/temp', { qos: 1 });
      const listed = json(await cli([...ca, 'mqtt', 'clients', '--json', '--prefix', 'cli-https']));
      expect(listed.clients).toEqual([
        expect.objectContaining({ clientId: 'cli-https-dev', connected: true, subscriptions: [expect.objectContaining({ filter: 'sensors/+/temp', qos: 1 })] }),
      ]);
      const text = await cli(['mqtt', 'clients'], { APOGEE_HTTP: https, APOGEE_TLS_CA: s.pki.ca.cert });
      expect(text.code, text.stderr).toBe(0);
      expect(text.stdout).toMatch(/cli-https-dev\s+connected\s+5\.0/);
    } finally {
      await client.endAsync();
    }
    const acl = json(await cli([...ca, 'acl', 'show', '--json']));
    expect(acl.users).toEqual([expect.objectContaining({ username: 'ops', admin: true })]);
    expect(JSON.stringify(acl)).not.toContain('scrypt');
    // The certificate is for 127.0.0.1 and localhost: --tls-servername localhost verifies as well.
    json(await cli([...ca, '--tls-servername', 'localhost', 'acl', 'show', '--json']));
  });

  it('refuses a server certificate it cannot verify, with a line that says what to pass', async () => {
    const untrusted = failure(await cli(['--http', https, 'acl', 'show']));
    expect(untrusted).toMatch(
      new RegExp(
        `^error: cannot reach the HTTP admin API at ${escape(https)}: .*certificate.* \\(the server certificate is not trusted: pass the CA that signed it with --tls-ca FILE or APOGEE_TLS_CA\\)$`,
      ),
    );
    expect(failure(await cli(['--http', https, '--tls-ca', s.pki.otherCa.cert, 'mqtt', 'clients']))).toBe(untrusted);
    const wrongName = failure(await cli([...ca, '--tls-servername', 'broker.example', 'acl', 'show']));
    expect(wrongName).toMatch(
      /^error: cannot reach the HTTP admin API at https:\/\/127\.0\.0\.1:\d+: Hostname\/IP does not match certificate's altnames: .*broker\.example/,
    );
    expect(wrongName).toContain('--tls-servername NAME');
    // A wrong password is the API's answer, over HTTPS as over HTTP.
    expect(failure(await cli([...ca, 'acl', 'show'], { APOGEE_PASSWORD: 'wrong' }))).toBe('error: 401 UNAUTHENTICATED bad username or password');
  });

  it('says which scheme to use when http:// meets the HTTPS port, or https:// a plain HTTP port', async () => {
    const httpToHttps = failure(await cli(['--http', `http://${s.server.httpAddr}`, 'acl', 'show']));
    expect(httpToHttps).toMatch(/^error: cannot reach the HTTP admin API at http:\/\/127\.0\.0\.1:\d+: .*use an https:\/\/ URL\)$/);
    const httpsToHttp = failure(await cli(['--http', `https://${plain.httpAddr}`, '--tls-ca', s.pki.ca.cert, 'acl', 'show']));
    expect(httpsToHttp).toBe(
      `error: cannot reach the HTTP admin API at https://${plain.httpAddr}: TLS wrong version number: the port does not answer TLS (is it plain HTTP? then use an http:// URL)`,
    );
  });

  it('presents --tls-cert/--tls-key to a server that requires client certificates', async () => {
    const url = `https://${mtls.server.httpAddr}`;
    const withCert = ['--http', url, '--tls-ca', mtls.pki.ca.cert, '--tls-cert', mtls.pki.client.cert, '--tls-key', mtls.pki.client.key];
    expect(json(await cli([...withCert, 'acl', 'show', '--json'])).users).toEqual([expect.objectContaining({ username: 'ops' })]);
    const without = failure(await cli(['--http', url, '--tls-ca', mtls.pki.ca.cert, 'acl', 'show']));
    expect(without).toMatch(
      new RegExp(`^error: cannot reach the HTTP admin API at ${escape(url)}: TLS .*certificate required: .*pass --tls-cert FILE --tls-key FILE\\)$`),
    );
  });
});
