import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PERM_READ, PERM_WRITE, decodeRecord } from '@apogee/message';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Engine } from './engine.js';
import type { AppendedMessage } from './live/live-feed.js';
import type { SendRequest } from './send/send-types.js';

/**
 * What any Engine must do, as endpoints rely on it — in the manner of aedes' abstract persistence
 * tests: a suite an implementation runs against itself. The in-process Broker runs it now
 * (engine.contract.spec.ts); an engine over the network (a remote broker group) must pass the
 * same suite. `open` gives an engine on a data directory (the same directory again after
 * `close`, for what must survive a restart).
 */
export interface EngineUnderTest {
  engine: Engine;
  close(): Promise<void>;
}

export function engineContract(name: string, open: (dataDir: string) => Promise<EngineUnderTest>): void {
  describe(`Engine contract: ${name}`, () => {
    let dir: string;
    let e: EngineUnderTest;
    let engine: Engine;

    beforeEach(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-engine-'));
      e = await open(dir);
      engine = e.engine;
    });

    afterEach(async () => {
      await e.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const reopen = async () => {
      await e.close();
      e = await open(dir);
      engine = e.engine;
    };

    const ensure = (topic: string, queues = 1) =>
      engine.topics.createOrUpdate({
        topicName: topic,
        readQueueNums: queues,
        writeQueueNums: queues,
        perm: PERM_READ | PERM_WRITE,
        topicFilterType: 'SINGLE_TAG',
        topicSysFlag: 0,
        order: false,
        attributes: {},
      });
    const request = (topic: string, body: string, properties: Record<string, string> = {}, extra: Partial<SendRequest> = {}): SendRequest => ({
      topic,
      queueId: 0,
      body: Buffer.from(body),
      properties: new Map(Object.entries(properties)),
      ...extra,
    });
    const bodies = async (topic: string, queueId: number, from = 0): Promise<string[]> => {
      const r = await engine.read(topic, queueId, from, 100);
      return r.messages.map((m) => decodeRecord(m.record).body.toString());
    };

    it('stores a sent message: readable from its queue, offsets move, the record is found again by offset', async () => {
      await ensure('CT');
      expect(engine.maxOffset('CT', 0)).toBe(0);
      const r = await engine.send(request('CT', 'one'));
      expect(r).toMatchObject({ topic: 'CT', queueId: 0, queueOffset: 0 });
      expect(engine.maxOffset('CT', 0)).toBe(1);
      expect(engine.minOffset('CT', 0)).toBe(0);
      expect(await bodies('CT', 0)).toEqual(['one']);
      const rec = await engine.readRecord(r.commitLogOffsets[0]!);
      expect(rec && decodeRecord(rec).body.toString()).toBe('one');
      const empty = await engine.read('CT', 0, 1, 10);
      expect(empty.status).toBe('OFFSET_OVERFLOW_ONE');
    });

    it('an unconfirmed send is appended at once and confirmed later, in order', async () => {
      await ensure('CU');
      const a = engine.sendUnconfirmed(request('CU', 'a'));
      const b = engine.sendUnconfirmed(request('CU', 'b'));
      expect(a && b).toBeTruthy();
      expect(b!.result.queueOffset).toBe(a!.result.queueOffset + 1);
      await engine.whenConfirmed(b!.result);
      expect(await bodies('CU', 0)).toEqual(['a', 'b']);
      // An unknown topic must take the promise path.
      expect(engine.sendUnconfirmed(request('CU-unknown-' + Date.now(), 'x'))).toBeNull();
    });

    it('refuses what must not be sent with a typed error', async () => {
      await expect(engine.send(request('bad topic!', 'x'))).rejects.toMatchObject({ name: 'BrokerError' });
      await expect(engine.send(request('%LMQ%x', 'x'))).rejects.toMatchObject({ name: 'BrokerError' });
    });

    it('wakes arrival listeners when messages become readable, until unsubscribed', async () => {
      await ensure('CA');
      const seen: number[] = [];
      const off = engine.onArrival('CA', 0, (max) => seen.push(max));
      await engine.send(request('CA', 'x'));
      await expect.poll(() => seen.at(-1)).toBe(1);
      off();
      await engine.send(request('CA', 'y'));
      await engine.flush();
      await new Promise((r) => setTimeout(r, 50));
      expect(seen.at(-1)).toBe(1);
    });

    it('keeps committed consumer offsets across a restart, lists and deletes them', async () => {
      await ensure('CO', 2);
      await engine.commitOffset('g1', 'CO', 0, 5);
      await engine.commitOffset('g1', 'CO', 1, 7);
      await reopen();
      expect(engine.committedOffset('g1', 'CO', 0)).toBe(5);
      expect(engine.listOffsets('g1').sort((a, b) => a.queueId - b.queueId)).toEqual([
        { topic: 'CO', queueId: 0, offset: 5 },
        { topic: 'CO', queueId: 1, offset: 7 },
      ]);
      await engine.deleteOffsets('g1');
      expect(engine.committedOffset('g1', 'CO', 0)).toBeUndefined();
    });

    it('keeps endpoint metadata across a restart; scans by prefix in key order', async () => {
      await engine.metadata.put('ns', 'b/2', Buffer.from('two'));
      await engine.metadata.put('ns', 'b/1', Buffer.from('one'));
      await engine.metadata.put('ns', 'c', Buffer.from('three'));
      await reopen();
      expect(engine.metadata.get('ns', 'b/1')?.toString()).toBe('one');
      expect([...engine.metadata.scan('ns', 'b/')].map((x) => x.key)).toEqual(['b/1', 'b/2']);
      await engine.metadata.delete('ns', 'b/1');
      expect(engine.metadata.get('ns', 'b/1')).toBeUndefined();
    });

    it('offers a live send to a caught-up reader of its queue and of its LMQs, once each, with the right offsets', async () => {
      await ensure('CL');
      const taken: Array<{ topic: string; offset: number; body: string }> = [];
      const take = (m: AppendedMessage) => {
        taken.push({ topic: 'queue', offset: m.offset, body: m.body.toString() });
        return true;
      };
      const lmq = engine.topicFilters.lmq('cl/+');
      const takeLmq = (m: AppendedMessage) => {
        taken.push({ topic: 'lmq', offset: m.offset, body: m.body.toString() });
        return true;
      };
      const reader = { wake: () => {}, take };
      const lmqReader = { wake: () => {}, take: takeLmq };
      engine.topicFilters.add('cl/+');
      engine.live.watch('CL', 0, reader);
      engine.live.watch(lmq, 0, lmqReader);
      expect(engine.live.hasLiveReaders('CL', 0)).toBe(true);
      await engine.send(request('CL', 'not-live'));
      await engine.send(request('CL', 'live', { mqttTopic: 'cl/x' }, { live: true }));
      expect(taken).toEqual([
        { topic: 'queue', offset: 1, body: 'live' },
        { topic: 'lmq', offset: 0, body: 'live' },
      ]);
      engine.live.unwatch('CL', 0, reader);
      engine.live.unwatch(lmq, 0, lmqReader);
      expect(engine.live.hasLiveReaders('CL', 0)).toBe(false);
      engine.topicFilters.remove('cl/+');
    });

    it('dispatches a send carrying a topic into the LMQ of the topic and of every registered matching filter', async () => {
      await ensure('plant');
      engine.topicFilters.add('plant/+/temp');
      engine.topicFilters.add('plant/#');
      engine.topicFilters.add('other/#');
      await engine.send(request('plant', 't1', { mqttTopic: 'plant/p1/temp' }));
      await engine.send(request('plant', 'not-a-topic', { mqttTopic: 'plant/+/bad' }));
      await engine.send(request('plant', 'native'));
      expect(await bodies(engine.topicFilters.lmq('plant/+/temp'), 0)).toEqual(['t1']);
      expect(await bodies(engine.topicFilters.lmq('plant/#'), 0)).toEqual(['t1']);
      expect(await bodies(engine.topicFilters.lmq('plant/p1/temp'), 0)).toEqual(['t1']);
      expect(engine.maxOffset(engine.topicFilters.lmq('other/#'), 0)).toBe(0);
      expect(await bodies('plant', 0)).toEqual(['t1', 'not-a-topic', 'native']);
      // The dispatched message carries the QoS the topic space defaults to.
      const r = await engine.read(engine.topicFilters.lmq('plant/#'), 0, 0, 1);
      expect(decodeRecord(r.messages[0]!.record).properties.get('mqttQos')).toBe('1');
      engine.topicFilters.remove('plant/#');
      await engine.send(request('plant', 't2', { mqttTopic: 'plant/p1/temp' }));
      expect(await bodies(engine.topicFilters.lmq('plant/#'), 0)).toEqual(['t1']);
    });

    it('a durable holder’s filters keep receiving after a restart until it is released or expires', async () => {
      await ensure('dur');
      await engine.topicFilters.hold('h1', { filters: ['dur/a/+'], expirySeconds: -1, disconnectedAt: 0 });
      await engine.topicFilters.hold('h2', { filters: ['dur/b/+'], expirySeconds: 1, disconnectedAt: Date.now() - 5000 });
      await reopen();
      expect(engine.topicFilters.holder('h1')?.filters).toEqual(['dur/a/+']);
      expect(engine.topicFilters.holder('h2')).toBeUndefined(); // expired while away
      await engine.send(request('dur', 'kept', { mqttTopic: 'dur/a/x' }));
      await engine.send(request('dur', 'dropped', { mqttTopic: 'dur/b/x' }));
      expect(await bodies(engine.topicFilters.lmq('dur/a/+'), 0)).toEqual(['kept']);
      expect(engine.maxOffset(engine.topicFilters.lmq('dur/b/+'), 0)).toBe(0);
      await engine.topicFilters.release('h1');
      await reopen();
      expect(engine.topicFilters.holder('h1')).toBeUndefined();
      expect(engine.topicFilters.size).toBe(0);
    });

    it('finds a message by its UNIQ_KEY', async () => {
      await ensure('CK');
      await engine.send(request('CK', 'keyed', { UNIQ_KEY: 'U-CONTRACT-1' }));
      const now = Date.now();
      const hits = await engine.findByUniqueKey('CK', 'U-CONTRACT-1', now - 60_000, now + 60_000);
      expect(hits).toHaveLength(1);
      expect(decodeRecord(hits[0]!.record).body.toString()).toBe('keyed');
    });
  });
}
