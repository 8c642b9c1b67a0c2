import { ApiError } from './api-error.js';

/** Path parameters by name (`/topics/:topic` → { topic }), URI-decoded. */
export type PathParams = Readonly<Record<string, string>>;

interface Route<H> {
  method: string;
  parts: string[];
  handler: H;
}

/**
 * Method + path templates (`/api/v1/topics/:topic`) to handlers. A path that matches no template
 * is NOT_FOUND; one that matches only for other methods is METHOD_NOT_ALLOWED naming them.
 */
export class Router<H> {
  private readonly routes: Array<Route<H>> = [];

  add(method: string, template: string, handler: H): this {
    this.routes.push({ method, parts: template.split('/').filter((p) => p.length > 0), handler });
    return this;
  }

  match(method: string, path: string): { handler: H; params: PathParams } {
    const segments = path.split('/').filter((p) => p.length > 0);
    const allowed: string[] = [];
    for (const r of this.routes) {
      const params = matchParts(r.parts, segments);
      if (params === null) continue;
      if (r.method === method) return { handler: r.handler, params };
      allowed.push(r.method);
    }
    if (allowed.length > 0) throw new ApiError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${path}; use ${allowed.join(', ')}`);
    throw new ApiError('NOT_FOUND', `no admin route ${path} (see docs/admin-api.openapi.json)`);
  }

  /** Every template, for the API index. */
  list(): Array<{ method: string; path: string }> {
    return this.routes.map((r) => ({ method: r.method, path: '/' + r.parts.join('/') }));
  }
}

function matchParts(parts: readonly string[], segments: readonly string[]): Record<string, string> | null {
  if (parts.length !== segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    const s = segments[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(s);
      } catch {
        throw new ApiError('BAD_REQUEST', `path segment ${JSON.stringify(s)} is not valid percent-encoding`);
      }
    } else if (p !== s) return null;
  }
  return params;
}
