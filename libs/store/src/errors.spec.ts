import { formatError } from '@apogee/message';
import { describe, expect, it } from 'vitest';
import { IllegalPutError, MessageTooLargeError, StoreCorruptError, StoreError, StoreFormatError, StoreLockedError, StoreUnavailableError } from './errors.js';

describe('store errors', () => {
  it('keep the code in `code` and plain text in `message`; formatError prints both as before', () => {
    const cases: Array<[StoreError, string, string]> = [
      [new MessageTooLargeError('body is 5 bytes'), 'APG_STORE_MESSAGE_TOO_LARGE', 'body is 5 bytes'],
      [new IllegalPutError('bad queue id'), 'APG_STORE_ILLEGAL_MESSAGE', 'bad queue id'],
      [new StoreUnavailableError('WRITE_BACKLOG', 'too much waits'), 'APG_STORE_WRITE_BACKLOG', 'too much waits'],
      [new StoreUnavailableError('CLOSED', 'the store is closed'), 'APG_STORE_CLOSED', 'the store is closed'],
      [new StoreLockedError('held by pid 1'), 'APG_STORE_LOCKED', 'held by pid 1'],
      [new StoreCorruptError('bad checkpoint'), 'APG_STORE_CORRUPT', 'bad checkpoint'],
      [new StoreError('APG_STORE_BAD_CONFIG', 'dataDir is required'), 'APG_STORE_BAD_CONFIG', 'dataDir is required'],
      [new StoreFormatError('f', 2, 1), 'APG_STORE_FORMAT', 'f: format version 2, but this store reads version 1 (written by a newer store); not opening it'],
    ];
    for (const [e, code, text] of cases) {
      expect(e.code).toBe(code);
      expect(e.message).toBe(text);
      expect(formatError(e)).toBe(`${code}: ${text}`);
    }
  });

  it('keep the cause', () => {
    const cause = new Error('root');
    expect(new IllegalPutError('x', cause).cause).toBe(cause);
  });
});
