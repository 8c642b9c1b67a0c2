import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type * as Rhea from 'rhea';
import { describe, expect, it } from 'vitest';

const rhea = createRequire(import.meta.url)('rhea') as typeof Rhea;
const repoRoot = path.resolve(import.meta.dirname, '../../..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe('apps/amqp-gateway', () => {
  it('serves AMQP on its own data directory and stops cleanly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-amqpgw-'));
    const port = await freePort();
    const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/amqp-gateway/src/main.ts', '--data-dir', dir, '--amqp-port', String(port)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    try {
      for (let i = 0; i < 300 && !out.includes('amqp-gateway: ready'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('amqp-gateway: ready');
      const conn = rhea.create_container({ id: 'gw-test' }).connect({ host: '127.0.0.1', port, reconnect: false });
      const got = await new Promise<string>((resolve, reject) => {
        conn.on('connection_error', () => reject(new Error('connection error')));
        conn.open_receiver({ source: { address: 'gw-alone' } }).on('message', (ctx) => resolve(String(ctx.message!.body)));
        const s = conn.open_sender({ target: { address: 'gw-alone' } });
        s.once('sendable', () => s.send({ body: 'yes' }));
      });
      expect(got).toBe('yes');
      conn.close();
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped cleanly');
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad log level at start with a clear message', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/amqp-gateway/src/main.ts', '--log-level', 'loud'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    expect(await new Promise((resolve) => proc.on('exit', resolve))).toBe(1);
    expect(err).toBe('amqp-gateway: --log-level: log level must be one of trace, debug, info, warn, error, fatal, silent; got "loud"\n');
  });
});
