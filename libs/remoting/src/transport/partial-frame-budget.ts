/**
 * The bytes every connection of one server holds of frames not yet complete, summed. One frame may
 * be 16 MiB, so a few thousand peers each sending most of one and then going quiet would hold
 * gigabytes; past the budget the connection holding the most is closed (it is the likeliest to be
 * hostile, and closing it frees the most). No I/O: the server calls `update` after each read.
 */
export class PartialFrameBudget<C> {
  private readonly held = new Map<C, number>();
  private total = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes held now, over every connection. */
  get totalBytes(): number {
    return this.total;
  }

  /**
   * Records that `conn` now holds `bytes` of partial frames; returns the connection to close when
   * the total is over the limit (the one holding the most), or null.
   */
  update(conn: C, bytes: number): C | null {
    const before = this.held.get(conn) ?? 0;
    if (bytes === before) return null; // most reads end on a frame boundary: 0 before, 0 after
    if (bytes === 0) this.held.delete(conn);
    else this.held.set(conn, bytes);
    this.total += bytes - before;
    if (this.total <= this.limitBytes) return null;
    let worst: C | null = null;
    let most = -1;
    for (const [c, n] of this.held) {
      if (n > most) {
        most = n;
        worst = c;
      }
    }
    return worst;
  }

  /** Bytes `conn` holds now. */
  heldBy(conn: C): number {
    return this.held.get(conn) ?? 0;
  }

  /** Forgets a closed connection. */
  remove(conn: C): void {
    this.update(conn, 0);
  }
}
