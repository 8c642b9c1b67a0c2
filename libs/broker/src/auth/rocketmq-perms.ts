import type { AclRules } from './auth-config.js';

/*
 * RocketMQ plain_acl.yml permissions written into Apogee's rules (docs/security.md): a topic
 * `T` names the data of store topic `T`, which is AMQP queue `T` and MQTT topics `T` and `T/…`, so
 * a grant or denial of `T` becomes one of the patterns `T` and `T/#`. Explicit entries are added
 * to the deny list when they lack a permission, so they win over the default as in RocketMQ.
 *   perm string        PUB bit  SUB bit
 *   DENY (or unknown)  –        –
 *   PUB                ✓        –
 *   SUB                –        ✓
 *   PUB|SUB, SUB|PUB   ✓        ✓
 */

interface Bits {
  pub: boolean;
  sub: boolean;
}

/** Permission.parsePermFromString: anything not listed is DENY. */
export function parsePerm(s: string): Bits {
  const t = s.trim().toUpperCase();
  if (t === 'PUB') return { pub: true, sub: false };
  if (t === 'SUB') return { pub: false, sub: true };
  if (t === 'PUB|SUB' || t === 'SUB|PUB') return { pub: true, sub: true };
  return { pub: false, sub: false };
}

/** Splits `name=PERM` entries; throws naming the entry when it is not one. */
function entries(list: unknown, where: string): Array<[string, Bits]> {
  if (list === undefined) return [];
  if (!Array.isArray(list) || !list.every((e) => typeof e === 'string')) throw new Error(`${where} must be a list of "name=PERM" strings`);
  return list.map((e: string) => {
    const eq = e.lastIndexOf('=');
    const name = eq < 0 ? '' : e.slice(0, eq).trim();
    if (name.length === 0 || /[/+#]/.test(name)) throw new Error(`${where}: ${JSON.stringify(e)} is not "name=DENY|PUB|SUB|PUB|SUB"`);
    return [name, parsePerm(e.slice(eq + 1))];
  });
}

/** Rules from `defaultTopicPerm` and `topicPerms` (PUB → publish, SUB → subscribe). */
export function topicRulesFromPerms(defaultPerm: unknown, perms: unknown, where: string): { publish: AclRules; subscribe: AclRules } {
  const dflt = parsePerm(typeof defaultPerm === 'string' ? defaultPerm : 'DENY');
  const publish: AclRules = { allow: dflt.pub ? ['#'] : [], deny: [] };
  const subscribe: AclRules = { allow: dflt.sub ? ['#'] : [], deny: [] };
  for (const [name, bits] of entries(perms, `${where}.topicPerms`)) {
    (bits.pub ? publish.allow : publish.deny).push(name, `${name}/#`);
    (bits.sub ? subscribe.allow : subscribe.deny).push(name, `${name}/#`);
  }
  return { publish, subscribe };
}

/** Group rules from `defaultGroupPerm` and `groupPerms` (a group needs SUB). */
export function groupRulesFromPerms(defaultPerm: unknown, perms: unknown, where: string): AclRules {
  const dflt = parsePerm(typeof defaultPerm === 'string' ? defaultPerm : 'DENY');
  const rules: AclRules = { allow: dflt.sub ? ['#'] : [], deny: [] };
  for (const [name, bits] of entries(perms, `${where}.groupPerms`)) (bits.sub ? rules.allow : rules.deny).push(name);
  return rules;
}
