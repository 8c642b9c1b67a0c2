import type net from 'node:net';
import type { MessageStore, MetaFeedPosition } from '@apogee/store';
import { MAX_META_BYTES, type MetaPosition, encodeMetaChangesHeader, encodeMetaSnapshotHeader } from './frames.js';
import type { HaLogger } from './ha-server.js';

/** What the master's metadata stream needs of its store. */
export type HaMetaStore = Pick<
  MessageStore,
  'metaFeedPosition' | 'readMetaChanges' | 'readMetaSnapshot' | 'onMetaChange' | 'commitLogConfirmed' | 'currentEpoch'
>;

/** The parts of a replica's view the metadata stream reads and keeps. */
export interface MetaSenderView {
  replicaId: number;
  /** The commit-log end the replica last acked. */
  ackedOffset: number;
  /** The feed position the replica last acked (null or absent before its first snapshot on this connection). */
  metaAcked?: MetaPosition | null;
  /** Snapshots sent to it on this connection. */
  metaSnapshots?: number;
}

export interface MetaSenderOptions {
  store: HaMetaStore;
  socket: net.Socket;
  view: MetaSenderView;
  remote: string;
  log: HaLogger;
  /** Closes the connection with a reason (logged). */
  fail: (reason: string) => void;
  /** Whether the server is closing. */
  closing: () => boolean;
  /** About this many bytes of changes per META_CHANGES frame. */
  batchBytes: number;
  /** How often the stream looks for changes without being woken. */
  checkMs: number;
  /** A replica that has not applied a sent batch or snapshot within this is dropped. */
  ackTimeoutMs: number;
}

const samePosition = (a: MetaPosition | null | undefined, b: MetaFeedPosition) => a != null && a.generation === b.generation && a.seq === b.seq;
const beyond = (a: MetaPosition | null | undefined, b: MetaFeedPosition) => a != null && a.generation === b.generation && a.seq > b.seq;

/**
 * The master's metadata stream to one replica (docs/ha-design.md decision 4), on the replica's HA
 * connection next to the commit-log stream: a snapshot first (a replica keeps its feed position
 * in memory only, so every connection starts with one), then the changes from the position the
 * replica acked, one frame at a time (the next is read once the replica acked the last), and a
 * new snapshot whenever the feed no longer serves that position (fallen out of the journal, a new
 * generation). A batch or snapshot is sent only once the replica acked the commit-log position
 * that was confirmed here when it was read, so nothing in it refers past the replica's log.
 * Woken by metadata changes and acks (coalesced), and every `checkMs` regardless.
 */
export class MetaSender {
  private woken = false;
  private wakeUp: (() => void) | null = null;
  private stopped = false;

  constructor(private readonly o: MetaSenderOptions) {}

  /** Something changed (metadata, an ack): the stream looks again. Calls before it looks count once. */
  wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = null;
    w?.();
  }

  stop(): void {
    this.stopped = true;
    this.wake();
  }

  /** Runs until the connection ends; a failure closes the connection. */
  async run(): Promise<void> {
    try {
      await this.loop();
    } catch (err) {
      this.o.fail(`metadata stream: ${(err as Error).message}`);
    }
  }

  private get live(): boolean {
    return !this.stopped && !this.o.socket.destroyed && !this.o.closing();
  }

  private async loop(): Promise<void> {
    const { store, view, log, remote } = this.o;
    let at: MetaFeedPosition | null = null;
    let reason = 'the replica connected';
    while (this.live) {
      if (at === null) {
        at = await this.sendSnapshot(reason);
        if (at === null) return;
        continue;
      }
      const now = store.metaFeedPosition();
      if (now.generation === at.generation && now.seq === at.seq) {
        await this.wait(this.o.checkMs);
        continue;
      }
      // Read together, in one turn: what the batch holds was made while the log was confirmed to `logOffset`.
      const batch = store.readMetaChanges(at.generation, at.seq, this.o.batchBytes);
      const logOffset = store.commitLogConfirmed;
      if (batch === null) {
        reason =
          now.generation !== at.generation
            ? `the feed is of another generation (${now.generation}, the replica is at ${at.generation})`
            : `the replica's position ${at.seq} is no longer in the journal (now at ${now.seq})`;
        log.info({ remote, replicaId: view.replicaId, reason }, 'ha: the replica needs a metadata snapshot');
        at = null;
        continue;
      }
      if (batch.length > MAX_META_BYTES) throw new Error(`a change batch of ${batch.length} bytes (at most ${MAX_META_BYTES})`);
      if (!(await this.until(() => view.ackedOffset >= logOffset))) return;
      await this.write(encodeMetaChangesHeader({ epoch: store.currentEpoch(), logOffset, size: batch.length }), batch);
      const from = at;
      if (!(await this.until(() => beyond(view.metaAcked, from), 'apply a metadata batch'))) return;
      at = view.metaAcked!;
    }
  }

  /** Streams a snapshot; resolves with its position once the replica applied it, null when the connection ended. */
  private async sendSnapshot(reason: string): Promise<MetaFeedPosition | null> {
    const { store, view, log, remote } = this.o;
    // The snapshot's state is held in memory from its read until its last chunk is out: let the
    // replica get to the log's confirmed end first (a fresh one copies the whole log), so it is not
    // held for the whole copy.
    const before = store.commitLogConfirmed;
    if (!(await this.until(() => view.ackedOffset >= before))) return null;
    const snapshot = store.readMetaSnapshot();
    const logOffset = store.commitLogConfirmed;
    const { position } = snapshot;
    const chunks = snapshot.chunks[Symbol.asyncIterator]();
    try {
      if (!(await this.until(() => view.ackedOffset >= logOffset))) return null;
      log.info({ remote, replicaId: view.replicaId, reason, generation: position.generation, seq: position.seq }, 'ha: sending a metadata snapshot');
      // One chunk of lookahead: the frame of the last chunk says it is the last.
      let cur = await chunks.next();
      if (cur.done) throw new Error("the store's snapshot has no chunks");
      for (let chunkIndex = 0; !cur.done; chunkIndex++) {
        const next = await chunks.next();
        if (!this.live) return null;
        const chunk = cur.value;
        if (chunk.length === 0 || chunk.length > MAX_META_BYTES) throw new Error(`a snapshot chunk of ${chunk.length} bytes (1..${MAX_META_BYTES})`);
        const header = encodeMetaSnapshotHeader({
          epoch: store.currentEpoch(),
          logOffset,
          generation: position.generation,
          seq: position.seq,
          chunkIndex,
          last: next.done === true,
          size: chunk.length,
        });
        await this.write(header, chunk);
        cur = next;
      }
    } finally {
      await chunks.return?.();
    }
    view.metaSnapshots = (view.metaSnapshots ?? 0) + 1;
    if (!(await this.until(() => samePosition(view.metaAcked, position), 'apply a metadata snapshot'))) return null;
    return position;
  }

  /** Writes one frame (header and body together) and waits while the socket's buffer is full. */
  private async write(header: Buffer, body: Buffer): Promise<void> {
    const { socket } = this.o;
    if (socket.destroyed) return;
    socket.cork();
    socket.write(header);
    const flushed = socket.write(body);
    socket.uncork();
    if (!flushed) await drained(socket);
  }

  /**
   * Waits until `ok()` holds (true) or the connection ends (false), looking again at each wake and
   * every checkMs. With `what`, a wait longer than ackTimeoutMs is a failure: the replica did not
   * `what` in time.
   */
  private async until(ok: () => boolean, what?: string): Promise<boolean> {
    const deadline = Date.now() + this.o.ackTimeoutMs;
    while (this.live && !ok()) {
      if (what !== undefined && Date.now() >= deadline) throw new Error(`the replica did not ${what} within ${this.o.ackTimeoutMs} ms`);
      await this.wait(this.o.checkMs);
    }
    return this.live;
  }

  /** Resolves at the next wake (at once if one came since the last wait) or after `ms`. */
  private wait(ms: number): Promise<void> {
    if (this.woken) {
      this.woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakeUp = null;
        this.woken = false;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wakeUp = done;
    });
  }
}

/** Resolves once the socket's write buffer drained, or it closed. */
export function drained(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    const done = () => {
      socket.off('drain', done);
      socket.off('close', done);
      resolve();
    };
    socket.on('drain', done);
    socket.on('close', done);
  });
}
