/*
 * Where a server's CPU went, from a V8 CPU profile (`node --cpu-prof`): the share of sampled
 * non-idle time in rhea, in our rhea patches, in our codec, in the rest of libs/amqp, in the rest
 * of Apogee, in other dependencies, in GC and in the VM. Two views: self time by the file of the
 * function itself, and self time with Node's own functions (node:*, natives) charged to the
 * nearest caller outside them (so rhea's Buffer.concat counts for rhea). Used for docs/amqp.md
 * ("rhea: patches or an engine of our own"). Samples before the first one with rhea on its stack
 * (start-up: module loading, store recovery) are left out, so the shares are those under AMQP load:
 *
 *   npx tsx libs/amqp/test/rhea-profile.ts /tmp/prof/s/CPU.*.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

type Category =
  | 'rhea'
  | 'rhea patches (libs/amqp/src/rhea)'
  | 'codec (libs/amqp/src/codec)'
  | 'rest of libs/amqp'
  | 'rest of Apogee (store, broker, ...)'
  | 'other dependencies'
  | 'node / V8 builtins'
  | 'GC'
  | 'VM (program)';

export function categoryOf(url: string, name: string): Category | 'idle' {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || name === '(root)') return 'VM (program)';
  if (url.includes('/node_modules/rhea/')) return 'rhea';
  if (url.includes('/libs/amqp/src/rhea/')) return 'rhea patches (libs/amqp/src/rhea)';
  if (url.includes('/libs/amqp/src/codec/')) return 'codec (libs/amqp/src/codec)';
  if (url.includes('/libs/amqp/src/')) return 'rest of libs/amqp';
  if (url.includes('/node_modules/')) return 'other dependencies';
  if (url.includes('/libs/') || url.includes('/apps/')) return 'rest of Apogee (store, broker, ...)';
  return 'node / V8 builtins';
}

export function shares(p: Profile): { total: number; self: Map<string, number>; charged: Map<string, number> } {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const own = new Map<number, Category | 'idle'>();
  for (const n of p.nodes) own.set(n.id, categoryOf(n.callFrame.url, n.callFrame.functionName));
  const chargedCat = (id: number): Category | 'idle' => {
    let cur: number | undefined = id;
    while (cur !== undefined) {
      const c = own.get(cur)!;
      if (c !== 'node / V8 builtins') return c;
      cur = parent.get(cur);
      if (cur !== undefined && byId.get(cur)!.callFrame.functionName === '(root)') break;
    }
    return 'node / V8 builtins';
  };
  const self = new Map<string, number>();
  const charged = new Map<string, number>();
  let total = 0;
  const rheaOnStack = (id: number): boolean => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) if (own.get(cur) === 'rhea') return true;
    return false;
  };
  let first = p.samples.findIndex((id) => rheaOnStack(id));
  if (first < 0) first = p.samples.length;
  for (let i = first; i < p.samples.length; i++) {
    const id = p.samples[i]!;
    const dt = p.timeDeltas[i] ?? 0;
    const c = own.get(id)!;
    if (c === 'idle') continue;
    total += dt;
    self.set(c, (self.get(c) ?? 0) + dt);
    const ch = chargedCat(id);
    charged.set(ch, (charged.get(ch) ?? 0) + dt);
  }
  return { total, self, charged };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  for (const file of process.argv.slice(2)) {
    const r = shares(JSON.parse(readFileSync(file, 'utf8')) as Profile);
    console.log(`${file}: ${(r.total / 1e6).toFixed(2)} s sampled, not idle`);
    const cats = [...new Set([...r.self.keys(), ...r.charged.keys()])].sort((a, b) => (r.charged.get(b) ?? 0) - (r.charged.get(a) ?? 0));
    console.log('  category                               self    builtins charged to caller');
    for (const c of cats)
      console.log(
        `  ${c.padEnd(36)} ${((100 * (r.self.get(c) ?? 0)) / r.total).toFixed(1).padStart(5)} %  ${((100 * (r.charged.get(c) ?? 0)) / r.total).toFixed(1).padStart(5)} %`,
      );
  }
}
