import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CorruptKvConfigFileError } from './errors.js';
import { KvConfigStore } from './kv-config.js';

describe('KvConfigStore in memory', () => {
  it('puts, gets, lists and deletes by namespace and key', async () => {
    const kv = await KvConfigStore.open();
    await kv.put('ORDER_TOPIC_CONFIG', 'T1', 'broker-a:4;broker-b:4');
    await kv.put('ORDER_TOPIC_CONFIG', 'T2', 'broker-a:8');
    await kv.put('other', 'k', 'v');
    expect(kv.get('ORDER_TOPIC_CONFIG', 'T1')).toBe('broker-a:4;broker-b:4');
    expect(kv.get('ORDER_TOPIC_CONFIG', 'missing')).toBeUndefined();
    expect(kv.get('missing', 'T1')).toBeUndefined();
    expect(kv.listNamespace('ORDER_TOPIC_CONFIG')).toEqual({ T1: 'broker-a:4;broker-b:4', T2: 'broker-a:8' });
    expect(kv.listNamespace('nothing')).toBeUndefined();
    await kv.put('other', 'k', 'v2');
    expect(kv.get('other', 'k')).toBe('v2');
    expect(await kv.delete('other', 'k')).toBe(true);
    expect(await kv.delete('other', 'k')).toBe(false);
    expect(kv.namespaces()).toEqual(['ORDER_TOPIC_CONFIG']);
  });

  it('keeps odd keys as plain data', async () => {
    const kv = await KvConfigStore.open();
    await kv.put('ns', '__proto__', 'x');
    expect(kv.get('ns', '__proto__')).toBe('x');
    expect(kv.listNamespace('ns')).toEqual(Object.fromEntries([['__proto__', 'x']]));
  });
});

describe('KvConfigStore with a file', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'apogee-kv-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts empty when the file does not exist, and round-trips through the file', async () => {
    const file = join(dir, 'kvConfig.json');
    const kv = await KvConfigStore.open({ file });
    expect(kv.namespaces()).toEqual([]);
    await kv.put('ORDER_TOPIC_CONFIG', 'T1', 'broker-a:4');
    await kv.put('ns2', 'a b', 'välue "quoted"');
    await kv.put('ns2', 'gone', 'x');
    await kv.delete('ns2', 'gone');
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({
      configTable: { ORDER_TOPIC_CONFIG: { T1: 'broker-a:4' }, ns2: { 'a b': 'välue "quoted"' } },
    });
    const reopened = await KvConfigStore.open({ file });
    expect(reopened.snapshot()).toEqual(kv.snapshot());
  });

  it('serialises concurrent writes so the file ends at the last state', async () => {
    const file = join(dir, 'kv.json');
    const kv = await KvConfigStore.open({ file });
    await Promise.all(Array.from({ length: 20 }, (_, i) => kv.put('ns', `k${i}`, String(i))));
    await kv.flush();
    const reopened = await KvConfigStore.open({ file });
    expect(Object.keys(reopened.listNamespace('ns')!)).toHaveLength(20);
  });

  it('loads a file written by a Java NameServer', async () => {
    const file = join(dir, 'kvConfig.json');
    await writeFile(file, '{"configTable":{"ORDER_TOPIC_CONFIG":{"TopicOrder":"broker-a:8"}}}');
    const kv = await KvConfigStore.open({ file });
    expect(kv.get('ORDER_TOPIC_CONFIG', 'TopicOrder')).toBe('broker-a:8');
  });

  it.each([
    ['not JSON', '{"configTable":{'],
    ['empty', ''],
    ['no configTable', '{"other":{}}'],
    ['namespace not an object', '{"configTable":{"ns":"x"}}'],
    ['value not a string', '{"configTable":{"ns":{"k":1}}}'],
    ['an array', '[]'],
  ])('a corrupt file (%s) is a typed error naming the file', async (_label, content) => {
    const file = join(dir, 'kvConfig.json');
    await writeFile(file, content);
    const error = await KvConfigStore.open({ file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CorruptKvConfigFileError);
    expect((error as CorruptKvConfigFileError).code).toBe('APG_NS_KV_FILE_CORRUPT');
    expect((error as CorruptKvConfigFileError).file).toBe(file);
    expect((error as Error).message).toContain(file);
  });
});
