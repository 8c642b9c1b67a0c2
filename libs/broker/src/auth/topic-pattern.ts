/**
 * ACL patterns: MQTT-style topic filters (`+` one level, `#` the rest) in which `%u` and `%c`
 * stand for the username and client id (as in mosquitto's pattern ACLs).
 */
export function expandPattern(pattern: string, username: string | undefined, clientId: string): string {
  return pattern.replaceAll('%u', username ?? '').replaceAll('%c', clientId);
}

/**
 * Does `pattern` match the topic name? `#` alone means every topic, `$`-topics included; other
 * patterns starting with a wildcard do not match `$`-topics (MQTT's rule for filters).
 */
export function patternMatches(pattern: string, topic: string): boolean {
  if (pattern === '#') return true;
  const p = pattern.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && !pattern.startsWith('$')) return false;
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true;
    if (i >= t.length) return false;
    if (p[i] !== '+' && p[i] !== t[i]) return false;
  }
  return p.length === t.length;
}

/** Does `pattern` match every topic the filter can match (the filter lies inside the pattern)? */
export function patternCovers(pattern: string, filter: string): boolean {
  const p = pattern.split('/');
  const f = filter.split('/');
  for (let i = 0; i < p.length; i++) {
    if (p[i] === '#') return true;
    if (i >= f.length) return false;
    if (f[i] === '#') return false;
    if (p[i] === '+') continue;
    if (f[i] === '+' || p[i] !== f[i]) return false;
  }
  return p.length === f.length;
}

/** Can some topic match both `pattern` and `filter`? */
export function patternOverlaps(pattern: string, filter: string): boolean {
  const p = pattern.split('/');
  const f = filter.split('/');
  for (let i = 0; ; i++) {
    const a = p[i];
    const b = f[i];
    if (a === '#' || b === '#') return true;
    if (a === undefined || b === undefined) return a === b;
    if (a !== '+' && b !== '+' && a !== b) return false;
  }
}
