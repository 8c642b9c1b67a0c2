import fs from 'node:fs';
import path from 'node:path';
import type { MessageStore } from '@apogee/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveBrokerConfig, type BrokerConfig } from '../config.js';
import type { EndpointMetadata } from '../engine-types.js';
import type { Logger } from '../logger.js';
import { brokerError, makeTempDir, openTestStore, removeDir } from '../test-support.js';
import { GROUP_NAMESPACE, GroupManager, MIGRATED_SUFFIX, checkGroupName } from './group-manager.js';

let dir: string;
let file: string;
const managers: GroupManager[] = [];
const stores: MessageStore[] = [];

beforeEach(() => {
  dir = makeTempDir();
  file = path.join(dir, 'config', 'subscriptionGroup.json');
});

afterEach(async () => {
  // let background writes land before the store closes and the directory goes
  for (const m of managers.splice(0)) await m.flush();
  for (const s of stores.splice(0)) await s.close();
  removeDir(dir);
});

function metadataOf(store: MessageStore): EndpointMetadata {
  return {
    put: (ns, k, v) => store.metaPut(ns, k, v),
    get: (ns, k) => store.metaGet(ns, k),
    delete: (ns, k) => store.metaDelete(ns, k),
    scan: (ns, prefix, limit) => store.metaScan(ns, prefix, limit),
  };
}

async function store(name = 'store'): Promise<MessageStore> {
  const s = await openTestStore(path.join(dir, name));
  stores.push(s);
  return s;
}

/** Closes and reopens a store (the manager's state must come back from it). */
async function reopen(s: MessageStore, name = 'store'): Promise<MessageStore> {
  for (const m of managers.splice(0)) await m.flush();
  await s.close();
  stores.splice(stores.indexOf(s), 1);
  return store(name);
}

function memoryLog(): Logger & { lines: Array<{ level: string; msg: string; obj: object }> } {
  const lines: Array<{ level: string; msg: string; obj: object }> = [];
  return {
    lines,
    info: (obj, msg) => lines.push({ level: 'info', msg, obj }),
    warn: (obj, msg) => lines.push({ level: 'warn', msg, obj }),
    error: (obj, msg) => lines.push({ level: 'error', msg, obj }),
  };
}

async function manager(s: MessageStore, cfg: Partial<BrokerConfig> = {}, log?: Logger): Promise<GroupManager> {
  const m = new GroupManager(file, resolveBrokerConfig(cfg), metadataOf(s), log);
  managers.push(m);
  await m.load();
  return m;
}

describe('GroupManager', () => {
  it('auto-creates a group with RocketMQ defaults', async () => {
    const gm = await manager(await store(), { defaultRetryMaxTimes: 7 });
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

  it("persists groups in the store's metadata and survives a reopen", async () => {
    let s = await store();
    const gm = await manager(s);
    gm.getOrCreate('auto');
    await gm.createOrUpdate({ groupName: 'tuned', retryMaxTimes: 5, consumeEnable: false });
    await gm.flush();
    expect([...s.metaScan(GROUP_NAMESPACE)].map((e) => e.key)).toEqual(['auto', 'tuned']);
    expect(JSON.parse(s.metaGet(GROUP_NAMESPACE, 'tuned')!.toString())).toMatchObject({ groupName: 'tuned', retryMaxTimes: 5, consumeEnable: false });
    expect(fs.existsSync(file)).toBe(false);

    s = await reopen(s);
    const again = await manager(s);
    expect(again.get('auto')).toMatchObject({ groupName: 'auto', retryMaxTimes: 16, consumeEnable: true });
    expect(again.get('tuned')).toMatchObject({ groupName: 'tuned', retryMaxTimes: 5, consumeEnable: false });
    expect(await again.delete('auto')).toBe(true);
    expect(await again.delete('auto')).toBe(false);
    s = await reopen(s);
    const third = await manager(s);
    expect(third.get('auto')).toBeUndefined();
    expect(third.get('tuned')).toBeDefined();
  });

  it('imports an older broker’s subscriptionGroup.json once (missing fields take defaults), renames it and logs it', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const legacy = JSON.stringify({
      subscriptionGroupTable: { old: { groupName: 'old', retryMaxTimes: 3 }, tuned: { groupName: 'tuned', consumeEnable: false }, 'bad name': {} },
    });
    fs.writeFileSync(file, legacy);
    let s = await store();
    const log = memoryLog();
    const gm = await manager(s, {}, log);
    expect(gm.get('old')).toMatchObject({ retryMaxTimes: 3, consumeEnable: true, notifyConsumerIdsChangedEnable: true });
    expect(gm.get('tuned')).toMatchObject({ consumeEnable: false, retryMaxTimes: 16 });
    expect(
      gm
        .list()
        .map((g) => g.groupName)
        .sort(),
    ).toEqual(['old', 'tuned']);
    expect([...s.metaScan(GROUP_NAMESPACE)].map((e) => e.key)).toEqual(['old', 'tuned']);
    // The file is kept, renamed, no longer read.
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readFileSync(file + MIGRATED_SUFFIX, 'utf8')).toBe(legacy);
    expect(log.lines.find((l) => l.level === 'info')).toMatchObject({
      msg: expect.stringMatching(/moved from subscriptionGroup\.json into the store/),
      obj: { groups: 2 },
    });
    expect(log.lines.some((l) => l.level === 'warn' && l.msg.includes('invalid name'))).toBe(true);

    // A group deleted after the import stays deleted (the renamed file is not imported again).
    expect(await gm.delete('old')).toBe(true);
    s = await reopen(s);
    const again = await manager(s);
    expect(again.list().map((g) => g.groupName)).toEqual(['tuned']);
  });

  it('does not import a legacy file over groups the store holds already, only renames it', async () => {
    const s = await store();
    await (await manager(s)).createOrUpdate({ groupName: 'inStore', retryMaxTimes: 2 });
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify({ subscriptionGroupTable: { legacy: { groupName: 'legacy' } } }));
    const log = memoryLog();
    const gm = await manager(s, {}, log);
    expect(gm.list().map((g) => g.groupName)).toEqual(['inStore']);
    expect(fs.existsSync(file + MIGRATED_SUFFIX)).toBe(true);
    expect(log.lines.some((l) => l.level === 'warn' && l.msg.includes('not imported'))).toBe(true);
  });

  it('rejects a corrupt legacy file with a message naming it', async () => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{not json');
    const s = await store();
    await expect(new GroupManager(file, resolveBrokerConfig(), metadataOf(s)).load()).rejects.toThrow(/subscriptionGroup\.json is not valid JSON/);
    expect(fs.existsSync(file)).toBe(true);
  });

  it('replicates through the store’s metadata feed: a replica’s manager loads the master’s groups', async () => {
    const master = await store('master');
    const replica = await store('replica');
    let pos = await replica.applyMetaSnapshot(master.readMetaSnapshot().chunks);
    const gm = await manager(master);
    gm.getOrCreate('a');
    await gm.createOrUpdate({ groupName: 'b', retryMaxTimes: 9 });
    await gm.createOrUpdate({ groupName: 'c' });
    await gm.delete('c');
    await gm.flush();
    for (;;) {
      pos = await replica.applyMetaChanges(master.readMetaChanges(pos.generation, pos.seq, 64)!);
      if (pos.seq === master.metaFeedPosition().seq) break;
    }
    const onReplica = await manager(replica);
    expect(onReplica.list()).toEqual(gm.list());
  });

  it('answers SUBSCRIPTION_GROUP_NOT_EXIST when auto-creation is off (LMQ groups excepted)', async () => {
    const s = await store();
    const gm = await manager(s, { autoCreateSubscriptionGroup: false });
    await brokerError(() => gm.getOrCreate('g'), 'SUBSCRIPTION_GROUP_NOT_EXIST');
    expect(gm.get('g')).toBeUndefined();
    await gm.createOrUpdate({ groupName: 'g' });
    expect(gm.getOrCreate('g').groupName).toBe('g');
    const lmq = gm.getOrCreate('%LMQ%session1');
    expect(lmq.groupName).toBe('%LMQ%session1');
    // LMQ groups are never kept or persisted
    expect(gm.get('%LMQ%session1')).toBeUndefined();
    expect(s.metaGet(GROUP_NAMESPACE, '%LMQ%session1')).toBeUndefined();
  });

  it('rejects invalid group names with INVALID_PARAMETER', async () => {
    const gm = await manager(await store());
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
