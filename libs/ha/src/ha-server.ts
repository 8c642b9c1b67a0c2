import net from 'node:net';
import type { MessageStore } from '@apogee/store';
import {
  ACK_BYTES,
  ByteQueue,
  HaProtocolError,
  type Handshake,
  decodeAck,
  decodeHandshake,
  encodeAnswer,
  encodeDataHeader,
  epochAt,
  epochEndAfter,
  type MetaPosition,
  truncationPoint,
} from './frames.js';
import { type HaMetaStore, MetaSender, drained } from './meta-sender.js';

/** What the master's streams (commit log and metadata feed) need of its store. */
export type HaMasterStore = Pick<MessageStore, 'readForReplica' | 'onCommitLogConfirmed' | 'commitLogEnd' | 'commitLogConfirmed' | 'epochs' | 'currentEpoch'> &
  HaMetaStore;

export interface HaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface HaServerOptions {
  store: HaMasterStore;
  log: HaLogger;
  /** Bytes read per DATA frame (default 256 KiB). */
  chunkBytes?: number;
  /** A heartbeat frame after this long without data (default 1 s). */
  heartbeatMs?: number;
  /** A replica silent this long is dropped (default 20 s, RocketMQ's haHousekeepingInterval). */
  idleTimeoutMs?: number;
  /** A connection must complete its handshake within this (default 10 s). */
  handshakeTimeoutMs?: number;
  /** About this many bytes of metadata changes per META_CHANGES frame (default 1 MiB; one change may make a frame larger). */
  metaBatchBytes?: number;
  /** The metadata stream looks for changes at least this often (default 1 s; changes wake it at once). */
  metaCheckMs?: number;
}

/** One connected replica as the master sees it. */
export interface ReplicaView {
  replicaId: number;
  remote: string;
  /** Where the stream to it has got. */
  sentOffset: number;
  /** What it last said it holds (written, and flushed). */
  ackedOffset: number;
  flushedOffset: number;
  lastAckAt: number;
  /** Where its metadata is in this master's feed, as it last acked (null before its first snapshot on this connection). Set by HaServer. */
  metaAcked?: MetaPosition | null;
  /** Metadata snapshots sent to it on this connection (the first, and one per fall out of the journal). Set by HaServer. */
  metaSnapshots?: number;
}

/**
 * The master's side of the HA port: each replica connects and sends its log's end and epoch
 * history; the answer says where its log must end to be a prefix of this one (truncationPoint:
 * the end of the newest epoch both hold) and this master's epoch (the store's currentEpoch), and
 * the replica gets the confirmed records from there as DATA frames (whole records, one socket
 * write each, paced by the socket's backpressure, each within one epoch and carrying it), a
 * heartbeat when idle, and is dropped when it goes silent or breaks the protocol. A replica that
 * has seen a newer epoch than this master's is refused (this master is deposed). Its acks are
 * kept for the lag view and sync replication. Next to the log, each replica gets the store's
 * metadata feed (MetaSender: a snapshot, then changes), never ahead of the log it acked.
 */
export class HaServer {
  private server: net.Server | null = null;
  private readonly conns = new Map<net.Socket, ReplicaView>();
  private readonly progressListeners = new Set<() => void>();
  private readonly metaSenders = new Map<net.Socket, MetaSender>();
  private unsubscribeMeta: (() => void) | null = null;
  private closing = false;

  constructor(private readonly opts: HaServerOptions) {}

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
    // Metadata changed: every replica's stream looks (the store calls at most once per event-loop turn).
    this.unsubscribeMeta ??= this.opts.store.onMetaChange(() => {
      for (const m of this.metaSenders.values()) m.wake();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const a = server.address() as net.AddressInfo;
    return `${a.address}:${a.port}`;
  }

  replicas(): ReplicaView[] {
    return [...this.conns.values()].map((v) => ({ ...v }));
  }

  /** The connected replicas' views themselves (read-only; for sync replication's per-ack checks). */
  liveReplicas(): Iterable<Readonly<ReplicaView>> {
    return this.conns.values();
  }

  /** Calls `listener` after a replica's acks were taken in and after a replica left. Returns the unsubscribe function. */
  onProgress(listener: () => void): () => void {
    this.progressListeners.add(listener);
    return () => this.progressListeners.delete(listener);
  }

  private progressed(): void {
    for (const l of this.progressListeners) l();
  }

  async close(): Promise<void> {
    this.closing = true;
    this.unsubscribeMeta?.();
    this.unsubscribeMeta = null;
    for (const s of this.conns.keys()) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    const input = new ByteQueue();
    let view: ReplicaView | null = null;
    const fail = (reason: string) => {
      if (socket.destroyed) return; // closed already, and said why
      this.opts.log.warn({ remote, replicaId: view?.replicaId, reason }, 'ha: replica connection closed');
      socket.destroy();
    };
    const handshakeTimer = setTimeout(() => fail('no handshake in time'), this.opts.handshakeTimeoutMs ?? 10_000);
    socket.on('data', (chunk: Buffer) => {
      input.push(chunk);
      try {
        if (!view) {
          const whole = input.peek(input.available);
          const h = whole && decodeHandshake(whole);
          if (!h) return;
          input.take(h.bytes);
          clearTimeout(handshakeTimer);
          view = this.start(socket, remote, h.handshake, fail);
          if (!view) return;
        }
        let acked = false;
        for (let b = input.take(ACK_BYTES); b; b = input.take(ACK_BYTES)) {
          const a = decodeAck(b);
          view.ackedOffset = a.maxOffset;
          view.flushedOffset = a.flushedOffset;
          view.lastAckAt = Date.now();
          view.metaAcked = a.meta ?? null;
          acked = true;
        }
        if (acked) {
          this.metaSenders.get(socket)?.wake();
          this.progressed();
        }
      } catch (err) {
        fail(err instanceof HaProtocolError ? err.message : String(err));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(handshakeTimer);
      this.metaSenders.get(socket)?.stop();
      this.metaSenders.delete(socket);
      if (this.conns.delete(socket)) this.progressed();
    });
  }

  private start(socket: net.Socket, remote: string, h: Handshake, fail: (reason: string) => void): ReplicaView | null {
    const store = this.opts.store;
    const { replicaId, maxOffset } = h;
    // The master's log as far as a replica may hold it: its confirmed part.
    const from = truncationPoint({ epochs: store.epochs(), end: store.commitLogConfirmed }, { epochs: h.epochs, end: maxOffset });
    if (typeof from === 'string') {
      fail(from);
      return null;
    }
    const view: ReplicaView = {
      replicaId,
      remote,
      sentOffset: from,
      ackedOffset: from,
      flushedOffset: from,
      lastAckAt: Date.now(),
      metaAcked: null,
      metaSnapshots: 0,
    };
    this.conns.set(socket, view);
    const masterEpoch = store.currentEpoch();
    socket.write(encodeAnswer({ truncateTo: from, masterEpoch }));
    if (from < maxOffset)
      this.opts.log.warn({ remote, replicaId, replicaEnd: maxOffset, truncateTo: from }, 'ha: the replica has a divergent tail; it truncates it');
    this.opts.log.info({ remote, replicaId, from, epoch: masterEpoch }, 'ha: replica connected; streaming');
    void this.stream(socket, view, fail);
    const idleMs = this.opts.idleTimeoutMs ?? 20_000;
    const meta = new MetaSender({
      store,
      socket,
      view,
      remote,
      log: this.opts.log,
      fail,
      closing: () => this.closing,
      batchBytes: this.opts.metaBatchBytes ?? 1024 * 1024,
      checkMs: this.opts.metaCheckMs ?? 1000,
      ackTimeoutMs: idleMs,
    });
    this.metaSenders.set(socket, meta);
    void meta.run();
    // A replica that stopped reading (SIGSTOP, a hung host) holds the stream in a drain wait:
    // silence is checked on a timer, not only between frames.
    const watch = setInterval(
      () => {
        if (Date.now() - view.lastAckAt > idleMs) fail(`no ack for ${idleMs} ms`);
      },
      Math.min(idleMs, 1000),
    );
    watch.unref();
    socket.once('close', () => clearInterval(watch));
    return view;
  }

  private async stream(socket: net.Socket, view: ReplicaView, fail: (reason: string) => void): Promise<void> {
    const { store } = this.opts;
    const chunkBytes = this.opts.chunkBytes ?? 256 * 1024;
    const heartbeatMs = this.opts.heartbeatMs ?? 1000;
    let pos = view.sentOffset;
    while (!socket.destroyed && !this.closing) {
      // A frame holds records of one epoch: a chunk stops where the next epoch starts.
      const epochs = store.epochs();
      const epoch = epochAt(epochs, pos);
      const c = await store.readForReplica(pos, Math.min(chunkBytes, epochEndAfter(epochs, pos) - pos)).catch((err: unknown) => {
        fail(`reading the log at ${pos} failed: ${(err as Error).message}`);
        return undefined;
      });
      if (c === undefined) return;
      if (c === null) return fail(`offset ${pos} is no longer in this master's log`);
      if (socket.destroyed) return;
      if (c.bytes.length === 0) {
        const more = await this.moreThan(pos, heartbeatMs);
        if (!more && !socket.destroyed) socket.write(encodeDataHeader({ offset: pos, epoch: epochAt(store.epochs(), pos), confirmOffset: pos, size: 0 }));
        continue;
      }
      socket.cork();
      socket.write(encodeDataHeader({ offset: pos, epoch, confirmOffset: store.commitLogConfirmed, size: c.bytes.length }));
      const flushed = socket.write(c.bytes);
      socket.uncork();
      pos = c.next;
      view.sentOffset = pos;
      if (!flushed) await drained(socket);
    }
  }

  /** Resolves true once the log is confirmed past `pos`, false after `ms`. */
  private moreThan(pos: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const off = this.opts.store.onCommitLogConfirmed((confirmed) => {
        if (confirmed > pos) done(true);
      });
      const timer = setTimeout(() => done(false), ms);
      const done = (v: boolean) => {
        off();
        clearTimeout(timer);
        resolve(v);
      };
      // Confirmed between the empty read and the subscription: no event will come for it.
      if (this.opts.store.commitLogConfirmed > pos) done(true);
    });
  }
}
