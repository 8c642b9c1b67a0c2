import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

describe('apps/mqtt-gateway', () => {
  it('serves MQTT on its own data directory and stops cleanly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-mqttgw-'));
    const [port, wsPort] = [await freePort(), await freePort()];
    const proc = spawn(
      process.execPath,
      ['--import', 'tsx', 'apps/mqtt-gateway/src/main.ts', '--data-dir', dir, '--mqtt-port', String(port), '--mqtt-ws-port', String(wsPort)],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const exited = new Promise<number | null>((r) => proc.on('exit', (c) => r(c)));
    try {
      for (let i = 0; i < 300 && !out.includes('mqtt-gateway: ready'); i++) await new Promise((r) => setTimeout(r, 50));
      expect(out).toContain('mqtt-gateway: ready');
      const sub = await mqtt.connectAsync(`ws://127.0.0.1:${wsPort}/mqtt`, { reconnectPeriod: 0 });
      const got: string[] = [];
      sub.on('message', (t, p) => got.push(`${t}=${p}`));
      await sub.subscribeAsync('gw/#', { qos: 1 });
      const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0 });
      await pub.publishAsync('gw/alone', 'yes', { qos: 1 });
      for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual(['gw/alone=yes']);
      await pub.endAsync();
      await sub.endAsync();
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(out).toContain('stopped cleanly');
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad log level at start with a clear message', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'apps/mqtt-gateway/src/main.ts', '--log-level', 'loud'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    proc.stderr.on('data', (d) => (err += d));
    expect(await new Promise((resolve) => proc.on('exit', resolve))).toBe(1);
    expect(err).toBe('mqtt-gateway: --log-level: log level must be one of trace, debug, info, warn, error, fatal, silent; got "loud"\n');
  });
});
