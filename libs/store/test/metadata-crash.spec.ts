import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/index.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const writer = path.join(import.meta.dirname, 'metadata-writer.ts');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-meta-crash-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

interface OffsetAck {
  group: string;
  topic: string;
  queueId: number;
  offset: number;
}

/** Runs the writer until `killAfter` acks arrived, then SIGKILLs it; returns its acks. */
function runAndKill(cycle: number, killAfter: number): Promise<{ offsets: OffsetAck[]; topics: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', writer, dir, String(cycle)], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'pipe'] });
    const offsets: OffsetAck[] = [];
    const topics: string[] = [];
    let buf = '';
    let stderr = '';
    let killed = false;
    const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg['topicConfig']) topics.push(msg['topicConfig'] as string);
        else if (msg['offset'] !== undefined) offsets.push(msg as unknown as OffsetAck);
        if (!killed && offsets.length >= killAfter) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('exit', (_code, signal) => {
      clearTimeout(guard);
      if (signal !== 'SIGKILL') reject(new Error(`writer exited without being killed: ${stderr}`));
      else resolve({ offsets, topics }); // a torn last line was never parsed, so never counted
    });
  });
}

describe('metadata survives SIGKILL', () => {
  it('keeps every acknowledged consumer offset and topic config, over 6 kill cycles', async () => {
    const lastAcked = new Map<string, number>();
    const topics = new Set<string>();
    for (let cycle = 1; cycle <= 6; cycle++) {
      const run = await runAndKill(cycle, 200 + cycle * 150);
      for (const a of run.offsets) {
        const k = `${a.group}|${a.topic}|${a.queueId}`;
        lastAcked.set(k, Math.max(lastAcked.get(k) ?? -1, a.offset));
      }
      for (const t of run.topics) topics.add(t);
      const store = await openStore({ dataDir: dir, segmentSize: 256 * 1024 });
      try {
        for (const [k, acked] of lastAcked) {
          const [group, topic, queueId] = k.split('|');
          // Commits grow, so what is stored is the last acknowledged one or a later one in flight.
          expect(store.getConsumerOffset(group!, topic!, Number(queueId)), k).toBeGreaterThanOrEqual(acked);
        }
        for (const t of topics) expect(store.getTopicConfig(t)?.readQueueNums, t).toBe(4);
        const listed = store.listConsumerOffsets('g0').length;
        expect(listed).toBeGreaterThan(0);
      } finally {
        await store.close();
      }
    }
    expect(lastAcked.size).toBeGreaterThanOrEqual(8);
  }, 180_000);
});
