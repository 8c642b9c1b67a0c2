import { type KeyObject, createHmac, createSecretKey } from 'node:crypto';
import type { RemotingCommand } from '../command.js';

/*
 * RocketMQ ACL 1.0 request signatures (4.9.7 acl/common/AclClientRPCHook, AclUtils, AclSigner;
 * facts-wave2 §8): the values of all extension fields, sorted by key in Java String order
 * (UTF-16 code units, which is what Array.prototype.sort compares), concatenated without
 * separators or keys, then the raw body; HmacSHA1 with the secret key's UTF-8 bytes; Base64.
 * The signer skips `Signature`; the verifier also skips `_UNIQUE_KEY_QUERY` (a field the Java
 * client adds after signing).
 */

/** Extension field carrying the access key. */
export const ACCESS_KEY_FIELD = 'AccessKey';
/** Extension field carrying the signature. */
export const SIGNATURE_FIELD = 'Signature';
/** Extension field carrying the optional security token (signed like any other field). */
export const SECURITY_TOKEN_FIELD = 'SecurityToken';
/** Extension field the verifier leaves out of the signed content (MixAll.UNIQUE_MSG_QUERY_FLAG). */
export const UNIQUE_KEY_QUERY_FIELD = '_UNIQUE_KEY_QUERY';

/** What a client signs with. */
export interface AclCredentials {
  accessKey: string;
  secretKey: string;
  /** Sent as `SecurityToken` and signed (STS-style temporary credentials). */
  securityToken?: string;
}

/** An HMAC key object for a secret key: made once per account, not per request. */
export function hmacKeyOf(secretKey: string): KeyObject {
  return createSecretKey(Buffer.from(secretKey, 'utf8'));
}

/**
 * The bytes a signature covers: the values of `extFields` sorted by key, except `Signature`
 * and, when `forVerifying`, `_UNIQUE_KEY_QUERY`, as UTF-8, followed by the body.
 */
export function signedContent(extFields: Readonly<Record<string, string>>, body: Buffer | undefined, forVerifying: boolean): Buffer {
  const keys = Object.keys(extFields).sort();
  let text = '';
  for (const k of keys) {
    if (k === SIGNATURE_FIELD || (forVerifying && k === UNIQUE_KEY_QUERY_FIELD)) continue;
    const v = extFields[k];
    // A null in a JSON header arrives as a missing value; Java's TreeMap appends "null" for it.
    text += v === undefined || v === null ? 'null' : v;
  }
  const head = Buffer.from(text, 'utf8');
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

/** Base64 HmacSHA1 of `content` with `key`. */
export function hmacSha1Base64(key: KeyObject | string, content: Buffer): string {
  return createHmac('sha1', typeof key === 'string' ? hmacKeyOf(key) : key)
    .update(content)
    .digest('base64');
}

/**
 * A request hook that signs every outgoing request: adds `AccessKey` (and `SecurityToken`) to the
 * extension fields, then `Signature` over all of them and the body. Signs in place.
 */
export function aclSigner(creds: AclCredentials): (request: RemotingCommand) => void {
  if (!creds.accessKey || !creds.secretKey) throw new Error('signing needs both an access key and a secret key');
  const key = hmacKeyOf(creds.secretKey);
  return (request) => {
    const ext = request.extFields;
    ext[ACCESS_KEY_FIELD] = creds.accessKey;
    if (creds.securityToken !== undefined) ext[SECURITY_TOKEN_FIELD] = creds.securityToken;
    ext[SIGNATURE_FIELD] = hmacSha1Base64(key, signedContent(ext, request.body, false));
  };
}
