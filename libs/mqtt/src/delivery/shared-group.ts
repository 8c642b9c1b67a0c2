import { type DeliveryTracer, type Engine, type Entry, type GroupConsumer, GroupReader } from '@apogee/broker';
import { uncompressBody } from '@apogee/message';
import type { DecodedRecord } from './decoded-records.js';
import type { Session } from '../session/session.js';
import type { SubscriptionOptions } from '../session/session-types.js';

/** Messages read from the filter's LMQ at a time. */
const READ_BATCH = 64;

/**
 * A shared subscription `$share/<name>/<filter>` (MQTT 5 §4.8.2, also offered to 3.1.1): the
 * filter's LMQ read once by the engine's group reader, from the group's own durable offset, each
 * message given to one online member with room (round robin). A member that leaves with messages
 * unacknowledged gives them back; they go to the others. The committed offset is the lowest
 * message not yet handled — the same reader AMQP queues use.
 */
export class SharedGroup {
  readonly members = new Map<Session, SubscriptionOptions>();
  private readonly consumers = new Map<Session, Member>();
  private readonly reader: GroupReader;

  constructor(
    readonly shareName: string,
    readonly filter: string,
    readonly lmq: string,
    readonly group: string,
    private readonly engine: Engine,
    private readonly onError: (err: unknown) => void,
  ) {
    this.reader = new GroupReader({ engine, group, topic: lmq, queueCount: 1, readBatch: READ_BATCH, start: 'newest', durable: true, onError });
    // The start position is taken at once (a message published after the SUBACK is not missed);
    // a fresh group's position is committed in the background.
    this.reader.open().catch(onError);
  }

  addMember(session: Session, opts: SubscriptionOptions): void {
    this.members.set(session, opts);
    let m = this.consumers.get(session);
    if (m) this.reader.remove(m, m.held);
    m = new Member(session, opts, this.reader, this.engine.tracer);
    this.consumers.set(session, m);
    this.reader.add(m);
  }

  /** Returns true when the group has no member left (the caller drops it). */
  removeMember(session: Session): boolean {
    this.members.delete(session);
    const m = this.consumers.get(session);
    if (m) {
      this.consumers.delete(session);
      this.reader.remove(m, m.held);
    }
    if (this.members.size > 0) return false;
    void this.flush();
    return true;
  }

  /** Reads and hands out while some member has room. */
  pump(): void {
    this.reader.pump();
  }

  /**
   * Stops reading and commits what was handled (the group has no member left, or the gateway
   * closes). The commit stops at what the store has written: a caller that wants everything
   * delivered committed flushes the engine first.
   */
  flush(): Promise<void> {
    return this.reader.close().catch(this.onError);
  }
}

/** A member session as a consumer of the group reader. */
class Member implements GroupConsumer {
  readonly draining = false;
  /** Entries handed to this member and not yet acknowledged. */
  readonly held = new Set<Entry>();

  constructor(
    private readonly session: Session,
    private readonly opts: SubscriptionOptions,
    private readonly reader: GroupReader,
    private readonly trace: DeliveryTracer,
  ) {}

  /** QoS 1/2 members need in-flight room; QoS 0 members only a connection. */
  room(): number {
    const conn = this.session.connection;
    if (!conn || conn.isClosed) return 0;
    if (this.opts.qos > 0 && !this.session.hasRoom()) return 0;
    return 1;
  }

  deliver(e: Entry): void {
    const m = e.message;
    const record: DecodedRecord = { topic: m.topic, properties: m.properties, body: uncompressBody(m.body, m.sysFlag) };
    this.held.add(e);
    const done = () => {
      if (this.held.delete(e)) this.reader.settle(e, 'accepted', this);
    };
    // The connection went with the message unacknowledged: it goes to another member.
    const lost = () => {
      if (this.held.delete(e)) this.reader.settle(e, 'delivery-failed', this);
    };
    const result = this.session.deliverShared(record, this.opts, done, lost);
    if (result === 'sent' && this.trace.deliveries) this.traceDelivery(e);
    if (result === 'full') {
      // No room after all (room() said there was): back to the group, first in line.
      this.held.delete(e);
      this.reader.settle(e, 'released', this);
    } else if (result === 'skipped') done();
  }

  drained(): void {}

  private traceDelivery(e: Entry): void {
    const conn = this.session.connection;
    this.trace.delivered({
      protocol: 'mqtt',
      group: this.reader.group,
      client: this.session.clientId,
      remoteAddress: conn ? conn.opts.remote : '',
      topic: this.reader.topic,
      queueId: e.queueId,
      queueOffset: e.offset,
      commitLogOffset: -1,
      offsetMsgId: e.message.msgId,
      properties: e.message.properties,
      reconsumeTimes: e.failures,
    });
  }
}
