/**
 * The standalone NameServer over remoting TLS: enforcing serves a TLS client and closes a plain
 * one; a key that does not belong to the certificate stops the start naming the file.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { makeTestPki } from '@apogee/tls/testing';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/namesrv/src/main.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-namesrv-tls-'));
const pki = makeTestPki(dir);
const started: ChildProcess[] = [];

afterAll(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

function start(flags: string[]): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', main, '--port', '0', ...flags], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  return { proc, output: () => out, exited: new Promise((resolve) => proc.on('exit', (code) => resolve(code))) };
}

describe('namesrv process over TLS', () => {
  it('enforcing: a TLS client gets answers, a plain client is closed', async () => {
    const ns = start(['--tls-cert', pki.server.cert, '--tls-key', pki.server.key, '--remoting-tls', 'enforcing']);
    for (let i = 0; i < 300 && !ns.output().includes('namesrv: listening'); i++) await new Promise((r) => setTimeout(r, 100));
    const addr = /"addr":"([^"]+)","tls":"enforcing"/.exec(ns.output())?.[1];
    expect(addr, ns.output()).toMatch(/^127\.0\.0\.1:\d+$/);
    const secure = new RemotingClient({ tls: { ca: fs.readFileSync(pki.ca.cert), servername: 'localhost' } });
    const plain = new RemotingClient({ requestTimeoutMs: 3000 });
    try {
      const info = await secure.invoke(addr!, makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
      expect(info.code).toBe(ResponseCode.SUCCESS);
      await expect(plain.invoke(addr!, makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO))).rejects.toThrow();
    } finally {
      secure.close();
      plain.close();
    }
    ns.proc.kill('SIGTERM');
    expect(await ns.exited).toBe(0);
  });

  it('a key of another certificate: exit 1 naming the file', async () => {
    const ns = start(['--tls-cert', pki.server.cert, '--tls-key', pki.client.key]);
    expect(await ns.exited).toBe(1);
    expect(ns.output()).toContain(`namesrv: TLS private key file ${pki.client.key} does not belong to the certificate in ${pki.server.cert}`);
  });
});
