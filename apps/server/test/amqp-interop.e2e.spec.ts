/**
 * Python qpid-proton (Debian python3-qpid-proton, an independent AMQP 1.0 implementation) against a
 * real server process: send/receive, credit and drain, every disposition, a large message split
 * into frames both ways, and same-named links of both roles. Locally it skips when the package is
 * missing; under CI=true (.ci/run installs it) it must run.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROTON_CLIENT } from './amqp-proton-client.js';
import { ServerProcess, killAllStarted, tempDataDir } from './server-process.js';

const run = promisify(execFile);
const CI = process.env['CI'] === 'true';
const PYTHON = '/usr/bin/python3';
const hasProton = fs.existsSync(PYTHON) && fs.existsSync('/usr/lib/python3/dist-packages/proton/__init__.py');

if (CI && !hasProton) throw new Error('CI=true but python3-qpid-proton is missing: .ci/run installs it');

let server: ServerProcess;
let dataDir: string;
let script: string;

beforeAll(async () => {
  dataDir = tempDataDir('apg-proton-');
  server = await ServerProcess.start(dataDir);
  script = path.join(dataDir, 'proton-client.py');
  fs.writeFileSync(script, PROTON_CLIENT);
});

afterAll(async () => {
  await killAllStarted();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** Runs one scenario of the proton client; resolves with what it printed. */
async function proton(scenario: string): Promise<Record<string, unknown>> {
  const { stdout } = await run(PYTHON, [script, String(server.amqpPort), scenario], { timeout: 60_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>;
}

describe.skipIf(!hasProton)('python3-qpid-proton', () => {
  it('sends and receives with properties, within the credit granted, and answers a drain', async () => {
    const out = await proton('send-receive');
    expect(out['errors']).toEqual([]);
    expect(out['first']).toEqual(['m0', 'm1']);
    expect(out['drained']).toEqual(['m2', 'm3', 'm4']);
    expect(out['drain_answered_after']).toBe(3);
    expect(out['props']).toEqual([0, 1, 2, 3, 4].map((i) => [`s${i}`, i]));
  });

  it('round-trips a 300 kB message in frames of at most 16 kB each way', async () => {
    const out = await proton('large');
    expect(out['errors']).toEqual([]);
    expect(out['size']).toBe(300_000);
    expect(out['same']).toBe(true);
  });

  it('released and modified redeliver (delivery-failed counts), rejected dead-letters, and credit keeps flowing after a reject', async () => {
    const out = await proton('dispositions');
    expect(out['errors']).toEqual([]);
    expect(out['steps']).toEqual([
      ['d0', 0],
      ['d0', 0],
      ['d0', 1],
      ['d1', 0],
      ['d2', 0],
    ]);
    expect(out['dlq']).toEqual(['d1', 0]);
  });

  it('takes a sending and a receiving link with the same name on one session', async () => {
    const out = await proton('same-name');
    expect(out['errors']).toEqual([]);
    expect(out['got']).toBe('same-name');
  });
});
