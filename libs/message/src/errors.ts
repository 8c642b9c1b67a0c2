/**
 * Base class of every typed Apogee error. `code` is stable (users search for it) and maps onto
 * protocol error codes at the endpoints (RocketMQ response codes, MQTT reason codes, AMQP conditions).
 */
export class ApogeeError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
    this.name = new.target.name;
  }
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
