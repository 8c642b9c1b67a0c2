import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { aedesRssFromMqttRun, AEDES_AFTER_METRIC, fileTarget, BUDGET_MIB } from '../src/memory-target.js';
import { parseProcStatus, readMappedRss, readProcMemory, readTreeMemory } from '../src/proc-memory.js';

const STATUS = ['Name:\tnode', 'VmRSS:\t  204800 kB', 'RssAnon:\t  153600 kB', 'RssFile:\t   51200 kB', 'RssShmem:\t       0 kB', ''].join('\n');

describe('process memory', () => {
  it('reads VmRSS, RssAnon, RssFile and RssShmem from a status text, in bytes', () => {
    expect(parseProcStatus(STATUS)).toEqual({ rss: 200 * 1048576, anon: 150 * 1048576, file: 50 * 1048576, shmem: 0 });
    expect(() => parseProcStatus('VmRSS: 1 kB\n')).toThrow(/RssAnon/);
  });

  it('reads this process: the parts add up to the whole, a tree holds at least its root', async () => {
    const m = await readProcMemory(process.pid);
    expect(m.anon + m.file + m.shmem).toBe(m.rss);
    expect((await readTreeMemory(process.pid)).rss).toBeGreaterThanOrEqual(m.anon);
  });

  it("sums the resident pages of a process's mappings of one file", async () => {
    // The node binary is mapped by this process; some of its pages are resident.
    expect(await readMappedRss(process.pid, path.basename(process.execPath))).toBeGreaterThan(0);
    expect(await readMappedRss(process.pid, '/no-such-file.mdb')).toBe(0);
  });
});

describe('memory targets', () => {
  it("takes aedes' RSS after load from an mqtt result file: the median over scenarios", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'apg-bench-'));
    expect(await aedesRssFromMqttRun(dir)).toBeNull();
    await mkdir(dir, { recursive: true });
    const row = (value: number) => ({
      scenario: 's',
      metric: AEDES_AFTER_METRIC,
      unit: 'MiB',
      value: 1,
      better: 'lower',
      baseline: { name: 'aedes', value },
      ratio: 1,
    });
    await writeFile(path.join(dir, 'mqtt.json'), JSON.stringify({ suite: 'mqtt', startedAt: 'then', results: [row(100), row(140), row(120)] }));
    expect(await aedesRssFromMqttRun(dir)).toEqual({ mib: 120, startedAt: 'then' });
  });

  it('allows file-backed memory up to the code mapping plus the budget', () => {
    expect(fileTarget(44).value).toBe(44 + BUDGET_MIB);
  });
});
