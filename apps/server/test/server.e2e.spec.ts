import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RemotingClient, RequestCode, ResponseCode, makeRequest } from '@apogee/remoting';
import { afterEach, describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const main = path.join(repoRoot, 'apps/server/src/main.ts');
const started: ChildProcess[] = [];

function startServer(dataDir: string): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', main, '--data-dir', dataDir, '--flush', 'sync', '--namesrv-port', '0'], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(proc);
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

async function waitFor(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 100));
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.pid) process.kill(p.pid, 'SIGKILL');
});

describe('apogee server process', () => {
  it('opens the store, refuses a second start on the same directory, and stops cleanly on SIGTERM', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-server-'));
    try {
      const a = startServer(dataDir);
      await waitFor(() => a.output().includes('no broker endpoint yet'), 'the server to start');
      expect(a.output()).toContain('"flush":"SYNC_FLUSH"');
      // The embedded NameServer answers on its port.
      const addr = /namesrv listening","addr":"([^"]+)"/.exec(a.output())?.[1];
      expect(addr, a.output()).toMatch(/^127\.0\.0\.1:\d+$/);
      const client = new RemotingClient();
      try {
        const res = await client.invoke(addr!, makeRequest(RequestCode.GET_BROKER_CLUSTER_INFO));
        expect(res.code).toBe(ResponseCode.SUCCESS);
      } finally {
        client.close();
      }

      const b = startServer(dataDir);
      expect(await b.exited).toBe(1);
      expect(b.output()).toMatch(/is in use by process \d+/);

      a.proc.kill('SIGTERM');
      expect(await a.exited).toBe(0);
      expect(a.output()).toContain('stopped cleanly');
      expect(fs.existsSync(path.join(dataDir, 'store', 'lock'))).toBe(false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
