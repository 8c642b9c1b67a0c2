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
 * The keys of extension fields in signing order, sorted once per key set: a client sends the
 * same request kinds over and over, so the sorted order of the last key list seen is kept and
 * reused while the next one has the same keys in the same order (no sort, no allocation).
 */
export class SigningOrder {
  private lastKeys: readonly string[] = [];
  private lastSorted: readonly string[] = [];

  /** The keys of `extFields`, sorted in Java String order. */
  of(extFields: Readonly<Record<string, string>>): readonly string[] {
    const keys = Object.keys(extFields);
    const last = this.lastKeys;
    let same = keys.length === last.length;
    for (let i = 0; same && i < keys.length; i++) same = keys[i] === last[i];
    if (!same) {
      this.lastKeys = keys;
      this.lastSorted = keys.slice().sort();
    }
    return this.lastSorted;
  }
}

/**
 * The text part of what a signature covers: the values of `extFields` in `order`, except
 * `Signature` and, when `forVerifying`, `_UNIQUE_KEY_QUERY`.
 */
function signedText(extFields: Readonly<Record<string, string>>, order: readonly string[], forVerifying: boolean): string {
  let text = '';
  for (let i = 0; i < order.length; i++) {
    const k = order[i]!;
    if (k === SIGNATURE_FIELD || (forVerifying && k === UNIQUE_KEY_QUERY_FIELD)) continue;
    const v = extFields[k];
    // A null in a JSON header arrives as a missing value; Java's TreeMap appends "null" for it.
    text += v === undefined || v === null ? 'null' : v;
  }
  return text;
}

/**
 * The bytes a signature covers: the values of `extFields` sorted by key, except `Signature`
 * and, when `forVerifying`, `_UNIQUE_KEY_QUERY`, as UTF-8, followed by the body.
 */
export function signedContent(extFields: Readonly<Record<string, string>>, body: Buffer | undefined, forVerifying: boolean): Buffer {
  const head = Buffer.from(signedText(extFields, Object.keys(extFields).sort(), forVerifying), 'utf8');
  return body && body.length > 0 ? Buffer.concat([head, body]) : head;
}

/** Base64 HmacSHA1 of `content` with `key`. */
export function hmacSha1Base64(key: KeyObject | string, content: Buffer): string {
  return createHmac('sha1', typeof key === 'string' ? hmacKeyOf(key) : key)
    .update(content)
    .digest('base64');
}

/**
 * The Base64 signature of a request: HmacSHA1 with `key` over signedContent, fed to the HMAC in
 * two parts (text, body) so that the body is not copied.
 */
export function requestSignature(
  key: KeyObject,
  extFields: Readonly<Record<string, string>>,
  body: Buffer | undefined,
  forVerifying: boolean,
  order: SigningOrder,
): string {
  const hmac = createHmac('sha1', key).update(signedText(extFields, order.of(extFields), forVerifying), 'utf8');
  if (body && body.length > 0) hmac.update(body);
  return hmac.digest('base64');
}

/**
 * A request hook that signs every outgoing request: adds `AccessKey` (and `SecurityToken`) to the
 * extension fields, then `Signature` over all of them and the body. Signs in place.
 */
export function aclSigner(creds: AclCredentials): (request: RemotingCommand) => void {
  if (!creds.accessKey || !creds.secretKey) throw new Error('signing needs both an access key and a secret key');
  const key = hmacKeyOf(creds.secretKey);
  const order = new SigningOrder();
  return (request) => {
    const ext = request.extFields;
    ext[ACCESS_KEY_FIELD] = creds.accessKey;
    if (creds.securityToken !== undefined) ext[SECURITY_TOKEN_FIELD] = creds.securityToken;
    ext[SIGNATURE_FIELD] = requestSignature(key, ext, request.body, false, order);
  };
}
