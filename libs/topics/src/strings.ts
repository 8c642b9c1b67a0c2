/**
 * UTF-8 length of `s` in bytes, or -1 when `s` holds a lone surrogate (which UTF-8 cannot carry;
 * Buffer would silently turn it into U+FFFD, so two different strings would encode the same).
 */
export function utf8Length(s: string): number {
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = s.charCodeAt(i + 1);
      if (c > 0xdbff || !(next >= 0xdc00 && next <= 0xdfff)) return -1;
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** Quotes a possibly huge, possibly hostile string for an error message. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);
}
