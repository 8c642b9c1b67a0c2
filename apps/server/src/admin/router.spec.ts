import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { adminRouter } from './admin-api.js';
import { ApiError } from './api-error.js';
import { Router } from './router.js';

describe('Router', () => {
  const r = new Router<string>().add('GET', '/a/:x', 'get-a').add('DELETE', '/a/:x', 'del-a').add('GET', '/a/:x/b', 'get-b');

  it('matches templates with URI-decoded parameters', () => {
    expect(r.match('GET', '/a/%25RETRY%25g')).toEqual({ handler: 'get-a', params: { x: '%RETRY%g' } });
    expect(r.match('GET', '/a/1/b/')).toEqual({ handler: 'get-b', params: { x: '1' } });
  });

  it('tells an unknown path from a known path with another method', () => {
    expect(() => r.match('GET', '/c')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }) as unknown as ApiError);
    try {
      r.match('PUT', '/a/1');
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ApiError);
      expect((e as ApiError).status).toBe(405);
      expect((e as ApiError).message).toMatch(/use GET, DELETE/);
    }
    expect(() => r.match('GET', '/a/%E0%A4%A')).toThrow(/percent-encoding/);
  });
});

describe('docs/admin-api.openapi.json', () => {
  it('documents exactly the routes the API serves', () => {
    const spec = JSON.parse(fs.readFileSync(new URL('../../../../docs/admin-api.openapi.json', import.meta.url), 'utf8')) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const documented = Object.entries(spec.paths)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p.replace(/\{(\w+)\}/g, ':$1')}`))
      .sort();
    const served = adminRouter()
      .list()
      .map((r) => `${r.method} ${r.path}`)
      .sort();
    expect(documented).toEqual(served);
  });
});
