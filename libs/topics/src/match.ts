const SLASH = 0x2f;
const PLUS = 0x2b;
const HASH = 0x23;
const DOLLAR = 0x24;

/**
 * Whether a topic filter matches a topic name, with MQTT §4.7 semantics:
 * - `+` matches exactly one level, which may be empty (`+/+` matches `/a` and `a/`);
 * - `#` matches any number of levels, including none: `a/#` matches `a`, `a/` and `a/b/c`
 *   [MQTT-4.7.1-2]; `#` alone matches every topic not starting with `$`;
 * - a filter whose first character is a wildcard does not match a topic starting with `$`
 *   (`#` and `+/x` do not match `$SYS/x`; `$SYS/#` does) [MQTT-4.7.2-1];
 * - other levels compare exactly, empty levels included (`a//b`, `/a`).
 * Both arguments must already be valid (validateMqttTopicFilter / validateMqttTopicName); the
 * function allocates nothing.
 */
export function matches(filter: string, topic: string): boolean {
  if (topic.charCodeAt(0) === DOLLAR) {
    const f0 = filter.charCodeAt(0);
    if (f0 === HASH || f0 === PLUS) return false;
  }
  const fl = filter.length;
  const tl = topic.length;
  let f = 0;
  let t = 0;
  let topicDone = false;
  for (;;) {
    let fe = filter.indexOf('/', f);
    if (fe < 0) fe = fl;
    const len = fe - f;
    if (len === 1 && filter.charCodeAt(f) === HASH) return true;
    if (topicDone) return false;
    let te = topic.indexOf('/', t);
    if (te < 0) te = tl;
    if (!(len === 1 && filter.charCodeAt(f) === PLUS)) {
      if (te - t !== len) return false;
      for (let i = 0; i < len; i++) if (filter.charCodeAt(f + i) !== topic.charCodeAt(t + i)) return false;
    }
    if (fe === fl) return te === tl;
    f = fe + 1;
    if (te === tl) topicDone = true;
    else t = te + 1;
  }
}

/** Whether a (valid) topic filter has a wildcard level, so that it can match more than one topic. */
export function isWildcardFilter(filter: string): boolean {
  for (let i = 0; i < filter.length; i++) {
    const c = filter.charCodeAt(i);
    if ((c === PLUS || c === HASH) && (i === 0 || filter.charCodeAt(i - 1) === SLASH)) return true;
  }
  return false;
}
