import { RequestCode, SerializeType, encodeFrame, makeRequest } from '@apogee/remoting';
import type { FrameSample } from '../mutate.js';
import type { Prng } from '../prng.js';
import type { ProtocolFrames } from './protocol.js';

/** The total-length and header-length words of every remoting frame. */
const LENGTH_WORDS = [0, 4];

function sample(code: number, ext: Record<string, string>, rng: Prng, body?: Buffer): FrameSample {
  const cmd = makeRequest(code, { extFields: ext, opaque: rng.next() & 0x7fffffff, ...(body ? { body } : {}) });
  return { bytes: encodeFrame(cmd, rng.chance(0.3) ? SerializeType.ROCKETMQ : SerializeType.JSON), lengthWords: LENGTH_WORDS };
}

/** A JSON header nested `depth` arrays deep in an extension field (parsers that recurse must not fall over). */
function deeplyNested(depth: number): FrameSample {
  const header = Buffer.from(`{"code":105,"language":"JAVA","version":479,"opaque":1,"flag":0,"extFields":{"topic":${'['.repeat(depth)}${']'.repeat(depth)}}}`);
  const b = Buffer.allocUnsafe(8 + header.length);
  b.writeUInt32BE(4 + header.length, 0);
  b.writeUInt32BE(header.length, 4);
  header.copy(b, 8);
  return { bytes: b, lengthWords: LENGTH_WORDS };
}

/** A batch body (SEND_BATCH_MESSAGE): messages of totalSize, magic, crc, flag, body, properties. */
function batchBody(count: number, rng: Prng): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const body = rng.bytes(rng.int(32));
    const props = Buffer.from('KEYS\u0001k\u0002');
    const m = Buffer.alloc(20 + body.length + 2 + props.length);
    m.writeInt32BE(m.length, 0);
    m.writeInt32BE(0, 4); // magic
    m.writeInt32BE(0, 8); // body crc
    m.writeInt32BE(0, 12); // flag
    m.writeInt32BE(body.length, 16);
    body.copy(m, 20);
    m.writeInt16BE(props.length, 20 + body.length);
    props.copy(m, 22 + body.length);
    parts.push(m);
  }
  return Buffer.concat(parts);
}

/** RocketMQ remoting: requests to the NameServer and the broker, both serializations. */
export const remotingFrames: ProtocolFrames = {
  protocol: 'remoting',
  port: (ports, rng) => (rng.chance(0.3) ? ports.namesrvPort : ports.brokerPort),
  connection: () => ({ opening: [], next: remotingFrame }),
};

function remotingFrame(rng: Prng): FrameSample {
  const topic = rng.pick(['fuzz', 'fuzz-a', '%LMQ%fuzz%x%', 'TBW102', 'a'.repeat(1 + rng.int(300))]);
  switch (rng.int(11)) {
    case 0:
      return sample(
        RequestCode.HEART_BEAT,
        {},
        rng,
        Buffer.from(JSON.stringify({ clientID: `fuzz@${rng.int(1000)}`, producerDataSet: [{ groupName: 'fuzz-p' }], consumerDataSet: [] })),
      );
    case 1:
      return sample(RequestCode.GET_ROUTEINFO_BY_TOPIC, { topic }, rng);
    case 2:
      return sample(
        RequestCode.SEND_MESSAGE,
        {
          producerGroup: 'fuzz-p',
          topic,
          defaultTopic: 'TBW102',
          defaultTopicQueueNums: '4',
          queueId: String(rng.int(8)),
          sysFlag: '0',
          bornTimestamp: String(Date.now()),
          flag: '0',
          properties: 'TAGS\u0001t\u0002',
        },
        rng,
        rng.bytes(rng.int(256)),
      );
    case 3:
      return sample(
        RequestCode.PULL_MESSAGE,
        {
          consumerGroup: 'fuzz-c',
          topic,
          queueId: String(rng.int(4)),
          queueOffset: String(rng.int(100)),
          maxMsgNums: String(1 + rng.int(32)),
          sysFlag: '0',
          commitOffset: '0',
          suspendTimeoutMillis: '0',
          subscription: '*',
          subVersion: '0',
        },
        rng,
      );
    case 4:
      return sample(RequestCode.QUERY_CONSUMER_OFFSET, { consumerGroup: 'fuzz-c', topic, queueId: String(rng.int(4)) }, rng);
    case 5:
      return sample(RequestCode.UPDATE_CONSUMER_OFFSET, { consumerGroup: 'fuzz-c', topic, queueId: String(rng.int(4)), commitOffset: String(rng.next()) }, rng);
    case 6:
      return sample(RequestCode.GET_MAX_OFFSET, { topic, queueId: String(rng.int(4)) }, rng);
    case 7:
      return sample(
        RequestCode.SEND_BATCH_MESSAGE,
        {
          producerGroup: 'fuzz-p',
          topic,
          defaultTopic: 'TBW102',
          defaultTopicQueueNums: '4',
          queueId: '0',
          sysFlag: '0',
          bornTimestamp: '0',
          flag: '0',
          batch: 'true',
        },
        rng,
        batchBody(1 + rng.int(8), rng),
      );
    case 8:
      return sample(RequestCode.GET_BROKER_RUNTIME_INFO, {}, rng);
    case 9:
      return deeplyNested(1 + rng.int(100_000));
    default:
      return sample(9000 + rng.int(1000), { x: 'y' }, rng);
  }
}
