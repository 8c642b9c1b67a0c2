import net from 'node:net';
import type { MessageStore } from '@apogee/store';
import { ANSWER_BYTES, ByteQueue, DATA_HEADER_BYTES, HaProtocolError, decodeAnswer, decodeDataHeader, encodeAck, encodeHandshake } from './frames.js';
import type { HaLogger } from './ha-server.js';

/** What a replica's follower needs of its store. */
export type HaReplicaStore = Pick<MessageStore, 'commitLogEnd' | 'commitLogConfirmed' | 'applyReplicated'>;

export interface HaReplicaOptions {
  store: HaReplicaStore;
  master: { host: string; port: number };
  replicaId: number;
  log: HaLogger;
  /** Wait before connecting again after a lost or refused connection (default 1 s). */
  reconnectMs?: number;
}

/**
 * The replica's side of the HA port: connects to the master, says where its log ends, applies
 * each DATA frame in order (the socket is paused while a frame is applied, so a slow disk slows
 * the master's stream instead of filling memory), acks what it holds, and connects again after
 * any failure until stopped. A frame that does not continue its log closes the connection.
 */
export class HaReplica {
  private socket: net.Socket | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;
  /** The master's confirmed end as of its last frame. */
  masterConfirmed = 0;
  connected = false;

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
    const fail = (reason: string) => {
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
            if (a.truncateTo !== store.commitLogEnd)
              throw new HaProtocolError(
                `the master asks to truncate to ${a.truncateTo}; this replica ends at ${store.commitLogEnd} (truncation comes with the controller)`,
              );
            answered = true;
            this.connected = true;
            log.info({ master: `${master.host}:${master.port}`, from: a.truncateTo, epoch: a.masterEpoch }, 'ha: following the master');
            continue;
          }
          const head = input.peek(DATA_HEADER_BYTES);
          if (!head) break;
          const h = decodeDataHeader(head);
          if (input.available < DATA_HEADER_BYTES + h.size) break;
          input.take(DATA_HEADER_BYTES);
          const body = h.size > 0 ? input.take(h.size)! : null;
          this.masterConfirmed = h.confirmOffset;
          if (body) {
            if (h.offset !== store.commitLogEnd) throw new HaProtocolError(`a frame for offset ${h.offset}; this replica's log ends at ${store.commitLogEnd}`);
            socket.pause();
            await store.applyReplicated(h.offset, body);
            socket.resume();
          }
          if (!socket.destroyed) socket.write(encodeAck({ maxOffset: store.commitLogEnd, flushedOffset: store.commitLogConfirmed }));
        }
      } catch (err) {
        fail((err as Error).message);
      } finally {
        applying = false;
      }
      // Bytes that arrived while applying are handled now.
      if (more && !socket.destroyed) void pump();
    };
    socket.on('connect', () => socket.write(encodeHandshake({ replicaId: this.opts.replicaId, maxOffset: store.commitLogEnd, epochs: [] })));
    socket.on('data', (chunk: Buffer) => {
      input.push(chunk);
      void pump();
    });
    socket.on('error', (err) => log.warn({ master: `${master.host}:${master.port}`, err: err.message }, 'ha: cannot reach the master'));
    socket.on('close', () => {
      this.connected = false;
      if (this.socket === socket) this.socket = null;
      if (!this.stopped) this.retry = setTimeout(() => this.connect(), this.opts.reconnectMs ?? 1000);
    });
  }
}
