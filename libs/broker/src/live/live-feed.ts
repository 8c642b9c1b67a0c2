import type { ArrivalSource } from './arrival-source.js';

/**
 * A message just appended by the engine's send path, offered to the readers of its queues that
 * are caught up exactly to it, before it is written (see `SendRequest.live`). One object serves
 * every queue the message lands in: `offset` is set to the message's offset in the queue being
 * offered before each offer, so a reader must take what it needs during the call.
 */
export interface AppendedMessage {
  /** The store topic. */
  readonly topic: string;
  readonly queueId: number;
  /** Offset in (topic, queueId). */
  readonly queueOffset: number;
  readonly commitLogOffset: number;
  /** Offset message id. */
  readonly msgId: string;
  readonly properties: ReadonlyMap<string, string>;
  /** The body as sent: it may be a view of a connection's input buffer, so a reader that keeps it copies it. */
  readonly body: Buffer;
  readonly sysFlag: number;
  readonly bornTimestamp: number;
  /** Offset of the message in the queue being offered (queueOffset, or its offset in an LMQ). */
  offset: number;
}

/** Called with the queue's new readable end when records arrive. */
export type Waker = (max: number) => void;

/** Called with a live message; returns whether this reader delivered it (it was caught up). */
export type LiveReader = (m: AppendedMessage) => boolean;

interface Watched {
  /** Every online reader's waker, with its live handler when it has one (one map: memory per queue counts). */
  readonly readers: Map<Waker, LiveReader | null>;
  /** Readers with a live handler. */
  live: number;
  readonly off: () => void;
}

/**
 * The one live-delivery path of every endpoint: one store arrival listener per queue (topic
 * queue or LMQ) with at least one online reader, not one per reader — an arrival wakes every
 * reader of that queue; readers that can take a message from memory also register a live
 * handler, which the send path offers just-appended messages to.
 */
export class LiveFeed {
  /** Queue 0 of every topic (so every LMQ) by name: the hot lookup allocates nothing. */
  private readonly queueZero = new Map<string, Watched>();
  /** Queues 1… by topic, then queue id. */
  private readonly otherQueues = new Map<string, Map<number, Watched>>();
  private watched = 0;
  private liveQueues = 0;

  constructor(private readonly arrivals: ArrivalSource) {}

  /** Registers an online reader of a queue; `live` also takes just-appended messages from memory. */
  watch(topic: string, queueId: number, wake: Waker, live?: LiveReader): void {
    let e = this.entry(topic, queueId);
    if (!e) {
      const readers = new Map<Waker, LiveReader | null>();
      const off = this.arrivals.onArrival(topic, queueId, (max) => {
        for (const w of readers.keys()) w(max);
      });
      e = { readers, live: 0, off };
      this.setEntry(topic, queueId, e);
    }
    if (e.readers.get(wake)) this.liveLeft(e);
    e.readers.set(wake, live ?? null);
    if (live) {
      if (e.live++ === 0) this.liveQueues++;
    }
  }

  unwatch(topic: string, queueId: number, wake: Waker): void {
    const e = this.entry(topic, queueId);
    if (!e) return;
    const live = e.readers.get(wake);
    if (!e.readers.delete(wake)) return;
    if (live) this.liveLeft(e);
    if (e.readers.size === 0) {
      e.off();
      this.deleteEntry(topic, queueId);
    }
  }

  private entry(topic: string, queueId: number): Watched | undefined {
    return queueId === 0 ? this.queueZero.get(topic) : this.otherQueues.get(topic)?.get(queueId);
  }

  private setEntry(topic: string, queueId: number, e: Watched): void {
    this.watched++;
    if (queueId === 0) this.queueZero.set(topic, e);
    else {
      let m = this.otherQueues.get(topic);
      if (!m) this.otherQueues.set(topic, (m = new Map()));
      m.set(queueId, e);
    }
  }

  private deleteEntry(topic: string, queueId: number): void {
    this.watched--;
    if (queueId === 0) this.queueZero.delete(topic);
    else {
      const m = this.otherQueues.get(topic);
      if (m?.delete(queueId) && m.size === 0) this.otherQueues.delete(topic);
    }
  }

  private liveLeft(e: Watched): void {
    if (--e.live === 0) this.liveQueues--;
  }

  /**
   * Offers a just-appended message to the live readers of one queue, `m.offset` being its offset
   * there; each caught-up reader delivers it and moves past it, the others read it from the store
   * when its arrival wakes them. Returns how many delivered it.
   */
  offer(topic: string, queueId: number, m: AppendedMessage): number {
    const readers = this.liveReaders(topic, queueId);
    return readers === undefined ? 0 : LiveFeed.offerTo(readers, m);
  }

  /** The readers of a queue when some take messages from memory, else undefined: lets the send path build its message only when someone may take it, with one lookup per queue. */
  liveReaders(topic: string, queueId: number): ReadonlyMap<Waker, LiveReader | null> | undefined {
    return this.liveEntry(topic, queueId)?.readers;
  }

  /** offer, to readers from liveReaders. */
  static offerTo(readers: ReadonlyMap<Waker, LiveReader | null>, m: AppendedMessage): number {
    let delivered = 0;
    for (const live of readers.values()) if (live !== null && live(m)) delivered++;
    return delivered;
  }

  private liveEntry(topic: string, queueId: number): Watched | undefined {
    if (this.liveQueues === 0) return undefined;
    const e = this.entry(topic, queueId);
    return e !== undefined && e.live > 0 ? e : undefined;
  }

  /** Whether any queue has a reader taking messages from memory (lets the send path skip building an offer). */
  get anyLive(): boolean {
    return this.liveQueues > 0;
  }

  /** Whether someone reads the queue from memory. */
  hasLiveReaders(topic: string, queueId: number): boolean {
    return this.liveEntry(topic, queueId) !== undefined;
  }

  /** Online readers of a queue. */
  readers(topic: string, queueId: number): number {
    return this.entry(topic, queueId)?.readers.size ?? 0;
  }

  /** Queues with online readers (metrics). */
  get size(): number {
    return this.watched;
  }
}
