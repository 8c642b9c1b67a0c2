import { ApiError } from './api-error.js';

/** Query-string readers that refuse with a message naming the parameter. */
export const queryParam = {
  string(q: URLSearchParams, name: string): string {
    const v = q.get(name);
    if (v === null || v.length === 0) throw new ApiError('BAD_REQUEST', `query parameter "${name}" is required`);
    return v;
  },
  int(q: URLSearchParams, name: string, dflt: number, min: number, max: number): number {
    const v = q.get(name);
    if (v === null || v === '') return dflt;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < min || n > max) throw new ApiError('BAD_REQUEST', `query parameter "${name}" must be an integer from ${min} to ${max}`);
    return n;
  },
};
