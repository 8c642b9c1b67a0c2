/**
 * A SQL92 filter expression that does not compile. `column` is the 1-based position (in UTF-16
 * code units, counted over the whole expression, line breaks included) where the error was found;
 * the message names what was found there and what was expected, as the client will show it.
 */
export class Sql92SyntaxError extends Error {
  override readonly name = 'Sql92SyntaxError';
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
  }
}

/** The usual shape: `unexpected 'AND' at column 12: expected a value`. */
export function unexpected(found: string, column: number, expected: string): Sql92SyntaxError {
  return new Sql92SyntaxError(`unexpected ${found} at column ${column}: ${expected}`, column);
}

/** A free-form complaint about what starts at `column`: `<what> at column N`. */
export function syntaxError(what: string, column: number): Sql92SyntaxError {
  return new Sql92SyntaxError(`${what} at column ${column}`, column);
}
