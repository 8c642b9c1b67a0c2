/** Reverse index of a `{ NAME: code }` table, for logs. First name wins on duplicates. */
export function codeNamer(table: Readonly<Record<string, number>>): (code: number) => string {
  const names = new Map<number, string>();
  for (const [name, code] of Object.entries(table)) {
    if (!names.has(code)) names.set(code, name);
  }
  return (code) => names.get(code) ?? `UNKNOWN(${code})`;
}
