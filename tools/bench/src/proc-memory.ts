/**
 * Resident memory of a process split by kind, from Linux /proc/<pid>/status: anonymous memory
 * (heap, malloc, stacks), file-backed pages (mapped binaries, libraries, LMDB's map) and shared
 * memory. VmRSS alone mixes the three, and a mapped file's pages are the kernel's to reclaim.
 */
import { readdir, readFile } from 'node:fs/promises';

/** Resident bytes of a process (or a process tree), by kind. */
export interface ProcMemory {
  /** VmRSS: everything resident. */
  rss: number;
  /** RssAnon: anonymous pages (JS heap, Buffers, malloc arenas, stacks). */
  anon: number;
  /** RssFile: pages of mapped files (code, libraries, memory-mapped data files). */
  file: number;
  /** RssShmem: shared memory (tmpfs, SysV, shared anonymous mappings). */
  shmem: number;
}

const FIELDS: ReadonlyArray<[keyof ProcMemory, string]> = [
  ['rss', 'VmRSS'],
  ['anon', 'RssAnon'],
  ['file', 'RssFile'],
  ['shmem', 'RssShmem'],
];

/** The four figures of a /proc/<pid>/status text, in bytes; throws if one is missing. */
export function parseProcStatus(text: string): ProcMemory {
  const out: ProcMemory = { rss: 0, anon: 0, file: 0, shmem: 0 };
  for (const [key, field] of FIELDS) {
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    if (!m) throw new Error(`no ${field} in /proc status`);
    out[key] = Number(m[1]) * 1024;
  }
  return out;
}

/** Sum of two readings (a process tree). */
export function addMemory(a: ProcMemory, b: ProcMemory): ProcMemory {
  return { rss: a.rss + b.rss, anon: a.anon + b.anon, file: a.file + b.file, shmem: a.shmem + b.shmem };
}

/** Resident memory of one process. */
export async function readProcMemory(pid: number): Promise<ProcMemory> {
  return parseProcStatus(await readFile(`/proc/${pid}/status`, 'utf8'));
}

/** Direct children of a process (every thread's list: a child may belong to any of them). */
async function childrenOf(pid: number): Promise<number[]> {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = await readdir(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const t of tasks) {
    try {
      const s = await readFile(`/proc/${pid}/task/${t}/children`, 'utf8');
      for (const c of s.split(/\s+/)) if (c) out.push(Number(c));
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

/**
 * Resident memory of a process and all its descendants: a broker started through a wrapper
 * script (RabbitMQ's runs the Erlang VM as its child) is measured whole. Processes that exit
 * while being read are left out.
 */
export async function readTreeMemory(pid: number): Promise<ProcMemory> {
  let total = await readProcMemory(pid);
  const todo = await childrenOf(pid);
  for (let p = todo.pop(); p !== undefined; p = todo.pop()) {
    try {
      total = addMemory(total, await readProcMemory(p));
    } catch {
      continue;
    }
    todo.push(...(await childrenOf(p)));
  }
  return total;
}

/** MiB, for tables. */
export const MiB = 1024 * 1024;

/**
 * Resident bytes of a process's mappings of files whose path ends with `suffix` (from
 * /proc/<pid>/smaps), e.g. `/data.mdb` for LMDB's map: the part of RssFile that is data, not code.
 */
export async function readMappedRss(pid: number, suffix: string): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps`, 'utf8');
  let inFile = false;
  let kb = 0;
  for (const line of text.split('\n')) {
    // A mapping's header: "start-end perms offset dev inode [path]"; its fields follow.
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (header) {
      inFile = header[1]!.endsWith(suffix);
      continue;
    }
    if (inFile && line.startsWith('Rss:')) kb += Number(/(\d+)/.exec(line)![1]);
  }
  return kb * 1024;
}
