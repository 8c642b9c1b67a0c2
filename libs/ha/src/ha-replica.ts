import net from 'node:net';
import type { MessageStore, MetaFeedPosition } from '@apogee/store';
import {
  ANSWER_BYTES,
  ByteQueue,
  FRAME_DATA,
  FRAME_META_CHANGES,
  HaProtocolError,
  type MetaChangesHeader,
  type MetaSnapshotHeader,
  decodeAnswer,
  decodeDataHeader,
  decodeMetaChangesHeader,
  decodeMetaSnapshotHeader,
  encodeAck,
  encodeHandshake,
  frameHeaderBytes,
} from './frames.js';
import type { HaLogger } from './ha-server.js';

/** What a replica's follower needs of its store. */
export type HaReplicaStore = Pick<
  MessageStore,
  | 'commitLogEnd'
  | 'commitLogConfirmed'
  | 'applyReplicated'
  | 'epochs'
  | 'currentEpoch'
  | 'beginEpoch'
  | 'truncateReplicated'
  | 'applyMetaChanges'
  | 'applyMetaSnapshot'
>;

export interface HaReplicaOptions {
  store: HaReplicaStore;
  master: { host: string; port: number };
  replicaId: number;
  log: HaLogger;
  /** Wait before connecting again after a lost or refused connection (default 1 s). */
  reconnectMs?: number;
  /**
   * Called after each metadata batch or snapshot from the master was applied to the store (the
   * engine reloads what it caches: Broker.reloadMetadata, which coalesces). Must not throw.
   */
  onMetaApplied?: () => void;
}

/**
 * The replica's side of the HA port: connects to the master, says where its log ends and its
 * epoch history, truncates its log where the answer says (a divergent tail a deposed master
 * wrote), applies each DATA frame in order (the socket is paused while a frame is applied, so a
 * slow disk slows the master's stream instead of filling memory), records a new epoch where the
 * first frame of a newer one starts, acks what it holds, and connects again after any failure
 * until stopped. A frame that does not continue its log, or whose epoch is older than the newest
 * this replica has seen (a deposed master's), closes the connection. The master's metadata feed
 * comes on the same connection (docs/ha-design.md decision 4): a snapshot first, streamed into
 * applyMetaSnapshot chunk by chunk and applied whole after its last chunk, then change batches
 * (applyMetaChanges), each applied in order; a meta frame that refers past this replica's log, or
 * that the store refuses (MetaFeedError: nothing of it is written), closes the connection, and
 * the next one starts with a snapshot again.
 */
export class HaReplica {
  private socket: net.Socket | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  /** The master's confirmed end as of its last frame. */
  masterConfirmed = 0;
  /** The newest epoch seen in a frame (heartbeats included; the store's history holds those of data frames). */
  private seenEpoch = 0;
  connected = false;
  /** Where this replica's metadata is in its master's feed, as applied on the current connection; null until its first snapshot. */
  metaPosition: MetaFeedPosition | null = null;
  /** Metadata snapshots applied since this follower was created. */
  metaSnapshots = 0;

  constructor(private readonly opts: HaReplicaOptions) {}

  start(): void {
    this.stopped = false;
    this.connect();
  }

  /** Bytes of confirmed master log this replica does not hold yet (as of the last frame). */
  get lagBytes(): number {
    return Math.max(0, this.masterConfirmed - this.opts.store.commitLogEnd);
  }

  stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const s = this.socket;
    if (!s || s.destroyed) return Promise.resolve();
    return new Promise((r) => {
      s.once('close', () => r());
      s.destroy();
    });
  }

  private newestEpoch(): number {
    return Math.max(this.seenEpoch, this.opts.store.currentEpoch());
  }

  /** A meta frame must be of the master's epoch (not older than seen here) and refer only to log this replica holds. */
  private checkMetaFrame(h: MetaChangesHeader): void {
    const newest = this.newestEpoch();
    if (h.epoch < newest) throw new HaProtocolError(`a metadata frame of epoch ${h.epoch}, older than epoch ${newest} seen here: a deposed master`);
    const end = this.opts.store.commitLogEnd;
    if (end < h.logOffset)
      throw new HaProtocolError(
        `a metadata frame read when the master's log was confirmed to ${h.logOffset}, ahead of this replica's log (${end}): it may refer to records not here yet`,
      );
  }

  private metaApplied(): void {
    try {
      this.opts.onMetaApplied?.();
    } catch (err) {
      this.opts.log.warn({ err: (err as Error).message }, 'ha: the metadata-applied callback threw');
    }
  }

  private connect(): void {
    const { store, master, log } = this.opts;
    const socket = net.connect(master.port, master.host);
    this.socket = socket;
    socket.setNoDelay(true);
    const input = new ByteQueue();
    let answered = false;
    let applying = false;
    /** Bytes came while a pump ran: pump again when it is done. */
    let more = false;
    /** A metadata snapshot being received: its first header, the next chunk due, and the store's application of it. */
    let snapshot: {
      first: MetaSnapshotHeader;
      next: number;
      inbox: ChunkInbox;
      outcome: Promise<{ position: MetaFeedPosition; error: null } | { position: null; error: Error }>;
      /** The last chunk is in: the pump reports the outcome. */
      finishing: boolean;
    } | null = null;
    // Every connection starts over with a snapshot.
    this.metaPosition = null;
    const fail = (reason: string) => {
      if (socket.destroyed) return; // closed already, and said why
      log.warn({ master: `${master.host}:${master.port}`, reason }, 'ha: replication connection closed');
      socket.destroy();
    };
    const pump = async (): Promise<void> => {
      if (applying) {
        more = true;
        return;
      }
      applying = true;
      more = false;
      try {
        while (!socket.destroyed) {
          if (!answered) {
            const b = input.take(ANSWER_BYTES);
            if (!b) break;
            const a = decodeAnswer(b);
            const newest = this.newestEpoch();
            if (a.masterEpoch < newest)
              throw new HaProtocolError(`the master is at epoch ${a.masterEpoch}, older than epoch ${newest} seen here: a deposed master`);
            const end = store.commitLogEnd;
            if (a.truncateTo > end)
              throw new HaProtocolError(
                `the master's log continues at ${a.truncateTo}, past this replica's end ${end}: its log would have to be discarded and copied again (not done yet)`,
              );
            if (a.truncateTo < end) {
              log.warn({ master: `${master.host}:${master.port}`, end, truncateTo: a.truncateTo }, 'ha: truncating a divergent tail');
              socket.pause();
              await store.truncateReplicated(a.truncateTo).catch((err: unknown) => {
                throw new HaProtocolError(`cannot truncate to ${a.truncateTo} where the master's log and this one diverge: ${(err as Error).message}`);
              });
              socket.resume();
            }
            answered = true;
            this.connected = true;
            log.info({ master: `${master.host}:${master.port}`, from: a.truncateTo, epoch: a.masterEpoch }, 'ha: following the master');
            continue;
          }
          const kind = input.peek(1);
          if (!kind) break;
          const headerBytes = frameHeaderBytes(kind[0]!);
          const head = input.peek(headerBytes);
          if (!head) break;
          if (kind[0] === FRAME_DATA) {
            const h = decodeDataHeader(head);
            if (input.available < headerBytes + h.size) break;
            input.take(headerBytes);
            const body = h.size > 0 ? input.take(h.size)! : null;
            this.masterConfirmed = h.confirmOffset;
            const newest = this.newestEpoch();
            if (h.epoch < newest) throw new HaProtocolError(`a frame of epoch ${h.epoch}, older than epoch ${newest} seen here: a deposed master`);
            this.seenEpoch = h.epoch;
            if (body) {
              if (h.offset !== store.commitLogEnd)
                throw new HaProtocolError(`a frame for offset ${h.offset}; this replica's log ends at ${store.commitLogEnd}`);
              socket.pause();
              // The first frame of a newer epoch: the history records where it starts, before its records land.
              if (h.epoch > store.currentEpoch()) await store.beginEpoch(h.epoch, h.offset);
              await store.applyReplicated(h.offset, body);
              socket.resume();
            }
          } else if (kind[0] === FRAME_META_CHANGES) {
            const h = decodeMetaChangesHeader(head);
            if (input.available < headerBytes + h.size) break;
            input.take(headerBytes);
            const body = input.take(h.size)!;
            this.checkMetaFrame(h);
            if (snapshot) throw new HaProtocolError(`metadata changes in the middle of a snapshot (after its chunk ${snapshot.next - 1})`);
            if (this.metaPosition === null) throw new HaProtocolError('metadata changes before the first metadata snapshot of this connection');
            socket.pause();
            const pos = await store.applyMetaChanges(body).catch((err: unknown) => {
              throw new HaProtocolError(`the master's metadata batch was refused, nothing of it applied: ${(err as Error).message}`);
            });
            socket.resume();
            this.metaPosition = pos;
            this.metaApplied();
          } else {
            const h = decodeMetaSnapshotHeader(head);
            if (input.available < headerBytes + h.size) break;
            input.take(headerBytes);
            const body = input.take(h.size)!;
            this.checkMetaFrame(h);
            if (!snapshot) {
              if (h.chunkIndex !== 0) throw new HaProtocolError(`a metadata snapshot starting with chunk ${h.chunkIndex}`);
              const inbox = new ChunkInbox();
              const applied = store.applyMetaSnapshot(inbox.chunks());
              // Settled here, whatever happens to the connection: a refusal is reported below, or moot.
              const outcome = applied.then(
                (position) => ({ position, error: null }),
                (err: unknown) => ({ position: null, error: err as Error }),
              );
              const started = { first: h, next: 0, inbox, outcome, finishing: false };
              snapshot = started;
              // The store refuses a damaged chunk as it takes it, without waiting for the next frame: close now.
              void outcome.then(({ error }) => {
                if (error && !started.finishing && snapshot === started && !socket.destroyed)
                  fail(`the master's metadata snapshot was refused, nothing of it applied: ${error.message}`);
              });
            } else if (h.chunkIndex !== snapshot.next || h.generation !== snapshot.first.generation || h.seq !== snapshot.first.seq) {
              throw new HaProtocolError(
                `metadata snapshot chunk ${h.chunkIndex} of ${h.generation}:${h.seq} where chunk ${snapshot.next} of ${snapshot.first.generation}:${snapshot.first.seq} was due`,
              );
            }
            const s = snapshot;
            s.next++;
            socket.pause();
            // Handed to the store's applyMetaSnapshot as it reads (it checks and stages each chunk, and writes only after the last).
            const early = await Promise.race([s.inbox.put(body).then(() => null), s.outcome]);
            if (early?.error) throw new HaProtocolError(`the master's metadata snapshot was refused, nothing of it applied: ${early.error.message}`);
            if (h.last) {
              s.finishing = true;
              s.inbox.end();
              const done = await s.outcome;
              snapshot = null;
              if (done.error) throw new HaProtocolError(`the master's metadata snapshot was refused, nothing of it applied: ${done.error.message}`);
              this.metaPosition = done.position;
              this.metaSnapshots++;
              log.info(
                { master: `${master.host}:${master.port}`, generation: done.position!.generation, seq: done.position!.seq, chunks: s.next },
                "ha: the master's metadata snapshot is applied",
              );
              this.metaApplied();
            }
            socket.resume();
          }
          if (!socket.destroyed) socket.write(encodeAck({ maxOffset: store.commitLogEnd, flushedOffset: store.commitLogConfirmed, meta: this.metaPosition }));
        }
      } catch (err) {
        fail((err as Error).message);
      } finally {
        applying = false;
      }
      // Bytes that arrived while applying are handled now.
      if (more && !socket.destroyed) void pump();
    };
    socket.on('connect', () =>
      socket.write(encodeHandshake({ replicaId: this.opts.replicaId, maxOffset: store.commitLogEnd, epochs: store.epochs().map((e) => ({ ...e })) })),
    );
    socket.on('data', (chunk: Buffer) => {
      input.push(chunk);
      void pump();
    });
    socket.on('error', (err) => log.warn({ master: `${master.host}:${master.port}`, err: err.message }, 'ha: cannot reach the master'));
    socket.on('close', () => {
      this.connected = false;
      // A snapshot cut off midway is not applied (the store writes nothing before its last chunk).
      snapshot?.inbox.fail(new Error('the connection closed before the last chunk'));
      snapshot = null;
      if (this.socket === socket) this.socket = null;
      if (!this.stopped) this.retry = setTimeout(() => this.connect(), this.opts.reconnectMs ?? 1000);
    });
  }
}

/**
 * Hands the chunks of a metadata snapshot, as they arrive, to the store's applyMetaSnapshot (an
 * async iterable it reads in order): one chunk at a time, `put` resolving once the store took it,
 * so a slow store holds the socket back instead of filling memory.
 */
class ChunkInbox {
  private item: Buffer | null = null;
  private ended = false;
  private error: Error | null = null;
  private wakeReader: (() => void) | null = null;
  private wakeWriter: (() => void) | null = null;

  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      if (this.item === null && !this.ended && this.error === null) await new Promise<void>((r) => (this.wakeReader = r));
      if (this.error !== null) throw this.error;
      const b = this.item;
      if (b === null) {
        if (this.ended) return;
        continue; // woken without a chunk: look again
      }
      this.item = null;
      const w = this.wakeWriter;
      this.wakeWriter = null;
      w?.();
      yield b;
    }
  }

  /** Offers the next chunk; resolves once the reader took it (or the inbox failed). */
  put(b: Buffer): Promise<void> {
    if (this.item !== null) throw new Error('ChunkInbox.put: the previous chunk was not taken yet');
    this.item = b;
    const taken = new Promise<void>((r) => (this.wakeWriter = r));
    this.wake();
    return taken;
  }

  /** No more chunks: the reader's iteration ends. */
  end(): void {
    this.ended = true;
    this.wake();
  }

  /** The reader's next step throws `err` (the snapshot is not applied). */
  fail(err: Error): void {
    this.error ??= err;
    const w = this.wakeWriter;
    this.wakeWriter = null;
    w?.();
    this.wake();
  }

  private wake(): void {
    const r = this.wakeReader;
    this.wakeReader = null;
    r?.();
  }
}
