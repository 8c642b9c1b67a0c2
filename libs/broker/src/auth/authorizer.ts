import type { AclRules, AuthConfig, UserConfig } from './auth-config.js';
import { verifyPassword } from './password-hash.js';
import { expandPattern, patternCovers, patternMatches, patternOverlaps } from './topic-pattern.js';

/** Who a connection is, once authenticated. */
export interface Principal {
  /** undefined for anonymous clients. */
  username: string | undefined;
  clientId: string;
  publish: AclRules;
  subscribe: AclRules;
}

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: 'BAD_CREDENTIALS' | 'NOT_AUTHORIZED' };

/**
 * Authentication (scrypt-hashed passwords) and topic authorization shared by the endpoints. Deny
 * rules win over allow rules. Reading is checked per delivered message topic, so a broad
 * subscription never leaks a denied topic — retained and offline deliveries included.
 */
/** Per principal, the topics decided at most (the cache starts over when full). */
const DECISIONS_PER_PRINCIPAL = 1024;

interface Decisions {
  publish: Map<string, boolean>;
  read: Map<string, boolean>;
}

export class Authorizer {
  private readonly users = new Map<string, UserConfig>();
  /**
   * Publish and read decisions by principal object and topic: a connection asks the same
   * question for every message on a topic, and the answer only changes with the principal.
   */
  private readonly decisions = new WeakMap<Principal, Decisions>();

  constructor(private readonly cfg: AuthConfig) {
    for (const u of cfg.users) this.users.set(u.username, u);
  }

  async authenticate(username: string | undefined, password: Buffer | string | undefined, clientId: string): Promise<AuthResult> {
    if (username === undefined || username === '') {
      if (password !== undefined && password.length > 0) return { ok: false, reason: 'BAD_CREDENTIALS' };
      if (!this.cfg.allowAnonymous) return { ok: false, reason: 'NOT_AUTHORIZED' };
      return { ok: true, principal: { username: undefined, clientId, ...this.cfg.anonymous } };
    }
    const u = this.users.get(username);
    const pw = password === undefined ? '' : typeof password === 'string' ? password : password.toString('utf8');
    // Verify even for unknown users so timing does not reveal which usernames exist.
    const ok = await verifyPassword(pw, u?.password ?? 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=');
    if (!u || !ok) return { ok: false, reason: 'BAD_CREDENTIALS' };
    return { ok: true, principal: { username, clientId, publish: u.publish, subscribe: u.subscribe } };
  }

  /**
   * The principal of a client whose name a verified TLS certificate vouches for (no password): a
   * configured user gets its rules; another name gets the anonymous rules under that name when
   * anonymous access is on, and is refused otherwise.
   */
  certificateUser(username: string, clientId: string): AuthResult {
    const u = this.users.get(username);
    if (u) return { ok: true, principal: { username, clientId, publish: u.publish, subscribe: u.subscribe } };
    if (!this.cfg.allowAnonymous) return { ok: false, reason: 'NOT_AUTHORIZED' };
    return { ok: true, principal: { username, clientId, ...this.cfg.anonymous } };
  }

  canPublish(p: Principal, topic: string): boolean {
    return this.decide(p, this.decisionsOf(p).publish, p.publish, topic);
  }

  /** May this filter be subscribed? Some allowed topic must lie in it, and no deny rule may cover it whole. */
  canSubscribe(p: Principal, filter: string): boolean {
    const r = p.subscribe;
    if (r.deny.some((d) => patternCovers(expandPattern(d, p.username, p.clientId), filter))) return false;
    return r.allow.some((a) => patternOverlaps(expandPattern(a, p.username, p.clientId), filter));
  }

  /** May a message on this topic be delivered to the principal? */
  canRead(p: Principal, topic: string): boolean {
    return this.decide(p, this.decisionsOf(p).read, p.subscribe, topic);
  }

  private decisionsOf(p: Principal): Decisions {
    let d = this.decisions.get(p);
    if (!d) this.decisions.set(p, (d = { publish: new Map(), read: new Map() }));
    return d;
  }

  private decide(p: Principal, cache: Map<string, boolean>, rules: AclRules, topic: string): boolean {
    // Everything allowed, nothing denied (the common anonymous setup): no lookup at all.
    if (rules.deny.length === 0 && rules.allow.includes('#')) return true;
    const known = cache.get(topic);
    if (known !== undefined) return known;
    const ok = this.allowed(p, rules, (pat) => patternMatches(pat, topic));
    if (cache.size >= DECISIONS_PER_PRINCIPAL) cache.clear();
    cache.set(topic, ok);
    return ok;
  }

  private allowed(p: Principal, r: AclRules, test: (pattern: string) => boolean): boolean {
    if (r.deny.some((d) => test(expandPattern(d, p.username, p.clientId)))) return false;
    return r.allow.some((a) => test(expandPattern(a, p.username, p.clientId)));
  }
}
