import { Perm, DEFAULT_TOPIC } from '@apogee/message';
import path from 'node:path';
import type { MessageStore, TopicConfig } from '@apogee/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveBrokerConfig, type BrokerConfig } from '../config.js';
import { brokerError, makeTempDir, openTestStore, removeDir } from '../test-support.js';
import { TopicManager, checkTopicName } from './topic-manager.js';

let dir: string;
let store: MessageStore;

beforeEach(async () => {
  dir = makeTempDir();
  store = await openTestStore(path.join(dir, 'store'));
});

afterEach(async () => {
  await store.close();
  removeDir(dir);
});

async function manager(cfg: Partial<BrokerConfig> = {}): Promise<TopicManager> {
  const tm = new TopicManager(store, resolveBrokerConfig(cfg));
  await tm.init();
  return tm;
}

const topicConfig = (topicName: string, over: Partial<TopicConfig> = {}): TopicConfig => ({
  topicName,
  readQueueNums: 4,
  writeQueueNums: 4,
  perm: Perm.READ | Perm.WRITE,
  topicFilterType: 'SINGLE_TAG',
  topicSysFlag: 0,
  order: false,
  attributes: {},
  ...over,
});

describe('TopicManager', () => {
  it('creates TBW102 with defaultTopicQueueNums queues and INHERIT while auto-creation is on', async () => {
    const tm = await manager();
    expect(tm.get(DEFAULT_TOPIC)).toMatchObject({ readQueueNums: 8, writeQueueNums: 8, perm: Perm.READ | Perm.WRITE | Perm.INHERIT });
    const off = new TopicManager(store, resolveBrokerConfig({ autoCreateTopicEnable: false, defaultTopicQueueNums: 4 }));
    await off.init();
    expect(store.getTopicConfig(DEFAULT_TOPIC)).toMatchObject({ writeQueueNums: 4, perm: Perm.READ | Perm.WRITE });
  });

  it('auto-creates from TBW102 with min(defaultTopicQueueNums, TBW102 queues) queues and without INHERIT', async () => {
    const tm = await manager();
    const a = await tm.getOrAutoCreate('A', DEFAULT_TOPIC, 4);
    expect(a).toMatchObject({ topicName: 'A', readQueueNums: 4, writeQueueNums: 4, perm: Perm.READ | Perm.WRITE });
    const b = await tm.getOrAutoCreate('B', DEFAULT_TOPIC, 16);
    expect(b).toMatchObject({ readQueueNums: 8, writeQueueNums: 8 });
    expect(b.perm & Perm.INHERIT).toBe(0);
    expect(store.getTopicConfig('B')).toEqual(b);
    // a second call returns the existing config untouched
    expect(await tm.getOrAutoCreate('A', DEFAULT_TOPIC, 8)).toMatchObject({ writeQueueNums: 4 });
  });

  it('refuses auto-creation with TOPIC_NOT_EXIST when disabled or when the default topic does not inherit', async () => {
    const off = await manager({ autoCreateTopicEnable: false });
    await brokerError(() => off.getOrAutoCreate('A', DEFAULT_TOPIC, 4), 'TOPIC_NOT_EXIST');
    expect(off.get('A')).toBeUndefined();
    const on = await manager();
    await brokerError(() => on.getOrAutoCreate('A', 'NoSuchDefault', 4), 'TOPIC_NOT_EXIST');
    await on.createOrUpdate(topicConfig('Plain'));
    await brokerError(() => on.getOrAutoCreate('A', 'Plain', 4), 'TOPIC_NOT_EXIST');
  });

  it('rejects illegal names with INVALID_PARAMETER', async () => {
    const tm = await manager();
    for (const bad of ['', 'has space', 'a/b', 'x'.repeat(128), 'tab\t']) {
      await brokerError(() => tm.createOrUpdate(topicConfig(bad)), 'INVALID_PARAMETER');
      await brokerError(() => checkTopicName(bad), 'INVALID_PARAMETER');
    }
    expect(() => checkTopicName('x'.repeat(127))).not.toThrow();
    expect(() => checkTopicName(`%RETRY%${'g'.repeat(200)}`)).not.toThrow();
    await brokerError(() => tm.createOrUpdate(topicConfig('Q', { writeQueueNums: 1025 })), 'INVALID_PARAMETER');
    await brokerError(() => tm.createOrUpdate(topicConfig('Q', { readQueueNums: -1 })), 'INVALID_PARAMETER');
    await brokerError(() => tm.createOrUpdate(topicConfig('Q', { perm: 16 })), 'INVALID_PARAMETER');
    await brokerError(() => tm.createOrUpdate(topicConfig('SCHEDULE_TOPIC_XXXX')), 'NO_PERMISSION');
    expect(tm.get('Q')).toBeUndefined();
  });

  it('gives LMQ names a synthetic one-queue config that is never persisted', async () => {
    const tm = await manager();
    const lmq = tm.get('%LMQ%a/b/c');
    expect(lmq).toMatchObject({ topicName: '%LMQ%a/b/c', readQueueNums: 1, writeQueueNums: 1, perm: Perm.READ | Perm.WRITE });
    expect(await tm.getOrAutoCreate('%LMQ%x', DEFAULT_TOPIC, 8)).toMatchObject({ writeQueueNums: 1 });
    expect(store.getTopicConfig('%LMQ%a/b/c')).toBeUndefined();
    expect(store.getTopicConfig('%LMQ%x')).toBeUndefined();
    expect(tm.list().some((t) => t.topicName.startsWith('%LMQ%'))).toBe(false);
    await brokerError(() => tm.createOrUpdate(topicConfig('%LMQ%x')), 'INVALID_PARAMETER');
    expect(tm.dataVersion.counter).toBe(0);
  });

  it('creates a topic once under concurrent first sends', async () => {
    const tm = await manager();
    const changes: string[] = [];
    tm.onChange((t) => changes.push(t));
    const results = await Promise.all(Array.from({ length: 10 }, () => tm.getOrAutoCreate('Hot', DEFAULT_TOPIC, 4)));
    for (const r of results) expect(r).toEqual(results[0]);
    expect(changes).toEqual(['Hot']);
    expect(tm.dataVersion.counter).toBe(1);
  });

  it('fires onChange and bumps dataVersion.counter on create, update, ensure and delete', async () => {
    const tm = await manager();
    const changes: string[] = [];
    tm.onChange((t) => changes.push(t));
    const v0 = tm.dataVersion.counter;
    await tm.createOrUpdate(topicConfig('A'));
    await tm.createOrUpdate(topicConfig('A', { writeQueueNums: 2 }));
    await tm.ensureRetryTopic('g');
    await tm.ensureRetryTopic('g'); // exists: no change
    await tm.ensureDlqTopic('g');
    expect(await tm.delete('A')).toBe(true);
    expect(changes).toEqual(['A', 'A', '%RETRY%g', '%DLQ%g', 'A']);
    expect(tm.dataVersion.counter).toBe(v0 + 5);
    expect(tm.get('%RETRY%g')).toMatchObject({ readQueueNums: 1, writeQueueNums: 1, perm: Perm.READ | Perm.WRITE });
    expect(tm.get('%DLQ%g')).toMatchObject({ readQueueNums: 1, writeQueueNums: 1 });
  });

  it('deletes topics, reports unknown ones and refuses to delete TBW102', async () => {
    const tm = await manager();
    await tm.createOrUpdate(topicConfig('A'));
    expect(await tm.delete('A')).toBe(true);
    expect(tm.get('A')).toBeUndefined();
    expect(store.getTopicConfig('A')).toBeUndefined();
    expect(await tm.delete('A')).toBe(false);
    await brokerError(() => tm.delete(DEFAULT_TOPIC), 'NO_PERMISSION');
    expect(tm.get(DEFAULT_TOPIC)).toBeDefined();
  });

  it('keeps created topics across a store reopen', async () => {
    const tm = await manager();
    await tm.getOrAutoCreate('Kept', DEFAULT_TOPIC, 3);
    await store.close();
    store = await openTestStore(path.join(dir, 'store'));
    const again = await manager();
    expect(again.get('Kept')).toMatchObject({ writeQueueNums: 3 });
  });
});
