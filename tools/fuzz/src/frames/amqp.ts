import {
  NULL_VALUE,
  amqpFrame,
  encodeBinary,
  encodeBool,
  encodeDescribed,
  encodeList,
  encodeMap,
  encodeString,
  encodeSymbol,
  encodeUint,
  protocolHeader,
} from '@apogee/amqp';
import type { FrameSample } from '../mutate.js';
import type { Prng } from '../prng.js';
import type { ProtocolFrames } from './protocol.js';

const AMQP = 0;
const SASL = 3;

/** Frame size, then the list8 size and count of a performative's fields (when it is a list8). */
function sample(type: number, channel: number, code: number, fields: Buffer[], payload?: Buffer): FrameSample {
  const body = encodeDescribed(code, encodeList(fields));
  return { bytes: amqpFrame(type, channel, payload ? Buffer.concat([body, payload]) : body), lengthWords: [0], lengthBytes: [4, 12, 13] };
}

const ushort = (n: number) => Buffer.from([0x60, (n >> 8) & 0xff, n & 0xff]);
const ubyte = (n: number) => Buffer.from([0x50, n & 0xff]);

/** A list nested `depth` lists deep (parsers that recurse must not fall over). */
function nested(depth: number): Buffer {
  let v = encodeList([encodeUint(1)]);
  for (let i = 1; i < depth; i++) v = encodeList([v]);
  return v;
}

function terminus(code: number, address: string): Buffer {
  return encodeDescribed(code, encodeList([encodeString(address)]));
}

function address(rng: Prng): string {
  return rng.pick(['fuzz-q', 'fuzz/q', 'topic/fuzz/#', '$dlq/fuzz-q', 'AMQP_x|y', `q${'x'.repeat(rng.int(2000))}`]);
}

function open(rng: Prng): FrameSample {
  const props = rng.chance(0.2) ? encodeMap([[encodeSymbol('deep'), nested(1 + rng.int(3000))]]) : NULL_VALUE;
  return sample(AMQP, 0, 0x10, [
    encodeString(`fuzz-${rng.next().toString(36)}`),
    NULL_VALUE,
    encodeUint(512 + rng.int(1 << 20)),
    ushort(rng.int(65536)),
    encodeUint(rng.int(60_000)),
    NULL_VALUE,
    NULL_VALUE,
    NULL_VALUE,
    NULL_VALUE,
    props,
  ]);
}

/** AMQP 1.0: protocol header (optionally SASL ANONYMOUS first), open, begin, then links, flows, transfers and dispositions. */
export const amqpFrames: ProtocolFrames = {
  protocol: 'amqp',
  port: (ports) => ports.amqpPort,
  connection: (rng: Prng) => ({ opening: opening(rng), next: performative }),
};

function opening(rng: Prng): FrameSample[] {
  const sasl: FrameSample[] = rng.chance(0.3)
    ? [{ bytes: protocolHeader(SASL) }, sample(1, 0, 0x41, [encodeSymbol('ANONYMOUS'), encodeBinary(Buffer.from('fuzz'))])]
    : [];
  return [
    ...sasl,
    { bytes: protocolHeader(AMQP) },
    open(rng),
    sample(AMQP, 0, 0x11, [NULL_VALUE, encodeUint(0), encodeUint(1 + rng.int(5000)), encodeUint(1 + rng.int(5000)), encodeUint(rng.int(300))]),
  ];
}

function performative(rng: Prng): FrameSample {
  const channel = rng.chance(0.9) ? 0 : rng.int(65536);
  const handle = rng.chance(0.8) ? rng.int(4) : rng.next();
  switch (rng.int(9)) {
    case 0:
    case 1: {
      const role = rng.chance(0.5);
      return sample(AMQP, channel, 0x12, [
        encodeString(`link-${rng.int(1000)}`),
        encodeUint(handle),
        encodeBool(role),
        ubyte(rng.int(3)),
        ubyte(rng.int(2)),
        role ? terminus(0x28, address(rng)) : terminus(0x28, 'fuzz'),
        role ? terminus(0x29, 'fuzz') : terminus(0x29, address(rng)),
        NULL_VALUE,
        NULL_VALUE,
        encodeUint(0),
      ]);
    }
    case 2:
      return sample(AMQP, channel, 0x13, [
        encodeUint(0),
        encodeUint(5000),
        encodeUint(0),
        encodeUint(5000),
        encodeUint(handle),
        encodeUint(rng.next()),
        encodeUint(rng.chance(0.5) ? rng.int(100) : rng.next()),
        NULL_VALUE,
        encodeBool(rng.chance(0.3)),
      ]);
    case 3:
    case 4: {
      const message = Buffer.concat([
        encodeDescribed(0x73, encodeList([NULL_VALUE, NULL_VALUE, encodeString('fuzz')])),
        encodeDescribed(0x75, encodeBinary(rng.bytes(rng.int(512)))),
      ]);
      return sample(
        AMQP,
        channel,
        0x14,
        [
          encodeUint(handle),
          encodeUint(rng.int(1 << 20)),
          encodeBinary(rng.bytes(1 + rng.int(8))),
          encodeUint(0),
          encodeBool(rng.chance(0.5)),
          encodeBool(rng.chance(0.1)),
        ],
        message,
      );
    }
    case 5: {
      const first = rng.next();
      return sample(AMQP, channel, 0x15, [
        encodeBool(rng.chance(0.5)),
        encodeUint(first),
        encodeUint(rng.chance(0.5) ? first : rng.next()),
        encodeBool(true),
        encodeDescribed(0x24, encodeList([])),
      ]);
    }
    case 6:
      return sample(AMQP, channel, 0x16, [encodeUint(handle), encodeBool(true)]);
    case 7:
      return rng.chance(0.5) ? open(rng) : sample(AMQP, channel, 0x17, []);
    default:
      // An empty frame is a heartbeat.
      return { bytes: amqpFrame(AMQP, 0, Buffer.alloc(0)), lengthWords: [0] };
  }
}
