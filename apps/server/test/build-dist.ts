/**
 * vitest globalSetup: builds dist/ (tools/build.mjs) once per run, so the server processes these
 * tests start are the production build that `npm start` runs, and never a stale one.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const repoRoot = path.resolve(import.meta.dirname, '../../..');
  const r = spawnSync(process.execPath, [path.join(repoRoot, 'tools/build.mjs')], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the production build failed:\n${r.stderr}`);
}
