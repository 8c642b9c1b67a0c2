import type http from 'node:http';
import { ApiError } from './api-error.js';

/** Largest request body the admin API reads (bodies are small JSON objects). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * Reads a JSON object body: refused with PAYLOAD_TOO_LARGE past MAX_BODY_BYTES (checked on the
 * declared length first, then while reading, so a lying length cannot make it buffer more),
 * UNSUPPORTED_MEDIA_TYPE for another content type, MALFORMED_JSON when it does not parse or is not
 * an object. An empty body is `{}`.
 */
export async function readJsonObject(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    req.resume();
    throw new ApiError('PAYLOAD_TOO_LARGE', `the body is ${declared} bytes; the admin API reads at most ${MAX_BODY_BYTES}`);
  }
  const type = req.headers['content-type'];
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      req.destroy();
      throw new ApiError('PAYLOAD_TOO_LARGE', `the body is over ${MAX_BODY_BYTES} bytes, the most the admin API reads`);
    }
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (type !== undefined && !/^application\/json\b/i.test(type)) throw new ApiError('UNSUPPORTED_MEDIA_TYPE', `send application/json, not ${type}`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (err) {
    throw new ApiError('MALFORMED_JSON', `the body is not JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ApiError('MALFORMED_JSON', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Field readers that refuse with a message naming the field. */
export const field = {
  string(o: Record<string, unknown>, name: string, required = true): string | undefined {
    const v = o[name];
    if (v === undefined && !required) return undefined;
    if (typeof v !== 'string' || v.length === 0) throw new ApiError('BAD_REQUEST', `"${name}" must be a non-empty string`);
    return v;
  },
  int(o: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
    const v = o[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
      throw new ApiError('BAD_REQUEST', `"${name}" must be an integer from ${min} to ${max}`);
    return v;
  },
};
