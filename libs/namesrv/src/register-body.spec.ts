import { deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BodyCrcMismatchError, MalformedNamesrvBodyError } from './errors.js';
import { checkBodyCrc32, encodeRegisterBrokerBody, javaCrc32, parseRegisterBrokerBody, type RegisterBrokerBody } from './register-body.js';
import { RouteRegistry } from './route-registry.js';
import { registration } from './test-fixtures.js';

/** A body as a Java 5.x broker sends it (fastjson output of RegisterBrokerBody). */
const JAVA_BODY =
  '{"filterServerList":[],"topicConfigSerializeWrapper":{"dataVersion":{"counter":12,"stateVersion":0,"timestamp":1726900000000},' +
  '"topicConfigTable":{"TopicTest":{"attributes":{},"order":false,"perm":6,"readQueueNums":8,"topicFilterType":"SINGLE_TAG",' +
  '"topicName":"TopicTest","topicSysFlag":0,"writeQueueNums":8},"%RETRY%GID_x":{"attributes":{},"order":false,"perm":6,' +
  '"readQueueNums":1,"topicFilterType":"SINGLE_TAG","topicName":"%RETRY%GID_x","topicSysFlag":0,"writeQueueNums":1}},' +
  '"topicQueueMappingInfoMap":{}}}';

describe('parseRegisterBrokerBody (plain JSON)', () => {
  it('reads a Java broker body', () => {
    const body = parseRegisterBrokerBody(Buffer.from(JAVA_BODY));
    expect(body.dataVersion).toEqual({ counter: 12, stateVersion: 0, timestamp: 1726900000000 });
    expect(body.filterServerList).toEqual([]);
    expect(body.topicConfigs).toEqual([
      { topicName: 'TopicTest', readQueueNums: 8, writeQueueNums: 8, perm: 6, topicSysFlag: 0, order: false },
      { topicName: '%RETRY%GID_x', readQueueNums: 1, writeQueueNums: 1, perm: 6, topicSysFlag: 0, order: false },
    ]);
  });

  it('feeds a registration that makes both topics routable', () => {
    const body = parseRegisterBrokerBody(Buffer.from(JAVA_BODY));
    const registry = new RouteRegistry();
    registry.registerBroker(registration({ topicConfigs: body.topicConfigs, dataVersion: body.dataVersion }));
    expect(registry.topicList()).toEqual(['%RETRY%GID_x', 'TopicTest']);
  });

  it('applies Java defaults to missing fields and the map key to a missing topicName', () => {
    const body = parseRegisterBrokerBody(Buffer.from('{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{}}}}'));
    expect(body.topicConfigs).toEqual([{ topicName: 'T', readQueueNums: 16, writeQueueNums: 16, perm: 6, topicSysFlag: 0, order: false }]);
    expect(body.dataVersion).toEqual({ stateVersion: 0, timestamp: 0, counter: 0 });
  });

  it.each([
    ['not JSON', 'garbage'],
    ['truncated', JAVA_BODY.slice(0, 60)],
    ['array root', '[]'],
    ['wrapper not object', '{"topicConfigSerializeWrapper":3}'],
    ['table not object', '{"topicConfigSerializeWrapper":{"topicConfigTable":[]}}'],
    ['topic not object', '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":5}}}'],
    ['string queue nums', '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"readQueueNums":"8"}}}}'],
    ['fractional perm', '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"perm":6.5}}}}'],
    ['negative queues', '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"writeQueueNums":-1}}}}'],
    ['empty name', '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"topicName":""}}}}'],
    ['bad order', '{"topicConfigSerializeWrapper":{"topicConfigTable":{"T":{"order":"yes"}}}}'],
    ['bad version', '{"topicConfigSerializeWrapper":{"dataVersion":{"counter":true}}}'],
    ['bad filter list', '{"filterServerList":[1]}'],
  ])('rejects %s with a typed error', (_label, text) => {
    expect(() => parseRegisterBrokerBody(Buffer.from(text))).toThrow(MalformedNamesrvBodyError);
  });
});

describe('parseRegisterBrokerBody (compressed)', () => {
  const sample: RegisterBrokerBody = {
    topicConfigs: [
      { topicName: 'TopicTest', readQueueNums: 8, writeQueueNums: 4, perm: 6, topicSysFlag: 0, order: false },
      { topicName: '%RETRY%GID_x', readQueueNums: 1, writeQueueNums: 1, perm: 4, topicSysFlag: 0, order: false },
    ],
    dataVersion: { stateVersion: 3, timestamp: 1726900000000, counter: 5 },
    filterServerList: ['10.0.0.1:30000'],
  };

  it('round-trips the deflated binary form', () => {
    const encoded = encodeRegisterBrokerBody(sample, true);
    expect(parseRegisterBrokerBody(encoded, { compressed: true })).toEqual(sample);
  });

  it('reads a hand-built Java-style stream with attributes and a mapping entry', () => {
    const parts: Buffer[] = [];
    const int = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeInt32BE(n);
      parts.push(b);
    };
    const text = (s: string) => {
      int(Buffer.byteLength(s));
      parts.push(Buffer.from(s));
    };
    text('{"counter":1,"stateVersion":0,"timestamp":2}');
    int(1);
    text('Orders 16 16 6 MULTI_TAG {"+message.type":"NORMAL"}');
    text('[]');
    int(1);
    text('{"topic":"static","bname":"broker-a"}');
    const body = parseRegisterBrokerBody(deflateSync(Buffer.concat(parts)), { compressed: true });
    expect(body.topicConfigs).toEqual([{ topicName: 'Orders', readQueueNums: 16, writeQueueNums: 16, perm: 6, topicSysFlag: 0, order: false }]);
    expect(body.dataVersion).toEqual({ counter: 1, stateVersion: 0, timestamp: 2 });
  });

  it('rejects garbage, truncation, bad lines and oversized output with typed errors', () => {
    const good = encodeRegisterBrokerBody(sample, true);
    const bad = (data: Buffer, max?: number) =>
      expect(() => parseRegisterBrokerBody(data, max === undefined ? { compressed: true } : { compressed: true, maxInflatedBytes: max })).toThrow(
        MalformedNamesrvBodyError,
      );
    bad(Buffer.from('not deflate at all'));
    bad(good.subarray(0, good.length - 6));
    bad(good, 10);
    const lengthTooBig = Buffer.alloc(8);
    lengthTooBig.writeInt32BE(1000);
    bad(deflateSync(lengthTooBig));
    const frame = (line: string) => {
      const dv = Buffer.from('{}');
      const l = Buffer.from(line);
      const b = Buffer.alloc(12 + dv.length + l.length);
      b.writeInt32BE(dv.length, 0);
      dv.copy(b, 4);
      b.writeInt32BE(1, 4 + dv.length);
      b.writeInt32BE(l.length, 8 + dv.length);
      l.copy(b, 12 + dv.length);
      return deflateSync(b);
    };
    bad(frame('T 1 2'));
    bad(frame('T x 2 6 SINGLE_TAG'));
    bad(frame('T 1 2 6 WEIRD_TAG'));
    bad(frame('T 99999999999 2 6 SINGLE_TAG'));
    expect(parseRegisterBrokerBody(frame('T 1 2 6 SINGLE_TAG'), { compressed: true }).topicConfigs).toHaveLength(1);
  });

  it('property: any body round-trips through both forms', () => {
    const name = fc.stringMatching(/^[%A-Za-z0-9_-]{1,40}$/);
    const config = fc.record({
      topicName: name,
      readQueueNums: fc.integer({ min: 0, max: 1024 }),
      writeQueueNums: fc.integer({ min: 0, max: 1024 }),
      perm: fc.integer({ min: 0, max: 15 }),
      topicSysFlag: fc.constant(0),
      order: fc.constant(false),
    });
    const bodyArb = fc.record({
      topicConfigs: fc.uniqueArray(config, { selector: (c) => c.topicName, maxLength: 20 }),
      dataVersion: fc.record({
        stateVersion: fc.integer({ min: 0, max: 2 ** 40 }),
        timestamp: fc.integer({ min: 0, max: 2 ** 45 }),
        counter: fc.integer({ min: 0, max: 2 ** 40 }),
      }),
      filterServerList: fc.array(fc.string(), { maxLength: 3 }),
    });
    fc.assert(
      fc.property(bodyArb, (body) => {
        // The plain form is a JSON map, so only the set of topics is preserved, not their order.
        const byName = (b: RegisterBrokerBody) => ({
          ...b,
          topicConfigs: [...b.topicConfigs].sort((x, y) => (x.topicName < y.topicName ? -1 : 1)),
        });
        expect(byName(parseRegisterBrokerBody(encodeRegisterBrokerBody(body)))).toEqual(byName(body));
        expect(parseRegisterBrokerBody(encodeRegisterBrokerBody(body, true), { compressed: true })).toEqual(body);
      }),
      { numRuns: 200, seed: 42 },
    );
  });

  it('property: arbitrary bytes never escape as anything but a typed error', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.boolean(), (bytes, compressed) => {
        try {
          parseRegisterBrokerBody(bytes, { compressed });
        } catch (error) {
          expect(error).toBeInstanceOf(MalformedNamesrvBodyError);
        }
      }),
      { numRuns: 500, seed: 1 },
    );
  });
});

describe('body CRC', () => {
  it('matches Java UtilAll.crc32 (CRC-32 masked to 31 bits) and ignores 0', () => {
    // CRC-32 of "123456789" is 0xCBF43926; masked: 0x4BF43926.
    expect(javaCrc32(Buffer.from('123456789'))).toBe(0x4bf43926);
    expect(() => checkBodyCrc32(Buffer.from('123456789'), 0x4bf43926)).not.toThrow();
    expect(() => checkBodyCrc32(Buffer.from('anything'), 0)).not.toThrow();
    const error = (() => {
      try {
        checkBodyCrc32(Buffer.from('123456789'), 1);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(BodyCrcMismatchError);
    expect((error as BodyCrcMismatchError).code).toBe('APG_NS_BODY_CRC_MISMATCH');
  });
});
