// The production build: one esbuild pass bundles each app's TypeScript, the workspace libraries and
// the pure-JavaScript packages they import into plain ESM under dist/ (a second builds the web
// console for the browser into dist/console/, buildConsole below), so `npm start` runs compiled
// JavaScript with no compiler at run time and fewer modules to resolve and load at start. Packages in
// EXTERNAL load from node_modules as they are: native ones (lmdb, @node-rs/crc32, ws' optional
// helpers) and rhea, which libs/amqp patches at run time through require() and which must therefore
// be the one copy every import sees.
import { build } from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');

/** Packages left to Node at run time (see above). */
const EXTERNAL = /^(lmdb|rhea|@node-rs\/[^/]+|bufferutil|utf-8-validate)(\/|$)/;

const thirdPartyExternal = {
  name: 'third-party-external',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (EXTERNAL.test(args.path) ? { path: args.path, external: true } : undefined));
  },
};

const started = Date.now();
const result = await build({
  absWorkingDir: root,
  entryPoints: {
    'server/main': 'apps/server/src/main.ts',
    'cli/main': 'apps/cli/src/main.ts',
    'namesrv/main': 'apps/namesrv/src/main.ts',
    'mqtt-gateway/main': 'apps/mqtt-gateway/src/main.ts',
    'amqp-gateway/main': 'apps/amqp-gateway/src/main.ts',
  },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  metafile: true,
  write: false,
  logLevel: 'warning',
  plugins: [thirdPartyExternal],
  // mqtt-packet's BufferList (bl) pulls in readable-stream, a userland copy of Node's streams
  // (≈ 200 KiB with its polyfills) that Node already has built in.
  alias: { 'readable-stream': 'node:stream' },
  // Bundled CommonJS packages call require(); an ESM bundle has none of its own.
  banner: { js: "import { createRequire as __apogeeCreateRequire } from 'node:module'; const require = __apogeeCreateRequire(import.meta.url);" },
});
const consoleOut = await buildConsole();
const outputFiles = [...result.outputFiles, ...consoleOut.files];

/**
 * The web console (apps/console: Preact and uPlot, TSX) for the browser into dist/console/:
 * minified, its script and stylesheet under assets/ named by content hash (the server caches
 * those for good, apps/server/src/console-static.ts), index.html written from the project's
 * template naming them, and apps/console/public/ (the icon) copied. The script stays a file: the console's CSP allows no inline script.
 */
async function buildConsole() {
  const out = await build({
    absWorkingDir: root,
    entryPoints: { main: 'apps/console/src/main.tsx' },
    outdir: 'dist/console',
    entryNames: 'assets/[name]-[hash]',
    assetNames: 'assets/[name]-[hash]',
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome111', 'edge111', 'firefox115', 'safari16.4'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'warning',
    tsconfig: 'apps/console/tsconfig.json',
  });
  const [js, entry] = Object.entries(out.metafile.outputs).find(([, o]) => o.entryPoint === 'apps/console/src/main.tsx');
  const url = (file) => '/' + path.relative(path.join(root, 'dist/console'), path.join(root, file)).split(path.sep).join('/');
  const template = fs.readFileSync(path.join(root, 'apps/console/index.html'), 'utf8');
  const html = template.replace('__CONSOLE_JS__', url(js)).replace('__CONSOLE_CSS__', url(entry.cssBundle));
  const index = { path: path.join(root, 'dist/console/index.html'), contents: Buffer.from(html) };
  // Files under public/ (the icon) are copied as they are.
  const publicDir = path.join(root, 'apps/console/public');
  const copied = fs
    .readdirSync(publicDir)
    .map((name) => ({ path: path.join(root, 'dist/console', name), contents: fs.readFileSync(path.join(publicDir, name)) }));
  return { files: [...out.outputFiles, index, ...copied], metafile: out.metafile };
}

// Only files whose content changed are written, each to a temporary name and renamed into place, so
// a server starting from dist/ while another build runs (tests, `npm start`) never reads a file
// half-written. Chunk names carry a content hash: the ones this build no longer references are
// dropped afterwards (nothing is deleted before, so a running server keeps what it loaded).
let written = 0;
for (const out of outputFiles) {
  let same = false;
  try {
    same = Buffer.compare(fs.readFileSync(out.path), out.contents) === 0;
  } catch {
    // not there yet
  }
  if (same) continue;
  fs.mkdirSync(path.dirname(out.path), { recursive: true });
  const tmp = `${out.path}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, out.contents);
  fs.renameSync(tmp, out.path);
  written++;
}
const outputs = new Set(outputFiles.map((o) => o.path));
for (const entry of fs.readdirSync(path.join(root, 'dist'), { recursive: true, withFileTypes: true })) {
  const file = path.join(entry.parentPath, entry.name);
  if (entry.isFile() && !outputs.has(file) && !file.endsWith('.tmp')) fs.rmSync(file, { force: true });
}
const bytes = [result, consoleOut].flatMap((r) => Object.values(r.metafile.outputs)).reduce((n, o) => n + o.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length + Object.keys(consoleOut.metafile.inputs).length;
process.stderr.write(`apogee: built dist/ (${inputs} sources, ${(bytes / 1024).toFixed(0)} KiB, ${written} files changed) in ${Date.now() - started} ms\n`);
