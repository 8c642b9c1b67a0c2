import net from 'node:net';
import type { MessageStore } from '@apogee/store';
import { ANSWER_BYTES, ByteQueue, DATA_HEADER_BYTES, HaProtocolError, decodeAnswer, decodeDataHeader, encodeAck, encodeHandshake } from './frames.js';
import type { HaLogger } from './ha-server.js';

/** What a replica's follower needs of its store. */
export type HaReplicaStore = Pick<
  MessageStore,
  'commitLogEnd' | 'commitLogConfirmed' | 'applyReplicated' | 'epochs' | 'currentEpoch' | 'beginEpoch' | 'truncateReplicated'
>;

export interface HaReplicaOptions {
  store: HaReplicaStore;
  master: { host: string; port: number };
  replicaId: number;
  log: HaLogger;
  /** Wait before connecting again after a lost or refused connection (default 1 s). */
  reconnectMs?: number;
}

/**
 * The replica's side of the HA port: connects to the master, says where its log ends and its
 * epoch history, truncates its log where the answer says (a divergent tail a deposed master
 * wrote), applies each DATA frame in order (the socket is paused while a frame is applied, so a
 * slow disk slows the master's stream instead of filling memory), records a new epoch where the
 * first frame of a newer one starts, acks what it holds, and connects again after any failure
 * until stopped. A frame that does not continue its log, or whose epoch is older than the newest
 * this replica has seen (a deposed master's), closes the connection.
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
          const head = input.peek(DATA_HEADER_BYTES);
          if (!head) break;
          const h = decodeDataHeader(head);
          if (input.available < DATA_HEADER_BYTES + h.size) break;
          input.take(DATA_HEADER_BYTES);
          const body = h.size > 0 ? input.take(h.size)! : null;
          this.masterConfirmed = h.confirmOffset;
          const newest = this.newestEpoch();
          if (h.epoch < newest) throw new HaProtocolError(`a frame of epoch ${h.epoch}, older than epoch ${newest} seen here: a deposed master`);
          this.seenEpoch = h.epoch;
          if (body) {
            if (h.offset !== store.commitLogEnd) throw new HaProtocolError(`a frame for offset ${h.offset}; this replica's log ends at ${store.commitLogEnd}`);
            socket.pause();
            // The first frame of a newer epoch: the history records where it starts, before its records land.
            if (h.epoch > store.currentEpoch()) await store.beginEpoch(h.epoch, h.offset);
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
      if (this.socket === socket) this.socket = null;
      if (!this.stopped) this.retry = setTimeout(() => this.connect(), this.opts.reconnectMs ?? 1000);
    });
  }
}
