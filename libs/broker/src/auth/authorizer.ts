import type { AclRules, AuthConfig, UserConfig } from './auth-config.js';
import { verifyPassword } from './password-hash.js';
import { groupResourceOf, topicResourceOf } from './resource-names.js';
import { expandPattern, patternCovers, patternMatches, patternOverlaps } from './topic-pattern.js';

/** Who a connection is, once authenticated. */
export interface Principal {
  /** undefined for anonymous clients. */
  username: string | undefined;
  clientId: string;
  publish: AclRules;
  subscribe: AclRules;
  /** Consumer groups (remoting). */
  groups: AclRules;
  /** May use admin request codes and reserved internal names (remoting); topic and group rules still apply. */
  admin: boolean;
  /** Set when a certificate named a client that is not a configured user: it has the anonymous rules. */
  anonymousRules?: true;
}

/** What a remoting request needs of one store topic. */
export type TopicAccess = 'publish' | 'read';

export type AuthResult = { ok: true; principal: Principal } | { ok: false; reason: 'BAD_CREDENTIALS' | 'NOT_AUTHORIZED' };

/**
 * Authentication (scrypt-hashed passwords) and topic authorization shared by the endpoints. Deny
 * rules win over allow rules. Reading is checked per delivered message topic, so a broad
 * subscription never leaks a denied topic — retained and offline deliveries included.
 */
/** Per principal, the topics decided at most (the cache starts over when full). */
const DECISIONS_PER_PRINCIPAL = 1024;

interface Decisions {
  /** The Authorizer's generation the principal's rules were last taken from. */
  generation: number;
  publish: Map<string, boolean>;
  read: Map<string, boolean>;
  /** Remoting: store topic → may publish into / read all of it; group → may consume with it. */
  storePublish: Map<string, boolean>;
  storeRead: Map<string, boolean>;
  group: Map<string, boolean>;
}

function remember(cache: Map<string, boolean>, key: string, ok: boolean): void {
  if (cache.size >= DECISIONS_PER_PRINCIPAL) cache.clear();
  cache.set(key, ok);
}

function principalOf(u: UserConfig, clientId: string): Principal {
  return { username: u.username, clientId, publish: u.publish, subscribe: u.subscribe, groups: u.groups, admin: u.admin };
}

/** A user's RocketMQ account, as the remoting signature check takes it. */
export interface RemotingAccount {
  accessKey: string;
  secretKey: string;
  whiteRemoteAddress?: string;
}

/** The RocketMQ accounts of an `auth` section (its users with an access key). */
export function remotingAccounts(cfg: AuthConfig): RemotingAccount[] {
  return cfg.users
    .filter((u) => u.accessKey !== undefined)
    .map((u) => ({
      accessKey: u.accessKey!,
      secretKey: u.secretKey!,
      ...(u.whiteRemoteAddress === undefined ? {} : { whiteRemoteAddress: u.whiteRemoteAddress }),
    }));
}

const NOTHING = (): AclRules => ({ allow: [], deny: ['#'] });

/** Listens for a new `auth` section taking effect (Authorizer.replace). */
export type AuthReplacedListener = (cfg: AuthConfig) => void;

export class Authorizer {
  private users = new Map<string, UserConfig>();
  /** One principal object per access key, so their decisions are cached across connections. */
  private byAccessKey = new Map<string, Principal>();
  private anonymousPrincipal!: Principal;
  private cfg!: AuthConfig;
  private gen = 0;
  private readonly listeners: AuthReplacedListener[] = [];
  /**
   * Publish and read decisions by principal object and topic: a connection asks the same
   * question for every message on a topic, and the answer only changes with the principal.
   */
  private readonly decisions = new WeakMap<Principal, Decisions>();

  constructor(cfg: AuthConfig) {
    this.install(cfg);
  }

  /**
   * Puts a new `auth` section in force at once, for new and open connections alike: every
   * principal handed out before takes its rules from the new section at its next check (a user
   * no longer configured, or anonymous access switched off, is left with no permission at all).
   * Listeners (the NameServer's account copy, the admin API's credential cache) are told after.
   */
  replace(cfg: AuthConfig): void {
    this.install(cfg);
    this.gen++;
    for (const l of this.listeners) l(cfg);
  }

  /** Calls `l` after every replace(). */
  onReplaced(l: AuthReplacedListener): void {
    this.listeners.push(l);
  }

  /** How many times the section was replaced: a principal or a decision from an older generation is stale. */
  get generation(): number {
    return this.gen;
  }

  /** The section in force. */
  get config(): AuthConfig {
    return this.cfg;
  }

  private install(cfg: AuthConfig): void {
    const users = new Map<string, UserConfig>();
    const byAccessKey = new Map<string, Principal>();
    for (const u of cfg.users) {
      users.set(u.username, u);
      if (u.accessKey !== undefined) byAccessKey.set(u.accessKey, principalOf(u, ''));
    }
    this.cfg = cfg;
    this.users = users;
    this.byAccessKey = byAccessKey;
    this.anonymousPrincipal = { username: undefined, clientId: '', ...cfg.anonymous };
  }

  /** The principal of a verified RocketMQ access key, the anonymous one for undefined; undefined for an unknown key. */
  principalOfAccessKey(accessKey: string | undefined): Principal | undefined {
    return accessKey === undefined ? this.anonymousPrincipal : this.byAccessKey.get(accessKey);
  }

  /** Whether anonymous clients are accepted on every port. */
  get allowAnonymous(): boolean {
    return this.cfg.allowAnonymous;
  }

  /** The RocketMQ accounts (users with an access key), for the remoting signature check. */
  accounts(): RemotingAccount[] {
    return remotingAccounts(this.cfg);
  }

  /**
   * May a remoting request publish into (`publish`) or read (`read`) the store topic? Decided
   * over the user-visible names the topic holds (resource-names.ts): reading needs rules that
   * cover all of them, so a pull never returns a message the user may not read by MQTT or AMQP.
   */
  mayAccessStoreTopic(p: Principal, storeTopic: string, access: TopicAccess): boolean {
    const d = this.decisionsOf(p);
    const cache = access === 'publish' ? d.storePublish : d.storeRead;
    const known = cache.get(storeTopic);
    if (known !== undefined) return known;
    const r = topicResourceOf(storeTopic);
    let ok: boolean;
    if (r.kind === 'names') ok = (access === 'publish' ? r.publish : r.read).every((n) => this.coversAll(p, access === 'publish' ? p.publish : p.subscribe, n));
    else if (r.kind === 'group') ok = this.mayUseGroup(p, r.group);
    else if (r.kind === 'trace') ok = access === 'publish' || p.admin;
    else ok = p.admin;
    remember(cache, storeTopic, ok);
    return ok;
  }

  /** May a remoting client consume with (or otherwise act as) this consumer group? */
  mayUseGroup(p: Principal, group: string): boolean {
    const cache = this.decisionsOf(p).group;
    const known = cache.get(group);
    if (known !== undefined) return known;
    const r = groupResourceOf(group);
    let ok: boolean;
    if (r.kind === 'names') ok = r.read.every((n) => this.coversAll(p, p.subscribe, n));
    else if (r.kind === 'plain') ok = this.allowed(p, p.groups, (pat) => patternMatches(pat, group));
    else ok = p.admin;
    remember(cache, group, ok);
    return ok;
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
    if (!u || !ok || u.password === undefined) return { ok: false, reason: 'BAD_CREDENTIALS' };
    return { ok: true, principal: principalOf(u, clientId) };
  }

  /**
   * The principal of a client whose name a verified TLS certificate vouches for (no password): a
   * configured user gets its rules; another name gets the anonymous rules under that name when
   * anonymous access is on, and is refused otherwise.
   */
  certificateUser(username: string, clientId: string): AuthResult {
    const u = this.users.get(username);
    if (u) return { ok: true, principal: principalOf(u, clientId) };
    if (!this.cfg.allowAnonymous) return { ok: false, reason: 'NOT_AUTHORIZED' };
    return { ok: true, principal: { username, clientId, ...this.cfg.anonymous, anonymousRules: true } };
  }

  canPublish(p: Principal, topic: string): boolean {
    return this.decide(p, this.decisionsOf(p).publish, p.publish, topic);
  }

  /** May this filter be subscribed? Some allowed topic must lie in it, and no deny rule may cover it whole. */
  canSubscribe(p: Principal, filter: string): boolean {
    this.decisionsOf(p); // brings the principal's rules up to date
    const r = p.subscribe;
    if (r.deny.some((d) => patternCovers(expandPattern(d, p.username, p.clientId), filter))) return false;
    return r.allow.some((a) => patternOverlaps(expandPattern(a, p.username, p.clientId), filter));
  }

  /** May a message on this topic be delivered to the principal? */
  canRead(p: Principal, topic: string): boolean {
    return this.decide(p, this.decisionsOf(p).read, p.subscribe, topic);
  }

  /**
   * The principal's decision caches, after bringing its rules up to date: a principal first
   * seen at generation 0 is current; any other is refreshed from the section in force once.
   */
  private decisionsOf(p: Principal): Decisions {
    let d = this.decisions.get(p);
    if (!d)
      this.decisions.set(p, (d = { generation: 0, publish: new Map(), read: new Map(), storePublish: new Map(), storeRead: new Map(), group: new Map() }));
    if (d.generation !== this.gen) {
      this.refresh(p);
      d.generation = this.gen;
      d.publish.clear();
      d.read.clear();
      d.storePublish.clear();
      d.storeRead.clear();
      d.group.clear();
    }
    return d;
  }

  /** Gives an older principal the rules its name has now (none when it lost them). */
  private refresh(p: Principal): void {
    const u = p.username === undefined ? undefined : this.users.get(p.username);
    const anonymous = p.username === undefined || (u === undefined && p.anonymousRules === true);
    const source = u ?? (anonymous && this.cfg.allowAnonymous ? this.cfg.anonymous : undefined);
    if (u !== undefined) delete p.anonymousRules;
    p.publish = source?.publish ?? NOTHING();
    p.subscribe = source?.subscribe ?? NOTHING();
    p.groups = source?.groups ?? NOTHING();
    p.admin = source?.admin ?? false;
  }

  private decide(p: Principal, cache: Map<string, boolean>, rules: AclRules, topic: string): boolean {
    // Everything allowed, nothing denied (the common anonymous setup): no lookup at all.
    if (rules.deny.length === 0 && rules.allow.includes('#')) return true;
    const known = cache.get(topic);
    if (known !== undefined) return known;
    const ok = this.allowed(p, rules, (pat) => patternMatches(pat, topic));
    remember(cache, topic, ok);
    return ok;
  }

  /** Does an allow rule cover every topic `filter` can match, with no deny rule touching any? */
  private coversAll(p: Principal, r: AclRules, filter: string): boolean {
    if (r.deny.some((d) => patternOverlaps(expandPattern(d, p.username, p.clientId), filter))) return false;
    return r.allow.some((a) => patternCovers(expandPattern(a, p.username, p.clientId), filter));
  }

  private allowed(p: Principal, r: AclRules, test: (pattern: string) => boolean): boolean {
    if (r.deny.some((d) => test(expandPattern(d, p.username, p.clientId)))) return false;
    return r.allow.some((a) => test(expandPattern(a, p.username, p.clientId)));
  }
}
