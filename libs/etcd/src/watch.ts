// Watches (etcd's Watch service through POST /v3/watch: one create request, then a chunked answer of
// JSON lines). A watch outlives its connection: when the stream fails or ends it connects again —
// to the next endpoint when the connection itself failed — and resumes at the revision after the
// last one it delivered, so no event is lost or repeated. It stops for good only when cancelled, when
// the client closes, or when etcd has compacted the revision it must resume from (then it says so:
// the caller re-reads the state and watches again from there).
import { type Bytes, type KeyValue, Reader, b64, prefixEnd, readHeader, readKeyValue } from './codec.js';
import { JsonLineSplitter } from './json-lines.js';
import { unwrapStreamed } from './lease.js';
import type { HttpTransport, StreamHandle } from './transport.js';

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key and the deleting revision (modRevision); value empty. */
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | null;
}

export interface WatchOptions {
  readonly prefix?: boolean;
  /** The first revision to deliver; 0 (the default) = changes after now. */
  readonly fromRevision?: number;
  readonly prevKv?: boolean;
  /** Reconnection back-off: doubles from min to max between failed attempts. */
  readonly retryMinMs?: number;
  readonly retryMaxMs?: number;
  /** Longest JSON line accepted from the stream. */
  readonly maxLineBytes?: number;
}

export interface WatchHandlers {
  /** Each event in revision order; the events of one revision (a txn) come one after another. */
  onEvent(event: WatchEvent): void;
  /** etcd no longer holds `fromRevision`: the watch has stopped. */
  onCompacted?(compactRevision: number): void;
  /** A lost stream (the watch reconnects) or a cancel etcd chose (then it has stopped). */
  onError?(error: Error, stopped: boolean): void;
  /** The stream is (again) established at an endpoint. */
  onConnected?(endpoint: string): void;
}

export class Watch {
  private stream: StreamHandle | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryMs: number;
  private stopped = false;
  private nextRevision: number;
  private readonly unlisten: () => void;

  constructor(
    private readonly http: HttpTransport,
    private readonly key: Bytes,
    private readonly options: WatchOptions,
    private readonly handlers: WatchHandlers,
    private readonly onStop: (w: Watch) => void,
  ) {
    this.nextRevision = options.fromRevision ?? 0;
    this.retryMs = options.retryMinMs ?? 50;
    // A unary call that found the endpoint dead: a stopped member keeps our stream open forever.
    this.unlisten = http.onEndpointFailed((endpoint) => {
      if (this.stream?.endpoint === endpoint) this.restart(new Error(`${endpoint} failed a call`), 0);
    });
    this.connect();
  }

  /** The revision the watch resumes from (after the last delivered event). */
  get resumeRevision(): number {
    return this.nextRevision;
  }

  get active(): boolean {
    return !this.stopped;
  }

  cancel(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.unlisten();
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.stream?.abort();
    this.stream = null;
    this.onStop(this);
  }

  private connect(): void {
    this.retryTimer = null;
    if (this.stopped) return;
    const create: Record<string, unknown> = { key: b64(this.key) };
    if (this.options.prefix) create['range_end'] = b64(prefixEnd(this.key));
    if (this.nextRevision > 0) create['start_revision'] = this.nextRevision;
    if (this.options.prevKv) create['prev_kv'] = true;
    const splitter = new JsonLineSplitter(this.options.maxLineBytes ?? 4 * 1024 * 1024);
    let endpoint = '';
    try {
      const stream = this.http.stream(
        '/v3/watch',
        { create_request: create },
        {
          onData: (chunk) => {
            try {
              for (const message of splitter.push(chunk)) {
                this.onMessage(unwrapStreamed(Reader.of(message, endpoint, 'a watch message')), endpoint);
                if (this.stopped || this.stream !== stream) return;
              }
            } catch (e) {
              this.restart(e instanceof Error ? e : new Error(String(e)), undefined);
            }
          },
          onEnd: (error) => {
            this.http.skip(endpoint);
            this.restart(error, undefined);
          },
        },
      );
      endpoint = stream.endpoint;
      this.stream = stream;
    } catch {
      this.cancel(); // the client is closed
    }
  }

  private onMessage(r: Reader, endpoint: string): void {
    if (r.bool('created')) {
      // Watching "from now": now is the header's revision. (A stream lost before this line resumes
      // "from now" again; the watch's first events are then those after the second connection.)
      if (this.nextRevision === 0) this.nextRevision = readHeader(r).revision + 1;
      this.retryMs = this.options.retryMinMs ?? 50;
      this.handlers.onConnected?.(endpoint);
    }
    if (r.bool('canceled')) {
      const compactRevision = r.int('compact_revision');
      this.cancel();
      if (compactRevision > 0) this.handlers.onCompacted?.(compactRevision);
      else this.handlers.onError?.(new Error(`etcd cancelled the watch: ${r.str('cancel_reason', 'no reason given')}`), true);
      return;
    }
    // One message holds whole revisions (every event of a txn); the resume point moves past them once
    // all are delivered. Handlers must not throw: a throw drops the stream and the batch comes again.
    const from = this.nextRevision;
    let last = 0;
    for (const e of r.items('events')) {
      const kv = readKeyValue(e.child('kv'));
      if (kv.modRevision < from) continue; // never deliver a revision twice
      last = Math.max(last, kv.modRevision);
      const event: WatchEvent = {
        type: e.str('type', 'PUT') === 'DELETE' ? 'delete' : 'put',
        kv,
        prevKv: e.has('prev_kv') ? readKeyValue(e.child('prev_kv')) : null,
      };
      this.handlers.onEvent(event);
      if (this.stopped) return;
    }
    if (last > 0) this.nextRevision = Math.max(this.nextRevision, last + 1);
  }

  /** Drops the stream and connects again after `delayMs` (default: the back-off, which then doubles). */
  private restart(error: Error, delayMs: number | undefined): void {
    if (this.stopped) return;
    this.stream?.abort();
    this.stream = null;
    if (this.retryTimer) return;
    this.handlers.onError?.(error, false);
    const delay = delayMs ?? this.retryMs;
    if (delayMs === undefined) this.retryMs = Math.min(this.retryMs * 2, this.options.retryMaxMs ?? 1000);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }
}
