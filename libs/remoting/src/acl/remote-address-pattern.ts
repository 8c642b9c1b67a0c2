/*
 * RocketMQ's white-list address patterns (4.9.7 acl/common/AclUtils, RemoteAddressStrategyFactory),
 * IPv4 only beyond exact matches:
 *   `*` (or an empty list entry is never allowed)  any address
 *   `192.168.0.1`                                  that address (IPv6 too, compared as written)
 *   `192.168.*` / `192.168.1.*`                    the remaining octets are anything
 *   `192.168.1.1-100`                              a range in one octet
 *   `192.168.1.{1,5,9}`                            a set in the last octet
 * Several patterns may be given separated by commas.
 */

type OctetTest = (octet: number) => boolean;

/** A compiled address pattern: true when a remote IP matches. */
export type AddressMatcher = (ip: string) => boolean;

const NEVER: AddressMatcher = () => false;

function octetTest(part: string, whole: string): OctetTest {
  if (part === '*') return () => true;
  const range = /^(\d{1,3})-(\d{1,3})$/.exec(part);
  if (range) {
    const lo = Number(range[1]);
    const hi = Number(range[2]);
    if (lo > hi || hi > 255) throw new Error(`address pattern ${JSON.stringify(whole)}: bad range ${part}`);
    return (o) => o >= lo && o <= hi;
  }
  const set = /^\{(\d{1,3}(?:,\d{1,3})*)\}$/.exec(part);
  if (set) {
    const values = new Set(set[1]!.split(',').map(Number));
    return (o) => values.has(o);
  }
  if (/^\d{1,3}$/.test(part) && Number(part) <= 255) {
    const v = Number(part);
    return (o) => o === v;
  }
  throw new Error(`address pattern ${JSON.stringify(whole)}: ${JSON.stringify(part)} is not an octet, *, a range a-b or a set {a,b}`);
}

function compileOne(pattern: string): AddressMatcher {
  if (pattern === '*') return () => true;
  if (pattern.includes(':')) return (ip) => ip === pattern;
  // `{a,b}` holds commas, so a list is split outside braces only.
  const parts = pattern.split('.');
  if (parts.length > 4 || parts.length === 0) throw new Error(`address pattern ${JSON.stringify(pattern)} has more than 4 octets`);
  if (parts.length < 4 && parts[parts.length - 1] !== '*') throw new Error(`address pattern ${JSON.stringify(pattern)} needs 4 octets or a trailing *`);
  const tests = parts.map((p) => octetTest(p, pattern));
  const restAny = parts.length < 4;
  return (ip) => {
    const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
    const octets = v4.split('.');
    if (octets.length !== 4) return false;
    for (let i = 0; i < 4; i++) {
      if (i >= tests.length) return restAny;
      const s = octets[i]!;
      if (!/^\d{1,3}$/.test(s) || !tests[i]!(Number(s))) return false;
    }
    return true;
  };
}

/** Splits a comma-separated list, keeping commas inside `{…}`. */
function splitList(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (c === ',' && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  out.push(list.slice(start));
  return out.map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Compiles patterns (each may be a comma-separated list); throws on a malformed one. No patterns: matches nothing. */
export function compileAddressPatterns(patterns: readonly string[]): AddressMatcher {
  const matchers = patterns.flatMap(splitList).map(compileOne);
  if (matchers.length === 0) return NEVER;
  return (ip) => matchers.some((m) => m(ip));
}
