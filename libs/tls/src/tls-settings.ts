/** Whether a TLS listener asks for client certificates, and whether it needs one. */
export type ClientAuthMode = 'none' | 'optional' | 'required';

/** RocketMQ's remoting TLS modes (TlsMode): no TLS, TLS and plain on one port, TLS only. */
export type RemotingTlsMode = 'disabled' | 'permissive' | 'enforcing';

/** The server's TLS configuration: PEM file paths and how clients are checked. */
export interface TlsSettings {
  /** PEM certificate (chain) file of the server. */
  cert: string;
  /** PEM private key file matching `cert`. */
  key: string;
  /** PEM file of the CAs client certificates are verified against (needed for clientAuth optional/required). */
  ca?: string;
  /** Client certificates: not asked for, verified when sent, or required. Default none. */
  clientAuth: ClientAuthMode;
  /** A TLS handshake not finished this long after connecting closes the connection. Default 10 s. */
  handshakeTimeoutMs: number;
}

/** Default of TlsSettings.handshakeTimeoutMs. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

const CLIENT_AUTH_MODES: readonly ClientAuthMode[] = ['none', 'optional', 'required'];
const REMOTING_TLS_MODES: readonly RemotingTlsMode[] = ['disabled', 'permissive', 'enforcing'];

/** Checks a --tls-client-auth value. */
export function parseClientAuth(raw: string, source: string): ClientAuthMode {
  const v = raw.toLowerCase();
  if (!(CLIENT_AUTH_MODES as readonly string[]).includes(v))
    throw new Error(`${source}: must be one of ${CLIENT_AUTH_MODES.join(', ')}, got ${JSON.stringify(raw)}`);
  return v as ClientAuthMode;
}

/** Checks a --remoting-tls value. */
export function parseRemotingTlsMode(raw: string, source: string): RemotingTlsMode {
  const v = raw.toLowerCase();
  if (!(REMOTING_TLS_MODES as readonly string[]).includes(v))
    throw new Error(`${source}: must be one of ${REMOTING_TLS_MODES.join(', ')}, got ${JSON.stringify(raw)}`);
  return v as RemotingTlsMode;
}

/** The parts of TLS settings that may come from flags, the environment or the config file's "tls" section. */
export interface TlsSettingsInput {
  cert?: string | undefined;
  key?: string | undefined;
  ca?: string | undefined;
  clientAuth?: ClientAuthMode | undefined;
  handshakeTimeoutMs?: number | undefined;
}

/**
 * Complete TLS settings, or null when no certificate is configured (then no TLS listener opens).
 * A key without a certificate (or the reverse), and client certificates without a CA, are errors.
 */
export function resolveTlsSettings(input: TlsSettingsInput, source: string): TlsSettings | null {
  const clientAuth = input.clientAuth ?? 'none';
  if (input.cert === undefined && input.key === undefined) {
    if (input.ca !== undefined || clientAuth !== 'none')
      throw new Error(`${source}: a CA or client-certificate mode is set but no certificate (--tls-cert and --tls-key)`);
    return null;
  }
  if (input.cert === undefined) throw new Error(`${source}: --tls-key is set but --tls-cert is not; both are needed`);
  if (input.key === undefined) throw new Error(`${source}: --tls-cert is set but --tls-key is not; both are needed`);
  if (clientAuth !== 'none' && input.ca === undefined)
    throw new Error(`${source}: client certificates (${clientAuth}) are verified against --tls-ca, which is not set`);
  const handshakeTimeoutMs = input.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
  if (!Number.isInteger(handshakeTimeoutMs) || handshakeTimeoutMs < 1)
    throw new Error(`${source}: handshakeTimeoutMs must be a positive integer, got ${handshakeTimeoutMs}`);
  const out: TlsSettings = { cert: input.cert, key: input.key, clientAuth, handshakeTimeoutMs };
  if (input.ca !== undefined) out.ca = input.ca;
  return out;
}
