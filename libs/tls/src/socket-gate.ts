import type net from 'node:net';
import { tlsHandOff } from './secure-socket.js';
import type { ServerTlsContext } from './server-context.js';
import { sniff } from './sniff.js';
import type { RemotingTlsMode } from './tls-settings.js';

/**
 * Wraps a listener's connection handler: what an accepted socket passes before `serve` gets the
 * socket to speak the protocol on (the same one, or a TLS socket over it). A gate may also close
 * the socket instead.
 */
export type SocketGate = (serve: (socket: net.Socket) => void) => (socket: net.Socket) => void;

/** Why a gate closed a connection (for a log line). */
export type GateRefusal = (remote: string, reason: string) => void;

/** The first byte of a TLS handshake record (ContentType handshake); RocketMQ's HandshakeHandler tells TLS from plain by it. */
export const TLS_HANDSHAKE_BYTE = 0x16;

/**
 * RocketMQ's remoting TLS modes for one port: `enforcing` serves TLS only (a plain client is closed),
 * `permissive` serves both, told apart by the first byte; `disabled` has no gate (plain only).
 */
export function remotingTlsGate(mode: RemotingTlsMode, ctx: ServerTlsContext | null, listener: string, onRefused?: GateRefusal): SocketGate | undefined {
  if (mode === 'disabled') return undefined;
  if (!ctx) throw new Error(`remoting TLS mode ${mode} needs a certificate (--tls-cert and --tls-key)`);
  return (serve) => {
    const handOff = tlsHandOff(ctx, listener, serve, (s, why) => onRefused?.(remoteOf(s), why));
    return (socket) =>
      sniff(
        socket,
        ctx.settings.handshakeTimeoutMs,
        (head) => head[0] === TLS_HANDSHAKE_BYTE,
        (isTls, head) => {
          socket.unshift(head);
          if (isTls) handOff(socket);
          else if (mode === 'permissive') servePlain(socket, serve);
          else {
            onRefused?.(remoteOf(socket), 'a plain connection while remoting TLS is enforcing');
            socket.destroy();
          }
        },
      );
  };
}

/** AMQP 1.0's TLS protocol header (spec 5.2.1): "AMQP", protocol id 2, version 1.0.0. */
export const AMQP_TLS_HEADER = Buffer.from([0x41, 0x4d, 0x51, 0x50, 2, 1, 0, 0]);

/**
 * AMQP's in-band TLS on the plain port: a client that opens with the TLS protocol header gets the
 * same header back and the TLS handshake starts on that socket (then AMQP or SASL inside it); any
 * other start is served as it is. Without a certificate there is no gate: the endpoint answers the
 * TLS header with the header it supports and closes, as spec 2.2 says.
 */
export function amqpTlsHeaderGate(ctx: ServerTlsContext, listener: string, onRefused?: GateRefusal): SocketGate {
  return (serve) => {
    const handOff = tlsHandOff(ctx, listener, serve, (s, why) => onRefused?.(remoteOf(s), why));
    return (socket) =>
      sniff(
        socket,
        ctx.settings.handshakeTimeoutMs,
        (head) => {
          const n = Math.min(head.length, AMQP_TLS_HEADER.length);
          for (let i = 0; i < n; i++) if (head[i] !== AMQP_TLS_HEADER[i]) return 'plain' as const;
          return n === AMQP_TLS_HEADER.length ? ('tls' as const) : undefined;
        },
        (start, head) => {
          if (start === 'plain') {
            socket.unshift(head);
            servePlain(socket, serve);
            return;
          }
          socket.write(AMQP_TLS_HEADER);
          if (head.length > AMQP_TLS_HEADER.length) socket.unshift(head.subarray(AMQP_TLS_HEADER.length));
          handOff(socket);
        },
      );
  };
}

/** Serves a sniffed socket as plain: the reader set up by `serve` gets the bytes put back. */
function servePlain(socket: net.Socket, serve: (socket: net.Socket) => void): void {
  serve(socket);
  socket.resume();
}

function remoteOf(socket: net.Socket): string {
  return `${socket.remoteAddress}:${socket.remotePort}`;
}
