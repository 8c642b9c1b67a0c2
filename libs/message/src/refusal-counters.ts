/** A fixed table of refusal reasons: operation → the reasons it can be refused for. */
export type RefusalTable = Readonly<Record<string, readonly string[]>>;

/** Counts since start: operation → reason → count, every reason of the table present. */
export type RefusalCounts<T extends RefusalTable> = { readonly [O in keyof T]: Readonly<Record<T[O][number], number>> };

/**
 * Refusals counted by (operation, reason) from a fixed table (the endpoints' metrics): labels
 * never come from client input, so the number of series stays bounded, and every series exists
 * at 0 from the start.
 */
export class RefusalCounters<T extends RefusalTable> {
  private readonly counts: Record<string, Record<string, number>> = {};

  constructor(table: T) {
    for (const [operation, reasons] of Object.entries(table)) this.counts[operation] = Object.fromEntries(reasons.map((r) => [r, 0]));
  }

  count<O extends keyof T & string>(operation: O, reason: T[O][number]): void {
    this.counts[operation]![reason]!++;
  }

  /** A copy of the counts (for the metrics endpoint). */
  snapshot(): RefusalCounts<T> {
    const out: Record<string, Record<string, number>> = {};
    for (const [operation, byReason] of Object.entries(this.counts)) out[operation] = { ...byReason };
    return out as RefusalCounts<T>;
  }
}
