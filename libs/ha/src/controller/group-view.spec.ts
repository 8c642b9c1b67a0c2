import type { KeyValue } from '@apogee/etcd';
import { describe, expect, it } from 'vitest';
import { GroupView } from './group-view.js';
import { GroupKeys, encodeInSync, encodeMaster, parseEpoch, parseInSync, parseMaster } from './keys.js';

const keys = new GroupKeys('C', 'b');
const kv = (key: string, value: string, rev: number, lease = '0'): KeyValue => ({
  key: Buffer.from(key),
  value: Buffer.from(value),
  createRevision: rev,
  modRevision: rev,
  version: 1,
  lease,
});
const master = { brokerId: 1, addr: 'h:10911', haAddr: 'h:10912', epoch: 3 };

describe('group keys', () => {
  it('lay the group out under /apogee/<cluster>/<brokerName>/', () => {
    expect([keys.epoch, keys.master, keys.inSync, keys.candidate(2)]).toEqual([
      '/apogee/C/b/epoch',
      '/apogee/C/b/master',
      '/apogee/C/b/in-sync',
      '/apogee/C/b/candidates/2',
    ]);
    expect(() => new GroupKeys('a/b', 'x')).toThrow(RangeError);
    expect(() => new GroupKeys('a', '')).toThrow(RangeError);
  });

  it('parse their values strictly', () => {
    expect(parseMaster(encodeMaster(master))).toEqual(master);
    expect(parseInSync(encodeInSync({ epoch: 2, members: [3, 1, 3] }))).toEqual({ epoch: 2, members: [1, 3] });
    expect(parseEpoch('12')).toBe(12);
    expect(() => parseMaster('{"brokerId":-1,"addr":"a","haAddr":"b","epoch":1}')).toThrow(SyntaxError);
    expect(() => parseMaster('nope')).toThrow('master is not JSON');
    expect(() => parseInSync('{"epoch":1,"members":["1"]}')).toThrow(SyntaxError);
    expect(() => parseEpoch('1e3')).toThrow(SyntaxError);
  });
});

describe('GroupView', () => {
  it('applies puts and deletes by revision, ignoring old news', () => {
    const v = new GroupView(keys);
    v.reset([kv(keys.epoch, '3', 5), kv(keys.master, encodeMaster(master), 5, '77')], 6);
    expect(v.master?.value).toEqual(master);
    expect(v.master?.lease).toBe('77');
    expect(v.epoch?.value).toBe(3);
    expect(v.delete(keys.master, 7)).toBe(true);
    expect(v.master).toBeNull();
    // The watch delivers the put of revision 5 late: it is older than the delete and changes nothing.
    expect(v.put(kv(keys.master, encodeMaster(master), 5))).toBe(false);
    expect(v.master).toBeNull();
    expect(v.revision).toBe(7);
  });

  it('keeps candidates by broker id and reports garbled values', () => {
    const v = new GroupView(keys);
    v.put(kv(keys.candidate(2), '{"endOffset":100}', 3));
    v.put(kv(keys.candidate(4), 'garbage', 4));
    v.put(kv(`${keys.candidates}x`, '{"endOffset":1}', 5));
    v.put(kv(keys.inSync, '{"epoch":1}', 6));
    expect(v.candidates.get(2)?.value).toEqual({ endOffset: 100 });
    expect(v.candidates.get(4)?.value).toBeNull();
    expect(v.candidates.size).toBe(2);
    expect(v.inSync?.value).toBeNull();
    expect(v.errors()).toEqual(['in-sync needs epoch and members (broker ids): {"epoch":1}', 'candidate is not JSON: "garbage"']);
    v.delete(keys.candidate(2), 7);
    expect([...v.candidates.keys()]).toEqual([4]);
  });
});
