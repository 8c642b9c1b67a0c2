import { isPasswordHash } from './password-hash.js';
import { groupRulesFromPerms, topicRulesFromPerms } from './rocketmq-perms.js';

/** Allow/deny patterns for one kind of access (publish, subscribe or consumer groups). */
export interface AclRules {
  allow: string[];
  deny: string[];
}

/**
 * One user of every endpoint (docs/security.md): a password for MQTT and AMQP, a RocketMQ
 * access/secret key pair for the remoting port and the NameServer, or both — and one set of
 * rules over user-visible names that decides all of them.
 */
export interface UserConfig {
  username: string;
  /** scrypt hash from `npm run cli -- hash-password` (MQTT, AMQP); absent: no password login. */
  password?: string;
  /** RocketMQ ACL 1.0 access key (remoting, NameServer); absent: no signed requests. */
  accessKey?: string;
  /** The secret the HmacSHA1 signatures are made with (RocketMQ keeps it in clear too). */
  secretKey?: string;
  /** May use the admin request codes (create/delete topics and groups, broker config). */
  admin: boolean;
  /** Addresses that may use the access key without a signature (RocketMQ whiteRemoteAddress). */
  whiteRemoteAddress?: string;
  publish: AclRules;
  subscribe: AclRules;
  /** Consumer groups the user may consume with (remoting); single-level patterns, `#` for all. */
  groups: AclRules;
}

/** The config file's `auth` section (shared by every endpoint). */
export interface AuthConfig {
  /** Accept clients without credentials (with the `anonymous` rules), on every port. Default true. */
  allowAnonymous: boolean;
  /**
   * Rules of anonymous clients; `admin` (default true: an open server stays open) lets them use
   * admin request codes and reserved internal names on the remoting port.
   */
  anonymous: { publish: AclRules; subscribe: AclRules; groups: AclRules; admin: boolean };
  users: UserConfig[];
  /** Remoting peers whose requests are not checked at all (RocketMQ globalWhiteRemoteAddresses). */
  globalWhiteRemoteAddresses: string[];
}

const ALL = (): AclRules => ({ allow: ['#'], deny: [] });

export const OPEN_AUTH: AuthConfig = {
  allowAnonymous: true,
  anonymous: { publish: ALL(), subscribe: ALL(), groups: ALL(), admin: true },
  users: [],
  globalWhiteRemoteAddresses: [],
};

const SECTION_KEYS = ['allowAnonymous', 'anonymous', 'users', 'globalWhiteRemoteAddresses'];
const USER_KEYS = [
  'username',
  'password',
  'accessKey',
  'secretKey',
  'admin',
  'whiteRemoteAddress',
  'publish',
  'subscribe',
  'groups',
  'defaultTopicPerm',
  'topicPerms',
  'defaultGroupPerm',
  'groupPerms',
];
/** RocketMQ's minimum: longer than 6 characters (PlainPermissionManager.checkPlainAccessConfig). */
const MIN_KEY_LENGTH = 7;

function rules(v: unknown, where: string): AclRules {
  if (v === undefined) return ALL();
  if (typeof v !== 'object' || v === null) throw new Error(`${where} must be an object with "allow" and/or "deny" lists`);
  const o = v as Record<string, unknown>;
  const list = (x: unknown, name: string, dflt: string[]): string[] => {
    if (x === undefined) return dflt;
    if (!Array.isArray(x) || !x.every((e) => typeof e === 'string' && e.length > 0)) throw new Error(`${where}.${name} must be a list of topic patterns`);
    return x as string[];
  };
  return { allow: list(o['allow'], 'allow', ['#']), deny: list(o['deny'], 'deny', []) };
}

function optionalString(o: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new Error(`${where}.${key} must be a non-empty string`);
  return v;
}

function parseUser(u: unknown, where: string): UserConfig {
  if (typeof u !== 'object' || u === null || Array.isArray(u)) throw new Error(`${where} must be an object`);
  const o = u as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!USER_KEYS.includes(k)) throw new Error(`${where}: unknown user setting ${JSON.stringify(k)}`);
  const username = optionalString(o, 'username', where);
  if (username === undefined) throw new Error(`${where}.username must be a non-empty string`);
  const password = optionalString(o, 'password', where);
  if (password !== undefined && !isPasswordHash(password))
    throw new Error(`${where}.password must be a scrypt hash (make one with: npm run cli -- hash-password); plain-text passwords are not accepted`);
  const accessKey = optionalString(o, 'accessKey', where);
  const secretKey = optionalString(o, 'secretKey', where);
  if ((accessKey === undefined) !== (secretKey === undefined)) throw new Error(`${where}: accessKey and secretKey go together`);
  if (accessKey !== undefined && (accessKey.length < MIN_KEY_LENGTH || secretKey!.length < MIN_KEY_LENGTH))
    throw new Error(`${where}: accessKey and secretKey must be at least ${MIN_KEY_LENGTH} characters long`);
  if (password === undefined && accessKey === undefined) throw new Error(`${where}: a user needs a password, an accessKey/secretKey pair, or both`);
  const admin = o['admin'] ?? false;
  if (typeof admin !== 'boolean') throw new Error(`${where}.admin must be true or false`);
  // Address patterns are compiled (and refused when malformed) by the remoting endpoint at start.
  const whiteRemoteAddress = optionalString(o, 'whiteRemoteAddress', where);
  const rocketTopics = o['topicPerms'] !== undefined || o['defaultTopicPerm'] !== undefined;
  if (rocketTopics && (o['publish'] !== undefined || o['subscribe'] !== undefined))
    throw new Error(`${where}: give either publish/subscribe rules or RocketMQ topicPerms/defaultTopicPerm, not both`);
  const rocketGroups = o['groupPerms'] !== undefined || o['defaultGroupPerm'] !== undefined;
  if (rocketGroups && o['groups'] !== undefined) throw new Error(`${where}: give either groups rules or RocketMQ groupPerms/defaultGroupPerm, not both`);
  const topics = rocketTopics
    ? topicRulesFromPerms(o['defaultTopicPerm'], o['topicPerms'], where)
    : { publish: rules(o['publish'], `${where}.publish`), subscribe: rules(o['subscribe'], `${where}.subscribe`) };
  const groups = rocketGroups ? groupRulesFromPerms(o['defaultGroupPerm'], o['groupPerms'], where) : rules(o['groups'], `${where}.groups`);
  const user: UserConfig = { username, admin, ...topics, groups };
  if (password !== undefined) user.password = password;
  if (accessKey !== undefined) {
    user.accessKey = accessKey;
    user.secretKey = secretKey!;
  }
  if (whiteRemoteAddress !== undefined) user.whiteRemoteAddress = whiteRemoteAddress;
  return user;
}

/** Validates the `auth` section; errors name the offending path. */
export function parseAuthConfig(section: unknown, source: string): AuthConfig {
  if (section === undefined) return OPEN_AUTH;
  if (typeof section !== 'object' || section === null || Array.isArray(section)) throw new Error(`${source}: "auth" must be an object`);
  const s = section as Record<string, unknown>;
  for (const k of Object.keys(s)) if (!SECTION_KEYS.includes(k)) throw new Error(`${source}: unknown auth setting ${JSON.stringify(k)}`);
  const allowAnonymous = s['allowAnonymous'] ?? true;
  if (typeof allowAnonymous !== 'boolean') throw new Error(`${source}: auth.allowAnonymous must be true or false`);
  const anon = (s['anonymous'] ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(anon))
    if (!['publish', 'subscribe', 'groups', 'admin'].includes(k)) throw new Error(`${source}: unknown auth.anonymous setting ${JSON.stringify(k)}`);
  const anonAdmin = anon['admin'] ?? true;
  if (typeof anonAdmin !== 'boolean') throw new Error(`${source}: auth.anonymous.admin must be true or false`);
  const users: UserConfig[] = [];
  const names = new Set<string>();
  const keys = new Set<string>();
  if (s['users'] !== undefined && !Array.isArray(s['users'])) throw new Error(`${source}: auth.users must be a list`);
  for (const [i, u] of ((s['users'] ?? []) as unknown[]).entries()) {
    const where = `${source}: auth.users[${i}]`;
    const user = parseUser(u, where);
    if (names.has(user.username)) throw new Error(`${where}: user ${JSON.stringify(user.username)} is listed twice`);
    names.add(user.username);
    if (user.accessKey !== undefined) {
      if (keys.has(user.accessKey)) throw new Error(`${where}: access key ${JSON.stringify(user.accessKey)} belongs to another user too`);
      keys.add(user.accessKey);
    }
    users.push(user);
  }
  const white = s['globalWhiteRemoteAddresses'] ?? [];
  if (!Array.isArray(white) || !white.every((e) => typeof e === 'string'))
    throw new Error(`${source}: auth.globalWhiteRemoteAddresses must be a list of address patterns`);
  return {
    allowAnonymous,
    anonymous: {
      publish: rules(anon['publish'], `${source}: auth.anonymous.publish`),
      subscribe: rules(anon['subscribe'], `${source}: auth.anonymous.subscribe`),
      groups: rules(anon['groups'], `${source}: auth.anonymous.groups`),
      admin: anonAdmin,
    },
    users,
    globalWhiteRemoteAddresses: white as string[],
  };
}
