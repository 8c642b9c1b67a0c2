/** vitest globalSetup: the production build the harness's processes run (never a stale dist/). */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

export default function setup(): void {
  const root = path.resolve(import.meta.dirname, '../../..');
  const r = spawnSync(process.execPath, [path.join(root, 'tools/build.mjs')], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the production build (tools/build.mjs) failed:\n${r.stderr}`);
}
