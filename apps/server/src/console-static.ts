import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The web console's files (apps/console, built by tools/build.mjs into dist/console/) on the HTTP
 * port: `/` and every path without a file extension (the console's own routes: /topics,
 * /groups/G) answer index.html, which names its script and stylesheet under /assets/ by content
 * hash. Paths the HTTP port serves otherwise (/api, /metrics, /health) and other methods than GET
 * and HEAD are not the console's: the caller answers them as before.
 */
export type ConsoleHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

/**
 * Every console answer carries these. The page loads nothing but its own files (no inline script:
 * the build writes the script as a file), talks only to its origin, and is never framed.
 */
export const CONSOLE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
};

/** Paths the HTTP port answers without the console, whatever it holds. */
const NOT_OURS = /^\/(api|metrics|health)(\/|$)/;

/**
 * dist/console next to the running bundle: the server's entry is dist/server/main.mjs, a shared
 * chunk sits in dist/ itself. Running from sources (`npm run dev`: this file is
 * apps/server/src/console-static.ts) it is the repository's dist/console, if a build made one.
 */
export function defaultConsoleDir(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const fromSources = here.endsWith(path.join('apps', 'server', 'src'));
  const candidates = fromSources ? [path.resolve(here, '../../../dist/console')] : [path.resolve(here, '../console'), path.resolve(here, 'console')];
  return candidates.find((d) => fs.existsSync(path.join(d, 'index.html'))) ?? candidates[0]!;
}

/** A handler serving the console built in `dir` (see ConsoleHandler). */
export function consoleStatic(dir: string = defaultConsoleDir()): ConsoleHandler {
  const root = path.resolve(dir);
  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const rawPath = (req.url ?? '/').split(/[?#]/, 1)[0]!;
    if (NOT_OURS.test(rawPath)) return false;
    void serve(root, rawPath, req, res);
    return true;
  };
}

async function serve(root: string, rawPath: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const head = req.method === 'HEAD';
  const text = (status: number, body: string) => {
    res.writeHead(status, { ...CONSOLE_SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(head ? undefined : body);
  };
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return text(400, 'bad request: the path is not valid percent-encoding\n');
  }
  // Refused before anything is resolved: NUL, backslashes (a path separator on some systems) and
  // any `..` segment; the resolved file must still lie inside the root (symbolic links aside).
  const segments = decoded.split('/');
  if (decoded.includes('\0') || decoded.includes('\\') || segments.some((s) => s === '..')) return text(400, 'bad request: path not allowed\n');
  const last = segments[segments.length - 1]!;
  const isAsset = last.includes('.');
  if (segments.some((s) => s.startsWith('.') && s.length > 0)) return text(404, 'not found\n');
  const file = isAsset ? path.resolve(root, '.' + path.posix.normalize(decoded)) : path.join(root, 'index.html');
  if (file !== root && !file.startsWith(root + path.sep)) return text(400, 'bad request: path not allowed\n');
  let body: Buffer;
  try {
    body = await fs.promises.readFile(file);
  } catch {
    if (!fs.existsSync(path.join(root, 'index.html'))) {
      return text(503, 'the web console is not built: run `npm run build` (npm start builds it), then reload\n');
    }
    return text(404, `not found: ${rawPath}\n`);
  }
  const name = path.basename(file);
  const ext = path.extname(name).toLowerCase();
  // Files under assets/ carry their content hash in the name: a new build gives new names.
  const hashed = path.relative(root, file).startsWith(`assets${path.sep}`);
  res.writeHead(200, {
    ...CONSOLE_SECURITY_HEADERS,
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'content-length': body.length,
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
  });
  res.end(head ? undefined : body);
}
