import { Admin, type ClientOptions, type ClientTlsOptions } from '@apogee/client';
import { HttpApi } from './http-api.js';

/** Something main shuts down when the command ends (Admin, Producer, PullConsumer). */
export interface Closeable {
  shutdown(): Promise<void>;
}

export interface Sink {
  out(line: string): void;
  err(line: string): void;
}

/** RocketMQ ACL 1.0 keys every request is signed with. */
export interface Credentials {
  accessKey: string;
  secretKey: string;
}

/** Where the HTTP admin API is and who asks. */
export interface HttpSettings {
  url: string;
  user?: { username: string; password: string } | undefined;
}

/** What a command gets: where to print, the NameServer, and client objects closed for it. */
export class Context {
  private readonly opened: Closeable[] = [];
  private adminClient: Admin | undefined;

  constructor(
    readonly namesrv: string,
    /** --json: one JSON document per line on stdout instead of text. */
    readonly json: boolean,
    private readonly sink: Sink,
    /** Aborted on SIGINT/SIGTERM; long-running commands stop early and clean up. */
    readonly signal: AbortSignal = new AbortController().signal,
    /** --access-key/--secret-key (or the environment): sign every request. */
    private readonly credentials: Credentials | undefined = undefined,
    /** TLS for the NameServer and broker connections (--tls …); undefined: plain TCP. */
    readonly tls?: ClientTlsOptions,
    /** The server's HTTP admin API (--http, --user, --password) for the commands only it serves. */
    private readonly httpSettings: HttpSettings = { url: 'http://127.0.0.1:8080' },
    /** The environment the command line came with (APOGEE_* defaults a command reads itself). */
    readonly env: Readonly<Record<string, string | undefined>> = {},
  ) {}

  private httpClient: HttpApi | undefined;

  /** The HTTP admin API client (created on first use; https:// URLs use the TLS options). */
  http(): HttpApi {
    this.httpClient ??= new HttpApi(this.httpSettings.url, { user: this.httpSettings.user, tls: this.tls });
    return this.httpClient;
  }

  get clientOptions(): ClientOptions {
    return { nameServer: this.namesrv, ...this.credentials, ...(this.tls ? { tls: this.tls } : {}) };
  }

  /** The shared Admin client (created on first use). */
  admin(): Admin {
    this.adminClient ??= this.track(new Admin(this.clientOptions));
    return this.adminClient;
  }

  /** Registers a client object to shut down when the command ends. */
  track<T extends Closeable>(c: T): T {
    this.opened.push(c);
    return c;
  }

  /** Prints `value` as one JSON line with --json, else the text lines `text()` renders. */
  emit(value: unknown, text: () => string | readonly string[]): void {
    if (this.json) {
      this.sink.out(JSON.stringify(value));
      return;
    }
    const t = text();
    for (const line of typeof t === 'string' ? [t] : t) this.sink.out(line);
  }

  /** Diagnostics (stderr), never part of the machine-readable output. */
  note(line: string): void {
    this.sink.err(line);
  }

  /** Shuts down every tracked client, newest first; errors are ignored (the command is over). */
  async close(): Promise<void> {
    for (const c of this.opened.splice(0).reverse()) await c.shutdown().catch(() => undefined);
  }
}
