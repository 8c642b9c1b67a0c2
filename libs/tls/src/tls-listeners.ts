import https from 'node:https';
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { ServerTlsContext, type TlsLogger } from './server-context.js';
import { type SocketGate, amqpTlsHeaderGate, remotingTlsGate } from './socket-gate.js';
import { verifiedPeerName } from './peer-identity.js';
import { type ClientAuthMode, type RemotingTlsMode, resolveTlsSettings } from './tls-settings.js';

/** The TLS settings of a process's listeners, as its flags, environment and config file give them. */
export interface TlsListenerArgs {
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  tlsCa?: string | undefined;
  tlsClientAuth?: ClientAuthMode | undefined;
  tlsHandshakeTimeoutMs?: number | undefined;
  remotingTls?: RemotingTlsMode | undefined;
}

/** Where a refused TLS connection is reported (the caller rate-limits). */
export type TlsRefusalSink = (listener: string, remote: string, reason: string) => void;

/**
 * A process's TLS listeners: the certificate context (null when no certificate is configured:
 * then no TLS listener opens) and the remoting mode of its remoting ports. Makes the servers and
 * gates the listeners are built with, so every TLS listener shares one reloadable certificate.
 */
export class TlsListeners {
  private constructor(
    readonly context: ServerTlsContext | null,
    readonly remotingMode: RemotingTlsMode,
    private readonly refused: TlsRefusalSink,
    private readonly onStop: () => void,
  ) {}

  /**
   * Reads and checks the configured files; throws an error naming the bad file. Without a
   * certificate the remoting mode defaults to disabled, with one to permissive (RocketMQ's default).
   * `onStop` runs when the reloads stop (e.g. to flush the refusal warnings).
   */
  static fromArgs(args: TlsListenerArgs, log: TlsLogger, refused: TlsRefusalSink, onStop: () => void = () => {}): TlsListeners {
    const settings = resolveTlsSettings(
      { cert: args.tlsCert, key: args.tlsKey, ca: args.tlsCa, clientAuth: args.tlsClientAuth, handshakeTimeoutMs: args.tlsHandshakeTimeoutMs },
      'TLS settings',
    );
    const mode = args.remotingTls ?? (settings ? 'permissive' : 'disabled');
    if (!settings && mode !== 'disabled') throw new Error(`--remoting-tls ${mode} needs a certificate: set --tls-cert and --tls-key`);
    return new TlsListeners(settings ? new ServerTlsContext(settings, log) : null, mode, refused, onStop);
  }

  /** The gate of a remoting port (NameServer, broker), or undefined in disabled mode. */
  remotingGate(listener: string): SocketGate | undefined {
    return remotingTlsGate(this.remotingMode, this.context, listener, (remote, reason) => this.refused(listener, remote, reason));
  }

  /**
   * TLS options of a broker's own registration with the NameServer of the same process when that
   * port enforces TLS: over loopback, with the server's certificate as the client certificate (for
   * required client certificates); the name is not checked (the certificate names the public host).
   */
  namesrvClientTls(): tls.ConnectionOptions | undefined {
    if (this.remotingMode !== 'enforcing' || !this.context) return undefined;
    const { cert, key } = this.context.serverOptions();
    return { cert, key, rejectUnauthorized: false } as tls.ConnectionOptions;
  }

  /** Makes a tls.Server for a TLS listener (MQTT, AMQP), kept on the current certificate. */
  tlsServer(listener: string): (onSocket: (socket: net.Socket) => void) => net.Server {
    const ctx = this.requireContext();
    return (onSocket) => ctx.track(tls.createServer(ctx.serverOptions(), onSocket), listener);
  }

  /** Makes an https.Server (secure WebSocket, metrics) with the listener's `options`, kept on the current certificate. */
  httpsServer(listener: string): (onRequest: http.RequestListener, options?: http.ServerOptions) => http.Server {
    const ctx = this.requireContext();
    return (onRequest, options = {}) => ctx.track(https.createServer({ ...options, ...ctx.serverOptions() }, onRequest), listener);
  }

  /** The plain AMQP port with AMQP's TLS protocol header (spec 5.2.1) served. */
  amqpHeaderServer(listener: string): (onSocket: (socket: net.Socket) => void) => net.Server {
    const gate = amqpTlsHeaderGate(this.requireContext(), listener, (remote, reason) => this.refused(listener, remote, reason));
    return (onSocket) => net.createServer(gate(onSocket));
  }

  /**
   * Re-reads the certificates on SIGHUP and when a file changes; returns what stops that. A failed
   * reload keeps the certificate in use (the context logs why).
   */
  watchReloads(): () => void {
    const ctx = this.context;
    if (!ctx) return () => {};
    const onHup = () => ctx.reload('SIGHUP');
    process.on('SIGHUP', onHup);
    ctx.watch();
    return () => {
      process.off('SIGHUP', onHup);
      ctx.close();
      this.onStop();
    };
  }

  private requireContext(): ServerTlsContext {
    if (!this.context) throw new Error('no TLS certificate configured');
    return this.context;
  }
}

/** The name of a TLS connection's verified client certificate (for MQTT's useIdentityAsUsername); null for none. */
export function certificateName(socket: net.Socket): string | null {
  return socket instanceof tls.TLSSocket ? verifiedPeerName(socket) : null;
}
