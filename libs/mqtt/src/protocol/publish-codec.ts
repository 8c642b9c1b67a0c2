/**
 * The PUBLISH fast path: decodes and encodes the packets that make up almost all traffic without
 * mqtt-packet's per-packet state machine, buffer list and debug calls. It covers MQTT 3.1/3.1.1
 * and MQTT 5 PUBLISHes without properties; anything else (properties, odd or malformed input)
 * returns null and goes through mqtt-packet, which also produces the error for malformed packets.
 * The packet objects are shaped exactly as mqtt-packet's (see publish-codec.spec.ts).
 */
import type { IPublishPacket, QoS } from 'mqtt-packet';

/**
 * Decodes one whole packet (`buf` = fixed header + body) if it is a PUBLISH the fast path covers.
 * The payload is a view of `buf`.
 */
export function decodePublish(buf: Buffer, protocolVersion: number): IPublishPacket | null {
  const b0 = buf[0]!;
  if (b0 >> 4 !== 3) return null;
  const qos = (b0 >> 1) & 3;
  if (qos === 3) return null;
  // Remaining Length (the splitter checked it is well formed and complete).
  let pos = 1;
  let length = 0;
  let multiplier = 1;
  for (;;) {
    const b = buf[pos++]!;
    length += (b & 0x7f) * multiplier;
    if ((b & 0x80) === 0) break;
    multiplier *= 128;
  }
  const end = buf.length;
  if (pos + 2 > end) return null;
  const topicLength = buf.readUInt16BE(pos);
  pos += 2;
  if (pos + topicLength > end) return null;
  const topic = buf.toString('utf8', pos, pos + topicLength);
  pos += topicLength;
  let messageId: number | undefined;
  if (qos > 0) {
    if (pos + 2 > end) return null;
    messageId = buf.readUInt16BE(pos);
    pos += 2;
  }
  if (protocolVersion === 5) {
    // Only an empty property list (a single 0 byte) stays on the fast path.
    if (pos >= end || buf[pos] !== 0) return null;
    pos += 1;
  }
  const packet: IPublishPacket = {
    cmd: 'publish',
    retain: (b0 & 1) !== 0,
    qos: qos as QoS,
    dup: (b0 & 8) !== 0,
    length,
    topic,
    payload: buf.subarray(pos, end),
  };
  if (messageId !== undefined) packet.messageId = messageId;
  return packet;
}

/**
 * Encodes a PUBLISH the fast path covers (no properties; a Buffer payload; a non-empty topic;
 * a message id for QoS 1/2) into one buffer, or returns null for mqtt-packet to generate.
 */
export function encodePublish(packet: IPublishPacket, protocolVersion: number): Buffer | null {
  const payload = packet.payload;
  if (!Buffer.isBuffer(payload) || packet.properties !== undefined || typeof packet.topic !== 'string' || packet.topic.length === 0) return null;
  const qos = packet.qos ?? 0;
  if (qos !== 0 && qos !== 1 && qos !== 2) return null;
  const messageId = packet.messageId;
  if (qos > 0 && (typeof messageId !== 'number' || !Number.isInteger(messageId) || messageId < 0 || messageId > 0xffff)) return null;
  const topicLength = Buffer.byteLength(packet.topic, 'utf8');
  if (topicLength > 0xffff) return null;
  const length = 2 + topicLength + (qos > 0 ? 2 : 0) + (protocolVersion === 5 ? 1 : 0) + payload.length;
  if (length > 268_435_455) return null;
  const lengthBytes = length < 128 ? 1 : length < 16_384 ? 2 : length < 2_097_152 ? 3 : 4;
  const out = Buffer.allocUnsafe(1 + lengthBytes + length);
  out[0] = 0x30 | (packet.dup ? 8 : 0) | (qos << 1) | (packet.retain ? 1 : 0);
  let pos = 1;
  let n = length;
  do {
    let digit = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) digit |= 0x80;
    out[pos++] = digit;
  } while (n > 0);
  out.writeUInt16BE(topicLength, pos);
  pos += 2;
  pos += out.write(packet.topic, pos, topicLength, 'utf8');
  if (qos > 0) {
    out.writeUInt16BE(messageId!, pos);
    pos += 2;
  }
  if (protocolVersion === 5) out[pos++] = 0;
  payload.copy(out, pos);
  return out;
}
