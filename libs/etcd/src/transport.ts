// HTTP to the gateway: one POST per call on a keep-alive agent, a bounded answer, a deadline, and
// failover. A call starts at the endpoint that last answered; a connection failure (refused, reset,
// timed out) or an "unavailable" answer (gRPC code 14: a member without a leader or quorum) moves
// it to the next endpoint, until each has been tried once: then EtcdUnavailableError. Any other
// answer, error or not, ends the call.
//
// Moving on after a timeout or a reset may repeat a write the first member applied: a put is then
// applied twice (harmless), a txn's second try sees its own first effect and usually fails its
// compares. Callers whose txn guards a role (the group controller) read the state back instead of
// trusting the txn's `succeeded` alone.
import http from 'node:http';
import { type Endpoint, endpointName } from './endpoints.js';
import { Reader } from './codec.js';
import { EtcdClosedError, EtcdError, EtcdProtocolError, EtcdUnavailableError } from './errors.js';

export interface TransportOptions {
  /** Deadline of one attempt at one endpoint, from sending the request to the end of the answer. */
  readonly timeoutMs?: number;
  /** Largest answer body accepted (a range over a large prefix); larger is an EtcdProtocolError. */
  readonly maxResponseBytes?: number;
}

export interface CallOptions {
  /** This call's deadline per attempt, instead of the client's. */
  readonly timeoutMs?: number;
}

/** A streaming POST (the watch): lines go to the caller until the stream ends or is aborted. */
export interface StreamHandle {
  readonly endpoint: string;
  abort(): void;
}

export interface StreamHandlers {
  onData(chunk: Buffer): void;
  /** The stream ended or failed (never after `abort()`). */
  onEnd(error: Error): void;
}

/** Why an attempt failed in a way that lets the call try the next endpoint. */
class EndpointFailure extends Error {}

const UNAVAILABLE = 14;

export class HttpTransport {
  readonly timeoutMs: number;
  readonly maxResponseBytes: number;
  private readonly agent = new http.Agent({ keepAlive: true, keepAliveMsecs: 1000, maxFreeSockets: 4 });
  private readonly inFlight = new Set<http.ClientRequest>();
  private readonly failureListeners = new Set<(endpoint: string) => void>();
  private current = 0;
  private closed = false;

  constructor(
    readonly endpoints: readonly Endpoint[],
    options: TransportOptions = {},
  ) {
    if (endpoints.length === 0) throw new RangeError('etcd transport: no endpoint');
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.maxResponseBytes = options.maxResponseBytes ?? 16 * 1024 * 1024;
  }

  /** The endpoint calls start at (the one that last answered). */
  get currentEndpoint(): Endpoint {
    return this.endpoints[this.current]!;
  }

  /** Moves the start of later calls past `endpoint` if calls still start there (a watch whose stream
   * to it failed). */
  skip(endpoint: string): void {
    if (endpointName(this.currentEndpoint) === endpoint) this.current = (this.current + 1) % this.endpoints.length;
  }

  /** Told whenever an attempt at an endpoint fails with a connection error; watches on that endpoint
   * take it as a sign to reconnect elsewhere (a stopped member never closes their stream). */
  onEndpointFailed(listener: (endpoint: string) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  /** POSTs `body` as JSON to `path` and reads the answer object. */
  async call(path: string, body: unknown, options: CallOptions = {}): Promise<Reader> {
    const payload = Buffer.from(JSON.stringify(body));
    const causes: Array<{ endpoint: string; error: Error }> = [];
    for (let tried = 0; tried < this.endpoints.length; tried++) {
      if (this.closed) throw new EtcdClosedError();
      const index = this.current;
      const endpoint = this.endpoints[index]!;
      try {
        return await this.attempt(endpoint, path, payload, options.timeoutMs ?? this.timeoutMs);
      } catch (error) {
        if (!(error instanceof EndpointFailure)) throw error;
        if (this.closed) throw new EtcdClosedError();
        const name = endpointName(endpoint);
        causes.push({ endpoint: name, error });
        if (this.current === index) this.current = (index + 1) % this.endpoints.length;
        for (const l of this.failureListeners) l(name);
      }
    }
    throw new EtcdUnavailableError(causes);
  }

  /** One attempt; a socket that the agent kept from an earlier call and that the server closed in the
   * meantime (reset on reuse) is retried once at once on a fresh connection, as it says nothing about
   * the endpoint. */
  private async attempt(endpoint: Endpoint, path: string, payload: Buffer, timeoutMs: number): Promise<Reader> {
    try {
      return await this.request(endpoint, path, payload, timeoutMs);
    } catch (error) {
      if (error instanceof StaleSocket) return this.request(endpoint, path, payload, timeoutMs);
      throw error;
    }
  }

  private request(endpoint: Endpoint, path: string, payload: Buffer, timeoutMs: number): Promise<Reader> {
    const name = endpointName(endpoint);
    return new Promise((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | null, value?: Reader) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.inFlight.delete(req);
        if (error) {
          req.destroy();
          reject(error);
        } else resolve(value!);
      };
      const req = http.request({
        host: endpoint.host,
        port: endpoint.port,
        method: 'POST',
        path,
        agent: this.agent,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      });
      this.inFlight.add(req);
      const timer = setTimeout(() => finish(new EndpointFailure(`timed out after ${timeoutMs} ms`)), timeoutMs);
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (this.closed) finish(new EtcdClosedError());
        else if (req.reusedSocket && e.code === 'ECONNRESET') finish(new StaleSocket());
        else finish(new EndpointFailure(e.code ?? e.message));
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > this.maxResponseBytes) finish(new EtcdProtocolError(`an answer larger than ${this.maxResponseBytes} bytes`, name));
          else chunks.push(chunk);
        });
        res.on('error', (e) => finish(new EndpointFailure(e.message)));
        res.on('aborted', () => finish(new EndpointFailure('answer cut short')));
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            return finish(new EtcdProtocolError(`HTTP ${res.statusCode}: an answer that is not JSON`, name));
          }
          if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
            return finish(new EtcdProtocolError(`HTTP ${res.statusCode}: an answer that is not a JSON object`, name));
          }
          const answer = parsed as Record<string, unknown>;
          const failure = gatewayError(answer, res.statusCode ?? 0, name);
          if (failure === null) return finish(null, new Reader(answer, name));
          if (failure instanceof EtcdError && failure.code === UNAVAILABLE) return finish(new EndpointFailure(failure.message));
          finish(failure);
        });
      });
      req.end(payload);
    });
  }

  /** A streaming POST at the current endpoint (no failover here: the watch reconnects on its own). */
  stream(path: string, body: unknown, handlers: StreamHandlers): StreamHandle {
    if (this.closed) throw new EtcdClosedError();
    const endpoint = this.currentEndpoint;
    const name = endpointName(endpoint);
    const payload = Buffer.from(JSON.stringify(body));
    let done = false;
    const end = (error: Error) => {
      if (done) return;
      done = true;
      this.inFlight.delete(req);
      req.destroy();
      handlers.onEnd(error);
    };
    // Its own connection (agent: false): a stream holds it for its whole life, and a stopped member
    // would otherwise keep a pooled socket that unary calls then wait on.
    const req = http.request({
      host: endpoint.host,
      port: endpoint.port,
      method: 'POST',
      path,
      agent: false,
      headers: { 'content-type': 'application/json', 'content-length': payload.length },
    });
    this.inFlight.add(req);
    req.on('error', (e: NodeJS.ErrnoException) => end(new Error(`${name}: ${e.code ?? e.message}`)));
    req.on('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        return end(new Error(`${name}: HTTP ${res.statusCode}`));
      }
      res.on('data', (chunk: Buffer) => {
        if (!done) handlers.onData(chunk);
      });
      res.on('error', (e) => end(new Error(`${name}: ${e.message}`)));
      res.on('end', () => end(new Error(`${name}: the stream ended`)));
    });
    req.end(payload);
    return {
      endpoint: name,
      abort: () => {
        done = true;
        this.inFlight.delete(req);
        req.destroy();
      },
    };
  }

  /** Fails every call in flight with EtcdClosedError and drops the pooled connections. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const req of this.inFlight) req.destroy();
    this.inFlight.clear();
    this.failureListeners.clear();
    this.agent.destroy();
  }
}

class StaleSocket extends Error {}

/** The gateway's error shape — `{error, message, code}` (HTTP 4xx/5xx) — as an EtcdError; null for an
 * answer. A non-200 status without that shape is a protocol error. */
function gatewayError(answer: Record<string, unknown>, status: number, endpoint: string): EtcdError | EtcdProtocolError | null {
  if (typeof answer['code'] === 'number' && (typeof answer['message'] === 'string' || typeof answer['error'] === 'string')) {
    return new EtcdError(answer['code'], String(answer['message'] ?? answer['error']), endpoint);
  }
  if (status !== 200) return new EtcdProtocolError(`HTTP ${status} without an error body`, endpoint);
  return null;
}
