/**
 * The acknowledgement fast path: PUBACK, PUBREC, PUBREL and PUBCOMP in their short form (packet id
 * only, i.e. success without properties) — one per QoS 1/2 message each way — decoded and encoded
 * without mqtt-packet. Anything else returns null and goes through mqtt-packet. Packet objects are
 * shaped exactly as mqtt-packet's (see ack-codec.spec.ts).
 */
import type { IPubackPacket, IPubcompPacket, IPubrecPacket, IPubrelPacket } from 'mqtt-packet';

export type AckPacket = IPubackPacket | IPubrecPacket | IPubrelPacket | IPubcompPacket;

/** Fixed header byte of each acknowledgement (PUBREL carries the required flags 0b0010). */
const HEADER = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;
const CMD_OF: Record<number, AckPacket['cmd']> = { 0x40: 'puback', 0x50: 'pubrec', 0x62: 'pubrel', 0x70: 'pubcomp' };

/** Decodes one whole packet if it is a short-form acknowledgement. */
export function decodeAck(buf: Buffer, protocolVersion: number): AckPacket | null {
  if (buf.length !== 4 || buf[1] !== 2) return null;
  const cmd = CMD_OF[buf[0]!];
  if (cmd === undefined) return null;
  // Field for field what mqtt-packet's parser makes of it (its Packet has topic and payload null).
  const packet = {
    cmd,
    retain: false,
    qos: cmd === 'pubrel' ? 1 : 0,
    dup: false,
    length: 2,
    topic: null,
    payload: null,
    messageId: buf.readUInt16BE(2),
  } as unknown as AckPacket;
  if (protocolVersion === 5) packet.reasonCode = 0;
  return packet;
}

/** Encodes an acknowledgement in its short form, or returns null (reason code ≠ 0, properties, dup). */
export function encodeAck(packet: AckPacket, protocolVersion: number): Buffer | null {
  const id = packet.messageId;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > 0xffff) return null;
  if (packet.properties !== undefined || (packet.reasonCode !== undefined && packet.reasonCode !== 0)) return null;
  if ((packet as { dup?: boolean }).dup) return null;
  // 5.0 omits a success code without properties [MQTT-3.4.2-1]; mqtt-packet writes the long form
  // when none is given, so that case is left to it (MqttConnection always gives one).
  if (protocolVersion === 5 && packet.reasonCode === undefined) return null;
  const out = Buffer.allocUnsafe(4);
  out[0] = HEADER[packet.cmd];
  out[1] = 2;
  out.writeUInt16BE(id, 2);
  return out;
}
