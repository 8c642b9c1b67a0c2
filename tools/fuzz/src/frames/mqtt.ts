import mqttPacket from 'mqtt-packet';
import type { FrameSample } from '../mutate.js';
import type { Prng } from '../prng.js';
import type { ProtocolFrames } from './protocol.js';

/** The remaining-length varint and, for most packets, a string length after it. */
const LENGTH_BYTES = [1, 2, 3];

function sample(packet: mqttPacket.Packet, version: 4 | 5): FrameSample {
  return { bytes: mqttPacket.generate(packet, { protocolVersion: version }), lengthBytes: LENGTH_BYTES };
}

/** MQTT 3.1.1 or 5 (chosen per connection by its first frame's generator). */
function topic(rng: Prng): string {
  return rng.pick(['fuzz/a', 'fuzz/+/b', 'fuzz/#', '$SYS/x', 'AMQP_q/x', `fuzz/${'l'.repeat(rng.int(2000))}`, '']);
}

/** MQTT 3.1.1 and 5: CONNECT first, then publishes, subscriptions, acks and pings. */
export const mqttFrames: ProtocolFrames = {
  protocol: 'mqtt',
  port: (ports) => ports.mqttPort,
  connection(rng: Prng) {
    const version: 4 | 5 = rng.chance(0.5) ? 5 : 4;
    return { opening: [connect(rng, version)], next: (r: Prng) => mqttFrame(r, version) };
  },
};

function connect(rng: Prng, version: 4 | 5): FrameSample {
  return sample(
    {
      cmd: 'connect',
      protocolId: 'MQTT',
      protocolVersion: version,
      clean: rng.chance(0.8),
      clientId: `fuzz-${rng.next().toString(36)}`,
      keepalive: rng.int(120),
      ...(version === 5 ? { properties: { sessionExpiryInterval: rng.int(60), receiveMaximum: 1 + rng.int(100) } } : {}),
    },
    version,
  );
}

function mqttFrame(rng: Prng, v: 4 | 5): FrameSample {
  const props = v === 5 && rng.chance(0.5) ? { properties: { userProperties: { k: Array.from({ length: 1 + rng.int(4) }, (_, i) => `v${i}`) } } } : {};
  switch (rng.int(8)) {
    case 0:
    case 1: {
      const qos = rng.int(3) as 0 | 1 | 2;
      return sample(
        {
          cmd: 'publish',
          topic: topic(rng).replace(/[+#]/g, 'x') || 'fuzz/e',
          payload: rng.bytes(rng.int(512)),
          qos,
          messageId: qos > 0 ? 1 + rng.int(65535) : undefined,
          retain: rng.chance(0.1),
          dup: false,
          ...props,
        } as mqttPacket.IPublishPacket,
        v,
      );
    }
    case 2:
      return sample(
        {
          cmd: 'subscribe',
          messageId: 1 + rng.int(65535),
          subscriptions: Array.from({ length: 1 + rng.int(8) }, () => ({ topic: topic(rng) || 'fuzz/s', qos: rng.int(3) as 0 | 1 | 2 })),
          ...props,
        },
        v,
      );
    case 3:
      return sample({ cmd: 'unsubscribe', messageId: 1 + rng.int(65535), unsubscriptions: [topic(rng) || 'fuzz/u'], ...props }, v);
    case 4:
      return sample({ cmd: rng.pick(['puback', 'pubrec', 'pubrel', 'pubcomp'] as const), messageId: 1 + rng.int(65535) }, v);
    case 5:
      return sample({ cmd: 'pingreq' }, v);
    case 6:
      // A second CONNECT is a protocol violation the server must close on.
      return connect(rng, v);
    default:
      return sample({ cmd: 'disconnect' }, v);
  }
}
