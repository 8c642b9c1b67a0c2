/**
 * Message properties that cannot change once built. A producer that sends many messages with the
 * same properties (an MQTT publisher on one topic) builds them once and passes the same object
 * with every message; whoever encodes them (the store's record writer) may then keep the encoded
 * form on the object (`encoded`) instead of serialising the map again per message.
 *
 * Setting a key to the value it already has is allowed (and changes nothing), so code that
 * stamps a property it may have stamped before works unchanged; any real change throws.
 */
export class FrozenProperties extends Map<string, string> {
  private frozen = false;
  /** The encoder's cached form of these properties (opaque here; see the store). */
  encoded: unknown = undefined;

  constructor(entries: Iterable<readonly [string, string]>) {
    super(entries);
    this.frozen = true;
  }

  override set(key: string, value: string): this {
    if (!this.frozen) return super.set(key, value); // filling in, from the constructor
    if (super.get(key) === value) return this;
    throw new TypeError(`message properties are frozen: cannot set ${key}`);
  }

  override delete(key: string): boolean {
    if (!this.frozen) return super.delete(key);
    if (!super.has(key)) return false;
    throw new TypeError(`message properties are frozen: cannot delete ${key}`);
  }

  override clear(): void {
    if (this.frozen && this.size > 0) throw new TypeError('message properties are frozen: cannot clear them');
    super.clear();
  }
}
