import fs from 'node:fs';
import tls from 'node:tls';
import { type TlsMaterial, loadTlsMaterial } from './tls-material.js';
import type { TlsSettings } from './tls-settings.js';

/** What the TLS context logs: reloads, failed reloads, handshakes that failed. */
export interface TlsLogger {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug?(obj: object, msg: string): void;
}

/** How often watched certificate files are checked, and how long a burst of changes is let settle. */
const WATCH_INTERVAL_MS = 1000;
const RELOAD_DEBOUNCE_MS = 300;

/**
 * The server's current TLS identity, shared by every TLS listener and re-read without a restart:
 * `reload()` (on SIGHUP, or when a watched file changes) reads and checks the files again and, only
 * if they are good, swaps them in — tls.Server listeners get it through setSecureContext, sockets
 * upgraded by hand read `secureContext` when they start their handshake. A failed reload keeps the
 * previous certificate and logs why. Connections already open keep the context they began with.
 */
export class ServerTlsContext {
  private material: TlsMaterial;
  private context: tls.SecureContext;
  private readonly servers = new Set<tls.Server>();
  private readonly watched: string[] = [];
  private reloadTimer: NodeJS.Timeout | null = null;

  /** Reads and checks the files now; throws (naming the file) when one is bad. */
  constructor(
    readonly settings: TlsSettings,
    private readonly log: TlsLogger,
  ) {
    this.material = loadTlsMaterial(settings);
    this.context = tls.createSecureContext(this.contextOptions());
  }

  /** The context a new handshake uses. */
  get secureContext(): tls.SecureContext {
    return this.context;
  }

  /** Subject, issuer, expiry and fingerprint of the certificate in use. */
  get summary(): TlsMaterial['summary'] {
    return this.material.summary;
  }

  /** Whether listeners ask clients for a certificate. */
  get requestCert(): boolean {
    return this.settings.clientAuth !== 'none';
  }

  /** Whether a client without a valid certificate is refused. */
  get requireCert(): boolean {
    return this.settings.clientAuth === 'required';
  }

  /** Options for tls.createServer / https.createServer: the current files, client certificates, the handshake deadline. */
  serverOptions(): tls.TlsOptions {
    return {
      ...this.contextOptions(),
      requestCert: this.requestCert,
      rejectUnauthorized: this.requireCert,
      handshakeTimeout: this.settings.handshakeTimeoutMs,
    };
  }

  /**
   * Keeps a tls.Server (or https.Server) on the current certificate across reloads, and logs its
   * failed handshakes (wrong CA, no client certificate, timeouts) at debug instead of dropping them.
   */
  track<S extends tls.Server>(server: S, listener: string): S {
    this.servers.add(server);
    server.on('close', () => this.servers.delete(server));
    server.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
      // With a listener here Node leaves the socket open (a handshake timeout included): close it.
      socket.destroy();
      this.log.debug?.({ listener, remote: `${socket.remoteAddress}:${socket.remotePort}`, err: err.message }, 'tls: handshake failed');
    });
    return server;
  }

  /**
   * Reads the files again; on success new handshakes use them. Returns false (and logs the error)
   * when a file is bad: the certificate in use stays.
   */
  reload(reason: string): boolean {
    let material: TlsMaterial;
    let context: tls.SecureContext;
    try {
      material = loadTlsMaterial(this.settings);
      context = tls.createSecureContext(optionsOf(material));
    } catch (err) {
      this.log.error({ reason, err: (err as Error).message }, 'tls: reload failed; the certificate in use stays');
      return false;
    }
    this.material = material;
    this.context = context;
    for (const s of this.servers) s.setSecureContext(this.contextOptions());
    this.log.info({ reason, ...material.summary }, 'tls: certificates reloaded');
    return true;
  }

  /** Reloads (debounced) when the certificate, key or CA file changes on disk. */
  watch(): void {
    const files = [this.settings.cert, this.settings.key, ...(this.settings.ca === undefined ? [] : [this.settings.ca])];
    for (const f of files) {
      // watchFile polls stat: it survives the file being replaced (rename over it), which fs.watch does not.
      fs.watchFile(f, { interval: WATCH_INTERVAL_MS, persistent: false }, (cur, prev) => {
        if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.reloadSoon(`file changed: ${f}`);
      });
      this.watched.push(f);
    }
  }

  /** Stops watching the files. */
  close(): void {
    for (const f of this.watched.splice(0)) fs.unwatchFile(f);
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = null;
  }

  private reloadSoon(reason: string): void {
    if (this.reloadTimer) clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloadTimer = null;
      this.reload(reason);
    }, RELOAD_DEBOUNCE_MS);
    this.reloadTimer.unref();
  }

  private contextOptions(): tls.SecureContextOptions {
    return optionsOf(this.material);
  }
}

function optionsOf(m: TlsMaterial): tls.SecureContextOptions {
  return m.ca ? { cert: m.cert, key: m.key, ca: m.ca } : { cert: m.cert, key: m.key };
}
