import { type MessageExt, decodeRecord } from '@apogee/message';
import type { Engine } from '../engine.js';
import type { AppendedMessage, QueueReader } from '../live/live-feed.js';
import { SerialPass } from '../serial-pass.js';
import { CommitSoon } from '../commit-soon.js';

/** What delivery needs of a stored message (a decoded record, or the message as it was sent). */
export type ReadMessage = Pick<MessageExt, 'topic' | 'properties' | 'body' | 'sysFlag' | 'bornTimestamp' | 'msgId'>;

/** One stored message on its way to a receiver, until it is settled. */
export interface Entry {
  readonly queueId: number;
  readonly offset: number;
  readonly message: ReadMessage;
  /** Earlier deliveries that failed (modified with delivery-failed, or lost with a link). */
  failures: number;
  /** The consumer holding it unsettled; null while it waits. */
  owner: GroupConsumer | null;
  /** Consumers that said undeliverable-here. */
  notFor: Set<GroupConsumer> | null;
}

/** A receiver of the reader's messages (an AMQP outgoing link, a member of an MQTT shared subscription). */
export interface GroupConsumer {
  /** How many more deliveries it can take now (credit, unsettled room, socket not backed up). */
  room(): number;
  /** Hands over one message; the consumer reports its outcome through the reader's settle(). */
  deliver(entry: Entry): void;
  /** Whether the peer asked to drain the link's credit. */
  readonly draining: boolean;
  /** The reader found nothing more while the consumer was draining with credit left. */
  drained(): void;
}

export type Outcome = 'accepted' | 'released' | 'delivery-failed' | 'undeliverable-here' | 'rejected';

export interface GroupReaderOptions {
  engine: Engine;
  /** Consumer group under which positions are committed. */
  group: string;
  topic: string;
  queueCount: number;
  readBatch: number;
  /** Where a group without a committed position starts: the oldest message, or the next new one. */
  start: 'oldest' | 'newest';
  /** Commit positions (queues, durable subscriptions); a non-durable reader keeps them in memory only. */
  durable: boolean;
  /** Decides whether a message is for this reader at all (topic filters); skipped ones are not delivered. */
  accept?: (m: ReadMessage) => boolean;
  /** Moves a rejected message to the dead-letter address; rejects when that failed. Without one, a rejected message is dropped. */
  deadLetter?: (entry: Entry, condition: string | undefined, description: string | undefined) => Promise<void>;
  onError: (err: unknown) => void;
}

interface QueueState {
  readonly id: number;
  /** Next offset to read from the store. */
  next: number;
  /** Offsets read and not yet settled for good (waiting, delivered or being dead-lettered). */
  readonly open: Set<number>;
  committed: number;
}

/**
 * Reads a store topic's queues for one consumer group and shares the messages among competing
 * consumers: each message goes to one consumer with room; released and failed ones come back
 * first, in queue order; the committed position of each queue is the lowest offset not yet
 * settled, so a restart redelivers (at least once) what was not accepted.
 */
export class GroupReader {
  readonly consumers: GroupConsumer[] = [];
  private readonly queues: QueueState[] = [];
  /** Messages returned for redelivery, kept in (queue, offset) order. */
  private readonly waiting: Entry[] = [];
  private readonly buffered: Entry[] = [];
  /** The reader's waker of each queue in the engine's live feed. */
  private readonly readers: QueueReader[] = [];
  private rr = 0;
  private readQueue = 0;
  private readonly passes: SerialPass;
  private closed = false;
  /** Settled progress is committed a few times a second (a crash redelivers at most that much). */
  private readonly commitSoon = new CommitSoon(() => void this.commit());
  private committing: Promise<void> = Promise.resolve();

  constructor(private readonly opts: GroupReaderOptions) {
    this.passes = new SerialPass(() => this.run(), opts.onError);
  }

  /**
   * Loads positions and starts watching. A new durable reader's start is committed at once; one
   * starting at the newest message waits for that commit (after a crash it must not skip what was
   * sent after it opened), one starting at the oldest does not (a restart without the commit
   * starts at the oldest too), so its first deliveries do not wait for a disk sync.
   */
  async open(): Promise<void> {
    const { engine, group, topic } = this.opts;
    const fresh: QueueState[] = [];
    for (let id = 0; id < this.opts.queueCount; id++) {
      const committed = this.opts.durable ? engine.committedOffset(group, topic, id) : undefined;
      const start = committed ?? (this.opts.start === 'oldest' ? engine.minOffset(topic, id) : engine.maxOffset(topic, id));
      const q: QueueState = { id, next: start, open: new Set(), committed: committed ?? -1 };
      this.queues.push(q);
      if (committed === undefined) fresh.push(q);
      const reader: QueueReader = { wake: () => this.pump(), take: (m) => this.offer(id, m) };
      this.readers.push(reader);
      engine.live.watch(topic, id, reader);
    }
    if (!this.opts.durable || fresh.length === 0) return;
    const first = Promise.all(fresh.map((q) => this.commitQueue(q))).then(() => undefined);
    if (this.opts.start === 'newest') return first;
    // Later commits queue behind this one.
    this.committing = first.catch((err: unknown) => this.opts.onError(err));
  }

  /** The consumer group positions are committed under. */
  get group(): string {
    return this.opts.group;
  }

  /** The store topic (or LMQ) read. */
  get topic(): string {
    return this.opts.topic;
  }

  get unsettled(): number {
    let n = 0;
    for (const q of this.queues) n += q.open.size;
    return n;
  }

  add(c: GroupConsumer): void {
    this.consumers.push(c);
    this.pump();
  }

  /** A consumer left (detach, session end, connection lost): what it held goes to the others. */
  remove(c: GroupConsumer, held: Iterable<Entry>): void {
    const i = this.consumers.indexOf(c);
    if (i >= 0) this.consumers.splice(i, 1);
    for (const e of held) {
      if (e.owner !== c) continue;
      e.owner = null;
      // It may have been processed before the link went away: count it as a failed delivery.
      e.failures++;
      this.requeue(e);
    }
    this.pump();
  }

  /** The outcome of a delivery (spec 3.4). */
  settle(e: Entry, outcome: Outcome, by: GroupConsumer | null, error?: { condition?: string; description?: string }): void {
    if (e.owner !== by) return;
    e.owner = null;
    switch (outcome) {
      case 'accepted':
        this.done(e);
        break;
      case 'released':
        this.requeue(e);
        break;
      case 'delivery-failed':
        e.failures++;
        this.requeue(e);
        break;
      case 'undeliverable-here':
        e.failures++;
        if (by) (e.notFor ??= new Set()).add(by);
        this.requeue(e);
        break;
      case 'rejected':
        if (!this.opts.deadLetter) {
          this.done(e);
          break;
        }
        this.opts.deadLetter(e, error?.condition, error?.description).then(
          () => this.done(e),
          (err: unknown) => {
            this.opts.onError(err);
            this.requeue(e);
          },
        );
        break;
    }
    this.pump();
  }

  /**
   * A message just appended to queue `queueId`, offered by the engine's live feed before its write:
   * taken when the reader is caught up exactly to it with nothing else waiting and a consumer has
   * room (the same order as reading it later); otherwise it is read from the store once written.
   * Returns whether it was taken.
   */
  offer(queueId: number, appended: AppendedMessage): boolean {
    const q = this.queues[queueId];
    const offset = appended.offset;
    if (this.closed || q === undefined || q.next !== offset || this.waiting.length > 0 || this.buffered.length > 0 || this.passes.busy) return false;
    // A fresh message is undeliverable nowhere: any consumer with room takes it.
    if (!this.consumers.some((c) => c.room() > 0)) return false;
    const m = readMessageOf(appended);
    q.next = offset + 1;
    this.scheduleCommit();
    if (this.opts.accept && !this.opts.accept(m)) return true;
    const e: Entry = { queueId, offset, message: m, failures: 0, owner: null, notFor: null };
    const c = this.pick(e)!;
    q.open.add(offset);
    e.owner = c;
    c.deliver(e);
    return true;
  }

  /** Runs delivery: hands messages to consumers with room until there is no room or nothing more. */
  pump(): void {
    if (this.closed) return;
    // Credit and settlements pump often while the reader is caught up (messages came from
    // memory): a pass would find nothing to do, so none is started.
    if (!this.passes.busy && this.waiting.length === 0 && this.buffered.length === 0 && this.caughtUp() && !this.consumers.some((c) => c.draining)) return;
    this.passes.request();
  }

  /** Every queue read to what the store has confirmed. */
  private caughtUp(): boolean {
    const { engine, topic } = this.opts;
    for (const q of this.queues) if (engine.maxOffset(topic, q.id) > q.next) return false;
    return true;
  }

  /** Stops reading and commits what was settled. */
  async close(): Promise<void> {
    this.closed = true;
    this.unwatch();
    this.commitSoon.cancel();
    if (this.opts.durable) await this.commit();
  }

  /** Forgets the group's positions (a durable subscription closed for good). */
  async destroy(): Promise<void> {
    this.closed = true;
    this.unwatch();
    this.commitSoon.cancel();
    await this.committing;
    await this.opts.engine.deleteOffsets(this.opts.group, this.opts.topic);
  }

  private unwatch(): void {
    const readers = this.readers.splice(0);
    for (let id = 0; id < readers.length; id++) this.opts.engine.live.unwatch(this.opts.topic, id, readers[id]!);
  }

  private async run(): Promise<void> {
    for (;;) {
      if (this.closed) return;
      if (!this.consumers.some((c) => c.room() > 0)) return;
      const e = this.waiting.shift() ?? this.buffered.shift() ?? ((await this.readMore()) ? this.buffered.shift() : undefined);
      if (!e) break;
      const c = this.pick(e);
      if (!c) {
        // Every consumer with room declined it (undeliverable-here): it waits for another.
        this.requeue(e, true);
        return;
      }
      e.owner = c;
      c.deliver(e);
    }
    // Nothing more to read: a draining consumer's remaining credit is used up (spec 2.6.7).
    for (const c of this.consumers) if (c.draining && c.room() > 0) c.drained();
  }

  private pick(e: Entry): GroupConsumer | undefined {
    const n = this.consumers.length;
    for (let i = 0; i < n; i++) {
      const c = this.consumers[(this.rr + i) % n]!;
      if (c.room() > 0 && !e.notFor?.has(c)) {
        this.rr = (this.rr + i + 1) % n;
        return c;
      }
    }
    return undefined;
  }

  /** Reads the next batch from the queues in turn; false when every queue is read to its end. */
  private async readMore(): Promise<boolean> {
    const { engine, topic } = this.opts;
    for (let tried = 0; tried < this.queues.length; tried++) {
      const q = this.queues[this.readQueue]!;
      this.readQueue = (this.readQueue + 1) % this.queues.length;
      while (engine.maxOffset(topic, q.id) > q.next) {
        const r = await engine.read(topic, q.id, q.next, this.opts.readBatch);
        if (this.closed) return false;
        if (r.status !== 'FOUND') {
          // Expired or missing entries: continue where the store says.
          if (r.nextOffset === q.next) break;
          q.next = r.nextOffset;
          this.scheduleCommit();
          continue;
        }
        let kept = 0;
        for (const m of r.messages) {
          if (m.queueOffset < q.next) continue;
          q.next = m.queueOffset + 1;
          let message: MessageExt;
          try {
            message = decodeRecord(m.record);
          } catch (err) {
            this.opts.onError(err);
            continue;
          }
          if (this.opts.accept && !this.opts.accept(message)) continue;
          q.open.add(m.queueOffset);
          this.buffered.push({ queueId: q.id, offset: m.queueOffset, message, failures: 0, owner: null, notFor: null });
          kept++;
        }
        this.scheduleCommit();
        if (kept > 0) return true;
      }
    }
    return false;
  }

  private requeue(e: Entry, front = false): void {
    if (front) {
      this.waiting.unshift(e);
      return;
    }
    // Keep queue order among returned messages.
    let i = this.waiting.length;
    while (i > 0 && (this.waiting[i - 1]!.queueId > e.queueId || (this.waiting[i - 1]!.queueId === e.queueId && this.waiting[i - 1]!.offset > e.offset))) i--;
    this.waiting.splice(i, 0, e);
  }

  private done(e: Entry): void {
    this.queues[e.queueId]?.open.delete(e.offset);
    this.scheduleCommit();
  }

  private scheduleCommit(): void {
    if (this.opts.durable && !this.closed) this.commitSoon.request();
  }

  private commit(): Promise<void> {
    this.committing = this.committing
      .then(() => Promise.all(this.queues.map((q) => this.commitQueue(q))))
      .then(
        () => undefined,
        (err: unknown) => this.opts.onError(err),
      );
    return this.committing;
  }

  private async commitQueue(q: QueueState): Promise<void> {
    let low = q.next;
    for (const o of q.open) if (o < low) low = o;
    // Messages taken from memory run ahead of the commit-log write: a position past what is
    // written must not be committed (a crash reuses those offsets for new messages, which this
    // group would then skip). The rest is committed once written.
    const written = this.opts.engine.maxOffset(this.opts.topic, q.id);
    if (low > written) {
      low = written;
      this.scheduleCommit();
    }
    if (low === q.committed) return;
    q.committed = low;
    await this.opts.engine.commitOffset(this.opts.group, this.opts.topic, q.id, low);
  }
}

/**
 * A just-appended message as delivery needs it. The body is copied: the entry may wait unsettled,
 * and must neither pin nor share a connection's input buffer.
 */
function readMessageOf(m: AppendedMessage): ReadMessage {
  return {
    topic: m.topic,
    properties: m.properties as Map<string, string>,
    body: Buffer.from(m.body),
    sysFlag: m.sysFlag,
    bornTimestamp: m.bornTimestamp,
    msgId: m.msgId,
  };
}
