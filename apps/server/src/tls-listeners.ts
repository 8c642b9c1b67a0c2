import https from 'node:https';
import type http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import {
  type RemotingTlsMode,
  ServerTlsContext,
  type SocketGate,
  type TlsLogger,
  amqpTlsHeaderGate,
  remotingTlsGate,
  resolveTlsSettings,
  verifiedPeerName,
} from '@apogee/tls';
import { RateLimitedWarnings } from '@apogee/message';
import type { ServerArgs } from './args.js';

/** Logger of the TLS wiring: the context's messages and refused connections. */
export interface TlsWiringLogger extends TlsLogger {
  warn(obj: object, msg: string): void;
}

/**
 * The server's TLS: the certificate context (null when no certificate is configured: then no TLS
 * listener opens) and the remoting mode of the NameServer and broker ports. Makes the servers and
 * gates the listeners are built with, so every TLS listener shares one reloadable certificate.
 */
export class ServerTls {
  private readonly refusals: RateLimitedWarnings;

  private constructor(
    readonly context: ServerTlsContext | null,
    readonly remotingMode: RemotingTlsMode,
    log: TlsWiringLogger,
  ) {
    this.refusals = new RateLimitedWarnings(log);
  }

  /**
   * Reads and checks the configured files; throws an error naming the bad file. Without a
   * certificate the remoting mode defaults to disabled, with one to permissive (RocketMQ's default).
   */
  static fromArgs(args: ServerArgs, log: TlsWiringLogger): ServerTls {
    const settings = resolveTlsSettings(
      { cert: args.tlsCert, key: args.tlsKey, ca: args.tlsCa, clientAuth: args.tlsClientAuth, handshakeTimeoutMs: args.tlsHandshakeTimeoutMs },
      'TLS settings',
    );
    const mode = args.remotingTls ?? (settings ? 'permissive' : 'disabled');
    if (!settings && mode !== 'disabled') throw new Error(`--remoting-tls ${mode} needs a certificate: set --tls-cert and --tls-key`);
    return new ServerTls(settings ? new ServerTlsContext(settings, log) : null, mode, log);
  }

  /** The gate of a remoting port (NameServer, broker), or undefined in disabled mode. */
  remotingGate(listener: string): SocketGate | undefined {
    return remotingTlsGate(this.remotingMode, this.context, listener, (remote, reason) => this.refused(listener, remote, reason));
  }

  /**
   * TLS options of the broker's own registration with the NameServer of this process when that
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

  /** Makes an https.Server (secure WebSocket, metrics), kept on the current certificate. */
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
      this.refusals.flush();
    };
  }

  private refused(listener: string, remote: string, reason: string): void {
    this.refusals.warn(`tls:${listener}`, { listener, remote, reason }, 'tls: connection refused');
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
