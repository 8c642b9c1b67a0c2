import type { QoS } from 'mqtt-packet';
import type { PublishInput } from '../publish/publisher.js';
import type { SessionRecord } from './session-record.js';

/** An inbound QoS 2 message stored (or being stored) and awaiting its PUBREL. */
export interface PendingRelease {
  /** The UNIQ_KEY the message is stored under: after a crash, a re-sent PUBLISH is looked up by it. */
  uniq: string;
  stored: boolean;
  /** The store in progress (a PUBLISH re-sent meanwhile waits for the same one). */
  storing?: Promise<void>;
}

/** What the exactly-once store needs from the publish path. */
export interface ExactlyOnceStore {
  newUniqKey(): string;
  /** Whether a message with this UNIQ_KEY is in the store (under its topic's store topic). */
  wasStored(topic: string, uniqKey: string): Promise<boolean>;
  /** Stores a publish (and its retained index entry); resolves once durable. */
  store(input: PublishInput): Promise<void>;
}

/**
 * One connection's share of inbound flow control: its QoS 1/2 PUBLISHes not yet completed
 * (PUBACK / PUBCOMP sent), which the v5 Receive Maximum caps, and the QoS 2 packet ids it sent
 * until their PUBREL. Opened per connection by `InboundQos2.openWindow`; only InboundQos2 changes it.
 */
export class InboundWindow {
  /** QoS 1/2 PUBLISHes in flight: the client's send quota in use. */
  inflight = 0;
  /** QoS 2 packet ids received on this connection, until their PUBREL; made on the first (most connections never send QoS 2). */
  qos2: Set<number> | null = null;
}

/**
 * The inbound QoS 2 state of a session, in one place: the packet ids awaiting PUBREL with their
 * UNIQ_KEY and stored state (durable through the session record, so exactly-once holds across
 * reconnects and restarts), the per-connection in-flight count the Receive Maximum check uses
 * (shared with QoS 1), and the exactly-once store itself.
 */
export class InboundQos2 {
  /** Made on first use: an idle session holds no table. */
  private pending: Map<number, PendingRelease> | null = null;

  constructor(
    /** The durable part changed: the session record is to be written. */
    private readonly changed: () => void,
    /** Writes the session's pending durable state now. */
    private readonly flush: () => Promise<void>,
  ) {}

  /** A new connection's window: its Receive Maximum quota starts unused. */
  openWindow(): InboundWindow {
    return new InboundWindow();
  }

  /** The entry of a QoS 2 packet id awaiting PUBREL, if any. */
  entry(id: number): PendingRelease | undefined {
    return this.pending?.get(id);
  }

  /**
   * Counts a QoS 1/2 PUBLISH against its connection's window; false (nothing counted) when `max`
   * are already unacknowledged [MQTT-3.3.4-7] (Infinity: no limit, 3.1.1).
   */
  admit(w: InboundWindow, id: number, qos: QoS, max: number): boolean {
    if (w.inflight >= max) return false;
    w.inflight++;
    if (qos === 2) (w.qos2 ??= new Set()).add(id);
    return true;
  }

  /** A QoS 1 PUBLISH was stored and acknowledged: its slot is free. */
  acknowledged(w: InboundWindow): void {
    w.inflight--;
  }

  /** A QoS 1/2 PUBLISH could not be stored: its slot is free, and a QoS 2 id has nothing to release. */
  refused(w: InboundWindow, id: number): void {
    w.inflight--;
    if (w.qos2?.delete(id) === true && this.pending?.delete(id) === true) this.changed();
  }

  /** PUBREL: the exchange is over (the PUBCOMP follows); the id may be used for a new message. */
  released(w: InboundWindow, id: number): void {
    if (this.pending?.delete(id) === true) this.changed();
    if (w.qos2?.delete(id) === true) w.inflight--;
  }

  /**
   * Stores a QoS 2 PUBLISH exactly once: the packet id and the message's UNIQ_KEY are made durable
   * before the message is stored, so a PUBLISH re-sent after a crash is looked up by that key
   * instead of stored twice. `pending` is the id's entry when the PUBLISH was seen before.
   */
  store(id: number, input: PublishInput, pending: PendingRelease | undefined, sink: ExactlyOnceStore): Promise<void> {
    if (pending?.storing) return pending.storing;
    let entry = pending;
    if (!entry) {
      entry = { uniq: sink.newUniqKey(), stored: false };
      (this.pending ??= new Map()).set(id, entry);
      this.changed();
    }
    const e = entry;
    e.storing = (async () => {
      await this.flush();
      // A surviving intent from before a crash: the message may be in the store already.
      if (pending && (await sink.wasStored(input.topic, e.uniq))) {
        e.stored = true;
        return;
      }
      await sink.store({ ...input, uniqKey: e.uniq });
      e.stored = true;
    })().finally(() => {
      e.storing = undefined;
    });
    return e.storing;
  }

  /** The ids for the session record: each with the UNIQ_KEY of its message. */
  record(): SessionRecord['pendingRel'] {
    return this.pending === null ? [] : [...this.pending].map(([id, e]) => [id, e.uniq] as [number, string]);
  }

  /** Takes the ids back from a session record after a restart. */
  restore(entries: SessionRecord['pendingRel']): void {
    // Plain ids come from records that only kept stored ones; pairs may not have been stored yet.
    for (const e of entries)
      (this.pending ??= new Map()).set(typeof e === 'number' ? e : e[0], typeof e === 'number' ? { uniq: '', stored: true } : { uniq: e[1], stored: false });
  }
}
