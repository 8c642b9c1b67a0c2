import type { KeyObject } from 'node:crypto';
import type { RemotingCommand } from '../command.js';
import { ResponseCode } from '../response-codes.js';
import { responseTo } from '../transport/responses.js';
import { type AddressMatcher, compileAddressPatterns } from './remote-address-pattern.js';
import { ACCESS_KEY_FIELD, SIGNATURE_FIELD, SigningOrder, hmacKeyOf, requestSignature } from './signature.js';

/** One RocketMQ account as the validator needs it. */
export interface AclAccount {
  accessKey: string;
  secretKey: string;
  /** Addresses that may use this account without a signature (RocketMQ whiteRemoteAddress). */
  whiteRemoteAddress?: string;
}

export interface AccessValidatorOptions {
  accounts: readonly AclAccount[];
  /** Addresses whose requests pass unchecked (RocketMQ globalWhiteRemoteAddresses). */
  globalWhiteRemoteAddresses?: readonly string[];
  /** Whether a request without an AccessKey is let through (as the anonymous principal). */
  allowAnonymous: boolean;
}

/**
 * Who sent a request: `accessKey` undefined for an anonymous request; `whitelisted` when the
 * global white list let it through (RocketMQ then checks nothing else).
 */
export type AccessDecision = { ok: true; accessKey: string | undefined; whitelisted: boolean } | { ok: false; message: string };

interface Account {
  key: KeyObject;
  white: AddressMatcher;
}

/** Java class name Apache's refusals start with (RemotingHelper.exceptionSimpleDesc → e.toString()). */
const ACL_EXCEPTION = 'org.apache.rocketmq.acl.common.AclException';

/** The answer Apache gives a refused request: SYSTEM_ERROR, remark `AclException: <message>`. */
export function aclRefusal(request: RemotingCommand, message: string): RemotingCommand {
  return responseTo(request, ResponseCode.SYSTEM_ERROR, `${ACL_EXCEPTION}: ${message}`);
}

/**
 * RocketMQ ACL 1.0 authentication of remoting requests (4.9.7 PlainPermissionManager.validate):
 * global white list → allowed; no AccessKey → refused unless anonymous access is on; an unknown
 * key → refused; the account's white list → allowed without a signature; else the signature must
 * match. HMAC key objects are built once per account.
 */
export class AccessValidator {
  private readonly accounts = new Map<string, Account>();
  private readonly globalWhite: AddressMatcher;
  private readonly order = new SigningOrder();

  constructor(private readonly opts: AccessValidatorOptions) {
    for (const a of opts.accounts) {
      if (this.accounts.has(a.accessKey)) throw new Error(`access key ${JSON.stringify(a.accessKey)} is configured twice`);
      this.accounts.set(a.accessKey, { key: hmacKeyOf(a.secretKey), white: compileAddressPatterns(a.whiteRemoteAddress ? [a.whiteRemoteAddress] : []) });
    }
    this.globalWhite = compileAddressPatterns(opts.globalWhiteRemoteAddresses ?? []);
  }

  /** Decides a request from `remoteIp` (the peer's address without port). */
  validate(request: RemotingCommand, remoteIp: string): AccessDecision {
    if (this.globalWhite(remoteIp)) return { ok: true, accessKey: undefined, whitelisted: true };
    const ext = request.extFields;
    const accessKey = Object.hasOwn(ext, ACCESS_KEY_FIELD) ? ext[ACCESS_KEY_FIELD] : undefined;
    if (accessKey === undefined || accessKey === '') {
      return this.opts.allowAnonymous ? { ok: true, accessKey: undefined, whitelisted: false } : { ok: false, message: 'No accessKey is configured' };
    }
    const account = this.accounts.get(accessKey);
    if (!account) return { ok: false, message: `No acl config for ${accessKey}` };
    if (account.white(remoteIp)) return { ok: true, accessKey, whitelisted: false };
    const given = Object.hasOwn(ext, SIGNATURE_FIELD) ? ext[SIGNATURE_FIELD] : undefined;
    const expected = requestSignature(account.key, ext, request.body, true, this.order);
    if (given === undefined || !sameText(given, expected)) return { ok: false, message: `Check signature failed for accessKey=${accessKey}` };
    return { ok: true, accessKey, whitelisted: false };
  }
}

/**
 * Constant-time comparison of two signatures (how many characters matched must not show in the
 * time taken); compares UTF-16 code units without allocating.
 */
function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

/** The IP of a "host:port" or "[v6]:port" peer string (RocketMQ strips the port the same way). */
export function ipOfPeer(peer: string): string {
  const colon = peer.lastIndexOf(':');
  const host = colon < 0 ? peer : peer.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
