import { CorruptRecordError, MessageMagic, RecordOffset, readInt64BE } from '@apogee/message';

/**
 * Reads the fields the store indexes by out of a stored record — without decoding the rest
 * (hosts, body, message id) and without allocating: one reader is reused for every record, and
 * the positions of the variable fields are computed inline (RocketMQ's layout, as in
 * @apogee/message's recordPositions). Recovery re-dispatches every record past the checkpoint
 * through it, so it is on a path whose speed matters.
 *
 * `read()` takes the fixed fields and locates the strings; `topic()` and `properties()` decode
 * them only when asked (records that enter no queue need neither).
 */
export class RecordFieldReader {
  sysFlag = 0;
  queueId = 0;
  queueOffset = 0;
  storeTimestamp = 0;
  private buf: Buffer = Buffer.alloc(0);
  private topicStart = 0;
  private topicEnd = 0;
  private propsEnd = 0;
  private recordEnd = 0;

  /** Reads the record at `off` of `buf` (already checked: size, magic and position are sound). */
  read(buf: Buffer, off: number): this {
    this.buf = buf;
    const sysFlag = buf.readInt32BE(off + RecordOffset.SYS_FLAG);
    this.sysFlag = sysFlag;
    this.queueId = buf.readInt32BE(off + RecordOffset.QUEUE_ID);
    this.queueOffset = readInt64BE(buf, off + RecordOffset.QUEUE_OFFSET);
    // BORNHOST and STOREHOST are 8 bytes, or 20 when their IPv6 flag (0x10, 0x20) is set.
    const storeTimestamp = off + RecordOffset.BORN_HOST + (sysFlag & 0x10 ? 20 : 8);
    this.storeTimestamp = readInt64BE(buf, storeTimestamp);
    // storeTimestamp (8), storeHost, reconsumeTimes (4), preparedTransactionOffset (8).
    const bodyLength = storeTimestamp + 8 + (sysFlag & 0x20 ? 20 : 8) + 12;
    let p = bodyLength + 4 + buf.readInt32BE(bodyLength);
    if (buf.readInt32BE(off + RecordOffset.MAGIC) === MessageMagic.V2) {
      this.topicStart = p + 2;
      this.topicEnd = this.topicStart + buf.readInt16BE(p);
    } else {
      this.topicStart = p + 1;
      this.topicEnd = this.topicStart + buf[p]!;
    }
    p = this.topicEnd;
    this.propsEnd = p + 2 + buf.readInt16BE(p);
    this.recordEnd = off + buf.readInt32BE(off + RecordOffset.TOTAL_SIZE);
    return this;
  }

  /** The topic of the record last read. */
  topic(): string {
    return this.buf.toString('utf8', this.topicStart, this.topicEnd);
  }

  /** The property string of the record last read (throws, like readRecordProperties, if it does not end the record). */
  properties(): string {
    if (this.propsEnd !== this.recordEnd) throw new CorruptRecordError('properties do not end the record');
    return this.buf.toString('utf8', this.topicEnd + 2, this.propsEnd);
  }
}
