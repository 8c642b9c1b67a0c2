import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveBrokerConfig, type BrokerConfig } from '../config.js';
import { brokerError, makeTempDir, removeDir } from '../test-support.js';
import { GroupManager, checkGroupName } from './group-manager.js';

let dir: string;
let file: string;
const managers: GroupManager[] = [];

beforeEach(() => {
  dir = makeTempDir();
  file = path.join(dir, 'config', 'subscriptionGroup.json');
});

afterEach(async () => {
  // let coalesced background writes land before the directory goes
  for (const m of managers.splice(0)) await m.flush();
  removeDir(dir);
});

async function manager(cfg: Partial<BrokerConfig> = {}): Promise<GroupManager> {
  const m = new GroupManager(file, resolveBrokerConfig(cfg));
  managers.push(m);
  await m.load();
  return m;
}

describe('GroupManager', () => {
  it('auto-creates a group with RocketMQ defaults', async () => {
    const gm = await manager({ defaultRetryMaxTimes: 7 });
    expect(gm.get('g')).toBeUndefined();
    const g = gm.getOrCreate('g');
    expect(g).toEqual({
      groupName: 'g',
      consumeEnable: true,
      consumeBroadcastEnable: true,
      retryQueueNums: 1,
      retryMaxTimes: 7,
      notifyConsumerIdsChangedEnable: true,
    });
    expect(gm.getOrCreate('g')).toBe(g);
    expect(gm.list().map((x) => x.groupName)).toEqual(['g']);
  });

  it('persists groups and survives a reload by a new instance', async () => {
    const gm = await manager();
    gm.getOrCreate('auto');
    await gm.createOrUpdate({ groupName: 'tuned', retryMaxTimes: 5, consumeEnable: false });
    await gm.flush();
    const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { subscriptionGroupTable: Record<string, unknown> };
    expect(Object.keys(doc.subscriptionGroupTable).sort()).toEqual(['auto', 'tuned']);

    const again = await manager();
    expect(again.get('auto')).toMatchObject({ groupName: 'auto', retryMaxTimes: 16, consumeEnable: true });
    expect(again.get('tuned')).toMatchObject({ groupName: 'tuned', retryMaxTimes: 5, consumeEnable: false });
    expect(await again.delete('auto')).toBe(true);
    expect(await again.delete('auto')).toBe(false);
    const third = await manager();
    expect(third.get('auto')).toBeUndefined();
    expect(third.get('tuned')).toBeDefined();
  });

  it('fills fields missing from an older file with defaults', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ subscriptionGroupTable: { old: { groupName: 'old', retryMaxTimes: 3 } } }));
    const gm = await manager();
    expect(gm.get('old')).toMatchObject({ retryMaxTimes: 3, consumeEnable: true, notifyConsumerIdsChangedEnable: true });
  });

  it('rejects a corrupt file with a message naming it', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{not json');
    await expect(new GroupManager(file, resolveBrokerConfig()).load()).rejects.toThrow(/subscriptionGroup\.json is not valid JSON/);
  });

  it('answers SUBSCRIPTION_GROUP_NOT_EXIST when auto-creation is off (LMQ groups excepted)', async () => {
    const gm = await manager({ autoCreateSubscriptionGroup: false });
    await brokerError(() => gm.getOrCreate('g'), 'SUBSCRIPTION_GROUP_NOT_EXIST');
    expect(gm.get('g')).toBeUndefined();
    await gm.createOrUpdate({ groupName: 'g' });
    expect(gm.getOrCreate('g').groupName).toBe('g');
    const lmq = gm.getOrCreate('%LMQ%session1');
    expect(lmq.groupName).toBe('%LMQ%session1');
    // LMQ groups are never kept or persisted
    expect(gm.get('%LMQ%session1')).toBeUndefined();
  });

  it('rejects invalid group names with INVALID_PARAMETER', async () => {
    const gm = await manager();
    for (const bad of ['', 'has space', 'a/b', 'x'.repeat(256), 'dot.ted']) {
      await brokerError(() => gm.getOrCreate(bad), 'INVALID_PARAMETER');
      await brokerError(() => gm.createOrUpdate({ groupName: bad }), 'INVALID_PARAMETER');
      await brokerError(() => checkGroupName(bad), 'INVALID_PARAMETER');
    }
    expect(() => checkGroupName('ok_group-1|%')).not.toThrow();
    await brokerError(() => gm.createOrUpdate({ groupName: 'g', retryMaxTimes: -1 }), 'INVALID_PARAMETER');
    expect(gm.list()).toEqual([]);
  });
});
