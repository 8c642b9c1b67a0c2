import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AmqpHarness, eventually, openReceiver, openSender, rhea, sendAndWait } from './harness.js';

let h: AmqpHarness;
beforeAll(async () => {
  h = await AmqpHarness.start();
});
afterAll(async () => {
  await h.close();
});

const bodies: Array<[string, unknown]> = [
  ['data', rhea.message.data_section(Buffer.from([0, 1, 2, 255]))],
  ['amqp-value string', 'text'],
  ['amqp-value list', [1, 'two', { three: 3 }, null, true]],
  ['amqp-value map', { a: 1, b: 'x' }],
  ['amqp-sequence', rhea.message.sequence_section([1, 2, 'three'])],
];

describe('message sections round-trip exactly', () => {
  for (const [name, body] of bodies) {
    it(`${name} with every section`, async () => {
      const address = `q-sections-${name.replace(/\W+/g, '-')}`;
      const c = await h.connect();
      const s = await openSender(c, address);
      const sent = {
        durable: true,
        priority: 7,
        ttl: 60_000,
        first_acquirer: true,
        delivery_annotations: { 'x-opt-da': 'da' },
        message_annotations: { 'x-opt-ma': 5 },
        message_id: 'id-1',
        user_id: Buffer.from('u'),
        to: address,
        subject: 'subj',
        reply_to: 'replies',
        correlation_id: 'corr',
        content_type: 'application/octet-stream',
        group_id: 'g',
        group_sequence: 3,
        application_properties: { k: 'v', n: 42, flag: false },
        body,
        footer: { 'x-footer': 'f' },
      };
      expect((await sendAndWait(s, sent as never)).outcome).toBe('accepted');
      const r = await openReceiver(c, address, {}, 1);
      await eventually(() => r.got.length === 1, 'the message');
      const got = r.got[0]!.message as unknown as Record<string, unknown>;
      for (const k of Object.keys(sent)) expect(got[k], k).toEqual((sent as Record<string, unknown>)[k]);
      c.close();
    });
  }
});
