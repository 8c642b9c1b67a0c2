import type tls from 'node:tls';

/**
 * The common name of the client certificate a TLS socket verified against the configured CA, or
 * null when the client sent none, or one that did not verify (client certificates optional).
 */
export function verifiedPeerName(socket: tls.TLSSocket): string | null {
  if (!socket.authorized) return null;
  const cert = socket.getPeerCertificate();
  const cn = cert?.subject?.CN;
  const name = Array.isArray(cn) ? cn[0] : cn;
  return typeof name === 'string' && name !== '' ? name : null;
}
