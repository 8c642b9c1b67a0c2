import { ApogeeError } from '@apogee/message';

/**
 * The store's error catalogue. Codes are stable and kept in `code`; `message` is plain text
 * (formatError prints both). The broker maps them onto its BrokerError kinds, which the
 * endpoints map onto protocol errors, the message going along as remark or description.
 */
export class StoreError extends ApogeeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(code, message, { ...options, codeInMessage: false });
  }
}

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
    readonly reason: 'DISK_FULL' | 'WRITE_FAILED' | 'WRITE_BACKLOG' | 'CLOSED' | 'READ_ONLY',
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

/**
 * An on-disk format the store owns carries a version this build does not read: a newer store
 * wrote it, or it is damaged. Opening stops before anything is written, so the data stays as found.
 */
export class StoreFormatError extends StoreError {
  constructor(
    /** The file (or LMDB record) whose version is wrong. */
    readonly file: string,
    /** The version found; null when there is no readable version where one must be. */
    readonly found: number | null,
    /** The version this build reads and writes. */
    readonly expected: number,
  ) {
    super(
      'APG_STORE_FORMAT',
      found === null
        ? `${file}: no readable format version (expected version ${expected}); not opening the store rather than misread it`
        : `${file}: format version ${found}, but this store reads version ${expected}${found > expected ? ' (written by a newer store)' : ''}; not opening it`,
    );
  }
}
