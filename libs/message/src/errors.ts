/**
 * Base class of every typed Apogee error. `code` is stable (users search for it) and maps onto
 * protocol error codes at the endpoints (RocketMQ response codes, MQTT reason codes, AMQP conditions).
 */
export class ApogeeError extends Error {
  /** The message without the code: what a protocol error text (remark, description) carries. */
  readonly detail: string;
  constructor(
    readonly code: string,
    message: string,
    /**
     * `codeInMessage: false` keeps `message` plain text (the code stays in `code` alone; print both
     * with formatError). By default `message` is `<code>: <text>`.
     */
    options?: { cause?: unknown; codeInMessage?: boolean },
  ) {
    super(options?.codeInMessage === false ? message : `${code}: ${message}`, options === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.detail = message;
  }
}

/**
 * An error as one line of text for logs and stderr: `<code>: <text>` for an ApogeeError whatever
 * its message form, the message of any other Error, or the value as a string.
 */
export function formatError(err: unknown): string {
  if (err instanceof ApogeeError) return `${err.code}: ${err.detail}`;
  return err instanceof Error ? err.message : String(err);
}

/** A record's bytes are not a valid message record (bad magic, size, CRC or field bounds). */
export class CorruptRecordError extends ApogeeError {
  constructor(message: string) {
    super('APG_MSG_CORRUPT_RECORD', message);
  }
}

/** A message cannot be encoded as a record (field out of range, property string too long). */
export class IllegalMessageError extends ApogeeError {
  constructor(message: string) {
    super('APG_MSG_ILLEGAL', message);
  }
}
