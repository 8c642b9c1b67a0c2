import type { DeliveryTracer, Logger } from '@apogee/broker';
import type { GuardedSocket } from '../connection/guarded-socket.js';
import type { DeliveryState, RheaDelivery, RheaSender } from '../rhea/index.js';
import type { Entry, GroupConsumer, GroupReader, Outcome } from '@apogee/broker';
import { toAmqpMessage } from '../message/from-store.js';

/** Gateway-wide counters an outgoing link adds to. */
export interface OutgoingCounters {
  messagesOut: number;
}

/**
 * A link on which Apogee sends to a client (Apogee is the sender), one consumer of a GroupReader.
 * It never hands rhea more than the credit the client granted (spec 2.6.7). rhea takes credit
 * only when it writes a transfer, and writes a session's deliveries in id order, so a delivery
 * handed without credit would hold up every later delivery of the session; the room is therefore
 * rhea's credit less this link's deliveries still waiting to be written. (Counting deliveries
 * handed against the limit instead goes wrong after a drain: rhea then advances the
 * delivery-count without deliveries.) Settlement frees unsettled room, never credit.
 */
export class OutgoingLink implements GroupConsumer {
  private readonly held = new Map<RheaDelivery, Entry>();
  /** Ids of deliveries handed to rhea that may not be written yet, ascending from `unwrittenHead`. */
  private readonly unwritten: number[] = [];
  private unwrittenHead = 0;
  private waitingForDrain = false;
  readonly presettled: boolean;

  constructor(
    readonly link: RheaSender,
    private readonly reader: GroupReader,
    private readonly socket: GuardedSocket,
    private readonly maxUnsettled: number,
    private readonly log: Logger,
    private readonly counters: OutgoingCounters,
    /** The engine's tracer and who the link's peer is (for delivery records). */
    private readonly trace?: { tracer: DeliveryTracer; client: string; remoteAddress: string },
  ) {
    this.presettled = link.local.attach.snd_settle_mode === 1;
  }

  get draining(): boolean {
    return this.link._draining === true;
  }

  room(): number {
    if (!this.link.is_open()) return 0;
    const credit = this.link.credit - this.unwrittenCount();
    if (credit <= 0 || this.link.session.outgoing.available() <= 0) return 0;
    // Slow consumer: past the connection's outbound bound, deliveries wait in the queue (flow control).
    if (this.socket.outboundFull) {
      this.waitForSocket();
      return 0;
    }
    return Math.min(credit, this.maxUnsettled - this.held.size);
  }

  deliver(entry: Entry): void {
    let bytes: Buffer;
    try {
      bytes = toAmqpMessage(entry.message, entry.failures);
    } catch (err) {
      // A record whose stored sections do not decode cannot be delivered; it is dead-lettered.
      this.log.warn({ err: (err as Error).message, offset: entry.offset }, 'amqp: stored message cannot be encoded');
      this.reader.settle(entry, 'rejected', this, { condition: 'amqp:decode-error', description: (err as Error).message });
      return;
    }
    const d = this.link.send(bytes, undefined, 0);
    this.unwritten.push(d.id);
    this.counters.messagesOut++;
    if (this.trace?.tracer.deliveries === true) this.traceDelivery(entry, this.trace);
    if (this.presettled) this.reader.settle(entry, 'accepted', this);
    else this.held.set(d, entry);
  }

  drained(): void {
    // rhea writes waiting deliveries before the drain's flow, which uses up only the credit left;
    // one held back by a full session window waits for the next credit, still counted in room().
    // rhea then counts the rest of the credit down one by one (Sender._get_drain) on the event loop
    // every endpoint shares; the flow's link-credit is capped by the frame guard, but its
    // delivery-count may lie, which makes the credit up to 2^32. The count advances here in one
    // step, leaving one for rhea's loop so that it still sends the drain flag.
    const steps = this.unwrittenCount() + 1;
    const spare = this.link.credit - steps;
    if (spare > 0) {
      // Serial arithmetic (the count wraps at 2^32); rhea's own steps do not wrap, and a count past
      // 2^32 − 1 would not encode, so the start is held where those steps still fit.
      this.link.delivery_count = Math.min((this.link.delivery_count + spare) % 0x1_0000_0000, 0xffff_ffff - steps);
      this.link.credit -= spare;
    }
    this.link.set_drained(true);
    this.link.connection._register();
  }

  /** An outcome (or a bare settlement, taken as accepted) from the client. */
  settled(d: RheaDelivery, outcome: 'accepted' | 'released' | 'modified' | 'rejected' | 'settled'): void {
    const entry = this.held.get(d);
    if (!entry) return;
    this.held.delete(d);
    // With rcv-settle-mode second the client waits for us to settle (spec 2.6.12).
    if (!d.settled) d.update(true);
    const state: DeliveryState = d.remote_state ?? {};
    let o: Outcome;
    if (outcome === 'modified') o = state.undeliverable_here ? 'undeliverable-here' : state.delivery_failed ? 'delivery-failed' : 'released';
    else if (outcome === 'settled') o = 'accepted';
    else o = outcome;
    this.reader.settle(entry, o, this, state.error);
  }

  /** The link is gone (detach, session end, connection lost): unsettled messages go to other receivers. */
  close(): void {
    const held = [...this.held.values()];
    this.held.clear();
    this.reader.remove(this, held);
  }

  private traceDelivery(entry: Entry, t: { tracer: DeliveryTracer; client: string; remoteAddress: string }): void {
    t.tracer.delivered({
      protocol: 'amqp',
      group: this.reader.group,
      client: t.client,
      remoteAddress: t.remoteAddress,
      topic: this.reader.topic,
      queueId: entry.queueId,
      queueOffset: entry.offset,
      commitLogOffset: -1,
      offsetMsgId: entry.message.msgId,
      properties: entry.message.properties,
      reconsumeTimes: entry.failures,
    });
  }

  /** Deliveries handed to rhea and not yet written. */
  private unwrittenCount(): number {
    const next = this.link.session.outgoing.next_pending_delivery;
    const ids = this.unwritten;
    let head = this.unwrittenHead;
    while (head < ids.length && ids[head]! < next) head++;
    if (head === ids.length) {
      ids.length = 0;
      head = 0;
    } else if (head > 1024) {
      ids.splice(0, head);
      head = 0;
    }
    this.unwrittenHead = head;
    return ids.length - head;
  }

  private waitForSocket(): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.socket.once('drain', () => {
      this.waitingForDrain = false;
      this.reader.pump();
    });
  }
}
