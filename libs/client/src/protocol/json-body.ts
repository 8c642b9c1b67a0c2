import { ClientError, ClientErrorCode } from '../errors.js';

/**
 * Parses a JSON response body. Java servers answer old clients with fastjson's non-standard
 * bare integer keys (`{0:"ip:port"}`); when strict parsing fails those keys are quoted and the
 * body is parsed again.
 */
export function parseJsonBody(body: Buffer | undefined, what: string): unknown {
  if (!body || body.length === 0) throw new ClientError(ClientErrorCode.BROKER, `${what}: empty response body`);
  const text = body.toString('utf8');
  try {
    return JSON.parse(text);
  } catch (first) {
    try {
      return JSON.parse(quoteBareIntegerKeys(text));
    } catch {
      throw new ClientError(ClientErrorCode.BROKER, `${what}: response body is not JSON`, { cause: first });
    }
  }
}

/** Quotes object keys that are bare integers, outside string literals. */
export function quoteBareIntegerKeys(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    if (c === '{' || c === ',') {
      const m = /^(\s*)(-?\d+)(\s*):/.exec(text.slice(i + 1, i + 40));
      if (m) {
        out += `${c}${m[1]}"${m[2]}"${m[3]}:`;
        i += m[0].length;
        continue;
      }
    }
    out += c;
  }
  return out;
}

/** Narrowing helpers for parsed bodies. */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function asString(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : fallback;
}

export function asNumber(v: unknown, fallback = 0): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : fallback;
}
