/**
 * The admin API (/api/v1 on the origin that served the console) over fetch. Credentials are the
 * HTTP Basic ones of the login, kept in sessionStorage (gone with the tab). Requests are sent with
 * `credentials: 'omit'`, so a 401 never opens the browser's own login dialog (Fetch standard: only
 * requests that include credentials prompt) and the console shows its login page instead.
 */

const STORAGE_KEY = 'apogee.console.basic';

/** An answer other than 2xx (the API's `{ error: { code, message } }`), or the server unreachable (status 0). */
export class ApiFailure extends Error {
  override readonly name = 'ApiFailure';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export const UNREACHABLE = 'UNREACHABLE';

export function savedCredentials(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveCredentials(username: string, password: string): string {
  const token = basicToken(username, password);
  sessionStorage.setItem(STORAGE_KEY, token);
  return token;
}

export function forgetCredentials(): void {
  sessionStorage.removeItem(STORAGE_KEY);
}

/** base64 of `user:password` in UTF-8 (btoa alone takes Latin-1 only). */
export function basicToken(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin);
}

/** Called when a request of a logged-in session is refused 401 (the password changed, the server restarted with another config). */
let onUnauthenticated: (() => void) | null = null;
export function setUnauthenticatedHandler(f: (() => void) | null): void {
  onUnauthenticated = f;
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Credentials to use instead of the saved ones ('' for none). */
  token?: string;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const token = opts.token ?? savedCredentials() ?? '';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token !== '') headers['authorization'] = `Basic ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: opts.method ?? 'GET',
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
    });
  } catch {
    throw new ApiFailure(0, UNREACHABLE, 'server unreachable');
  }
  const text = await res.text().catch(() => '');
  let parsed: unknown = null;
  try {
    parsed = text === '' ? null : JSON.parse(text);
  } catch {
    parsed = null;
  }
  if (!res.ok) {
    const err = (parsed as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    const failure = new ApiFailure(
      res.status,
      typeof err?.code === 'string' ? err.code : `HTTP_${res.status}`,
      typeof err?.message === 'string' ? err.message : text.trim() || res.statusText || `HTTP ${res.status}`,
    );
    if (res.status === 401 && opts.token === undefined && token !== '') onUnauthenticated?.();
    throw failure;
  }
  return parsed as T;
}

export const enc = encodeURIComponent;
