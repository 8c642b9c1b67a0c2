import { describe, expect, it } from 'vitest';
import { ApogeeError, CorruptRecordError, formatError } from './errors.js';

describe('ApogeeError', () => {
  it('puts the code before the text by default, and keeps the text apart as detail', () => {
    const e = new CorruptRecordError('bad magic');
    expect(e.code).toBe('APG_MSG_CORRUPT_RECORD');
    expect(e.message).toBe('APG_MSG_CORRUPT_RECORD: bad magic');
    expect(e.detail).toBe('bad magic');
    expect(e.name).toBe('CorruptRecordError');
  });

  it('keeps the message plain with codeInMessage: false', () => {
    const cause = new Error('root');
    const e = new ApogeeError('APG_X', 'plain text', { cause, codeInMessage: false });
    expect([e.code, e.message, e.detail, e.cause]).toEqual(['APG_X', 'plain text', 'plain text', cause]);
  });

  it('formatError prints code and text the same for either form', () => {
    expect(formatError(new ApogeeError('APG_X', 'text'))).toBe('APG_X: text');
    expect(formatError(new ApogeeError('APG_X', 'text', { codeInMessage: false }))).toBe('APG_X: text');
    expect(formatError(new Error('plain'))).toBe('plain');
    expect(formatError('a string')).toBe('a string');
  });
});
