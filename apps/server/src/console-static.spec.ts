import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { consoleStatic } from './console-static.js';

let dir: string;
let server: http.Server;
let base: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-console-'));
  fs.mkdirSync(path.join(dir, 'console/assets'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'console/index.html'), '<!doctype html><title>console</title>');
  fs.writeFileSync(path.join(dir, 'console/assets/main-ABC123.js'), 'console.log(1)');
  fs.writeFileSync(path.join(dir, 'console/assets/main-ABC123.css'), 'body{}');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'outside');
  const handler = consoleStatic(path.join(dir, 'console'));
  server = http.createServer((req, res) => {
    if (!handler(req, res)) res.writeHead(404, { 'content-type': 'text/plain' }).end('not the console\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A raw request (fetch would normalize `..` away before sending). */
function get(p: string, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/`, { method, path: p }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('console-static', () => {
  it('serves index.html at / and for client-side routes, not cached, with the security headers', async () => {
    for (const p of ['/', '/topics', '/groups/G1', '/messages/ABC?topic=T']) {
      const r = await get(p);
      expect(r.status, p).toBe(200);
      expect(r.body).toContain('<title>console</title>');
      expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(r.headers['cache-control']).toBe('no-cache');
      expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
      expect(r.headers['content-security-policy']).not.toMatch(/unsafe-inline/);
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
    }
  });

  it('serves hashed assets with their type and long caching; HEAD has no body', async () => {
    const js = await get('/assets/main-ABC123.js');
    expect(js).toMatchObject({ status: 200, body: 'console.log(1)' });
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get('/assets/main-ABC123.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    const head = await get('/assets/main-ABC123.js', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe('14');
  });

  it('answers 404 for a missing asset and dotfiles, and never leaves its directory', async () => {
    expect((await get('/assets/nope-1.js')).status).toBe(404);
    expect((await get('/.env')).status).toBe(404);
    for (const p of [
      '/../secret.txt',
      '/assets/../../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..%5csecret.txt',
      '/a%00.js',
    ]) {
      const r = await get(p);
      expect(r.status, p).toBeGreaterThanOrEqual(400);
      expect(r.body, p).not.toContain('outside');
    }
    expect((await get('/%E0%A4%A')).status).toBe(400);
  });

  it('leaves /api, /metrics, /health and other methods to the caller', async () => {
    for (const p of ['/api', '/api/v1/nothing', '/metrics', '/health', '/metrics?x=1']) expect((await get(p)).body, p).toBe('not the console\n');
    expect((await get('/', 'POST')).body).toBe('not the console\n');
  });

  it('says how to build the console when it is not built', async () => {
    const handler = consoleStatic(path.join(dir, 'absent'));
    const s = http.createServer((req, res) => void handler(req, res));
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    try {
      const res = await fetch(`http://127.0.0.1:${(s.address() as AddressInfo).port}/topics`);
      expect(res.status).toBe(503);
      expect(await res.text()).toMatch(/npm run build/);
    } finally {
      await new Promise((r) => s.close(r));
    }
  });
});
