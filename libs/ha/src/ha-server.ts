import net from 'node:net';
import type { MessageStore } from '@apogee/store';
import { ACK_BYTES, ByteQueue, HaProtocolError, decodeAck, decodeHandshake, encodeAnswer, encodeDataHeader } from './frames.js';

/** What the master's stream needs of its store. */
export type HaMasterStore = Pick<MessageStore, 'readForReplica' | 'onCommitLogConfirmed' | 'commitLogEnd' | 'commitLogConfirmed'>;

export interface HaLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface HaServerOptions {
  store: HaMasterStore;
  log: HaLogger;
  /** The group's epoch (fixed at 0 until the controller lands). */
  epoch?: () => number;
  /** Bytes read per DATA frame (default 256 KiB). */
  chunkBytes?: number;
  /** A heartbeat frame after this long without data (default 1 s). */
  heartbeatMs?: number;
  /** A replica silent this long is dropped (default 20 s, RocketMQ's haHousekeepingInterval). */
  idleTimeoutMs?: number;
  /** A connection must complete its handshake within this (default 10 s). */
  handshakeTimeoutMs?: number;
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
}

/**
 * The master's side of the HA port: each replica connects, says where its log ends, and gets the
 * confirmed records from there as DATA frames (whole records, one socket write each, paced by the
 * socket's backpressure), a heartbeat when idle, and is dropped when it goes silent or breaks the
 * protocol. Its acks are kept for the lag view (and, later, sync replication).
 */
export class HaServer {
  private server: net.Server | null = null;
  private readonly conns = new Map<net.Socket, ReplicaView>();
  private readonly progressListeners = new Set<() => void>();
  private closing = false;

  constructor(private readonly opts: HaServerOptions) {}

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    const server = net.createServer((s) => this.accept(s));
    this.server = server;
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
    for (const s of this.conns.keys()) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    socket.setNoDelay(true);
    const input = new ByteQueue();
    let view: ReplicaView | null = null;
    const fail = (reason: string) => {
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
          view = this.start(socket, remote, h.handshake.replicaId, h.handshake.maxOffset, fail);
          if (!view) return;
        }
        let acked = false;
        for (let b = input.take(ACK_BYTES); b; b = input.take(ACK_BYTES)) {
          const a = decodeAck(b);
          view.ackedOffset = a.maxOffset;
          view.flushedOffset = a.flushedOffset;
          view.lastAckAt = Date.now();
          acked = true;
        }
        if (acked) this.progressed();
      } catch (err) {
        fail(err instanceof HaProtocolError ? err.message : String(err));
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(handshakeTimer);
      if (this.conns.delete(socket)) this.progressed();
    });
  }

  private start(socket: net.Socket, remote: string, replicaId: number, from: number, fail: (reason: string) => void): ReplicaView | null {
    const store = this.opts.store;
    if (from > store.commitLogEnd) {
      // Without epochs (the controller's work) a longer log cannot be cut safely: refuse it.
      fail(`the replica's log ends at ${from}, past this master's end ${store.commitLogEnd}`);
      return null;
    }
    const view: ReplicaView = { replicaId, remote, sentOffset: from, ackedOffset: from, flushedOffset: from, lastAckAt: Date.now() };
    this.conns.set(socket, view);
    socket.write(encodeAnswer({ truncateTo: from, masterEpoch: this.epoch() }));
    this.opts.log.info({ remote, replicaId, from }, 'ha: replica connected; streaming');
    void this.stream(socket, view, fail);
    // A replica that stopped reading (SIGSTOP, a hung host) holds the stream in a drain wait:
    // silence is checked on a timer, not only between frames.
    const idleMs = this.opts.idleTimeoutMs ?? 20_000;
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

  private epoch(): number {
    return this.opts.epoch?.() ?? 0;
  }

  private async stream(socket: net.Socket, view: ReplicaView, fail: (reason: string) => void): Promise<void> {
    const { store } = this.opts;
    const chunkBytes = this.opts.chunkBytes ?? 256 * 1024;
    const heartbeatMs = this.opts.heartbeatMs ?? 1000;
    let pos = view.sentOffset;
    while (!socket.destroyed && !this.closing) {
      const c = await store.readForReplica(pos, chunkBytes).catch((err: unknown) => {
        fail(`reading the log at ${pos} failed: ${(err as Error).message}`);
        return undefined;
      });
      if (c === undefined) return;
      if (c === null) return fail(`offset ${pos} is no longer in this master's log`);
      if (socket.destroyed) return;
      if (c.bytes.length === 0) {
        const more = await this.moreThan(pos, heartbeatMs);
        if (!more && !socket.destroyed) socket.write(encodeDataHeader({ offset: pos, epoch: this.epoch(), confirmOffset: pos, size: 0 }));
        continue;
      }
      socket.cork();
      socket.write(encodeDataHeader({ offset: pos, epoch: this.epoch(), confirmOffset: store.commitLogConfirmed, size: c.bytes.length }));
      const flushed = socket.write(c.bytes);
      socket.uncork();
      pos = c.next;
      view.sentOffset = pos;
      if (!flushed) await new Promise<void>((r) => (socket.destroyed ? r() : socket.once('drain', r).once('close', r)));
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
