import { ApogeeError } from '@apogee/message';

/**
 * The store's error catalogue. Codes are stable; the broker maps them onto RocketMQ response
 * codes (MESSAGE_ILLEGAL, SERVICE_NOT_AVAILABLE, SYSTEM_BUSY, …) and keeps the message as remark.
 */
export class StoreError extends ApogeeError {}

/** Body (or whole record) larger than the configured limit. */
export class MessageTooLargeError extends StoreError {
  constructor(message: string) {
    super('APG_STORE_MESSAGE_TOO_LARGE', message);
  }
}

/** A put whose fields are illegal: bad name, queue id, LMQ list or property set. */
export class IllegalPutError extends StoreError {
  constructor(message: string, cause?: unknown) {
    super('APG_STORE_ILLEGAL_MESSAGE', message, { cause });
  }
}

/** The store refuses writes for now; the message says why (disk full, write failing, backlog). */
export class StoreUnavailableError extends StoreError {
  constructor(
    readonly reason: 'DISK_FULL' | 'WRITE_FAILED' | 'WRITE_BACKLOG' | 'CLOSED',
    message: string,
  ) {
    super(`APG_STORE_${reason}`, message);
  }
}

/** Another process holds the data directory. */
export class StoreLockedError extends StoreError {
  constructor(message: string) {
    super('APG_STORE_LOCKED', message);
  }
}

/** On-disk state the store cannot make sense of (bad checkpoint, foreign files, mismatched config). */
export class StoreCorruptError extends StoreError {
  constructor(message: string) {
    super('APG_STORE_CORRUPT', message);
  }
}
