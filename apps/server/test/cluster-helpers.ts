/**
 * Processes and lookups of the cluster tests: standalone NameServers as `npm run namesrv` starts
 * them, what a NameServer routes, and polling until something holds.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { type AclCredentials, RemotingClient, RequestCode, ResponseCode, aclSigner, makeRequest } from '@apogee/remoting';
import { freePort } from './server-process.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const namesrvMain = path.join(repoRoot, 'dist/namesrv/main.mjs');

export interface Namesrv {
  proc: ChildProcess;
  addr: string;
  output: () => string;
}

/** Starts `dist/namesrv/main.mjs` on a free loopback port and waits until it listens. */
export async function startNamesrv(extra: string[] = []): Promise<Namesrv> {
  const port = await freePort();
  const proc = spawn(process.execPath, [namesrvMain, '--port', String(port), '--listen-host', '127.0.0.1', ...extra], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 300 && !out.includes('namesrv: listening') && proc.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  if (!out.includes('namesrv: listening')) throw new Error(`namesrv did not start:\n${out}`);
  return { proc, addr: `127.0.0.1:${port}`, output: () => out };
}

/** SIGKILLs a NameServer this test started (by its PID) and waits until it is gone. */
export async function killNamesrv(n: Namesrv): Promise<void> {
  if (n.proc.exitCode !== null || n.proc.signalCode !== null) return;
  const gone = new Promise((r) => n.proc.once('exit', r));
  n.proc.kill('SIGKILL');
  await gone;
}

/** The route a NameServer gives for `topic` (GET_ROUTEINFO_BY_TOPIC), or null when it has none. */
export async function topicRoute(
  namesrvAddr: string,
  topic: string,
  creds?: AclCredentials,
): Promise<{ brokerDatas: Array<{ brokerName: string; brokerAddrs: Record<string, string> }> } | null> {
  const c = new RemotingClient(creds ? { beforeRequest: aclSigner(creds) } : {});
  try {
    const res = await c.invoke(namesrvAddr, makeRequest(RequestCode.GET_ROUTEINFO_BY_TOPIC, { extFields: { topic } }));
    if (res.code !== ResponseCode.SUCCESS) return null;
    return JSON.parse(res.body!.toString('utf8')) as { brokerDatas: Array<{ brokerName: string; brokerAddrs: Record<string, string> }> };
  } finally {
    c.close();
  }
}

/** The broker names a NameServer routes the topic to, sorted. */
export async function routedBrokers(namesrvAddr: string, topic: string, creds?: AclCredentials): Promise<string[]> {
  const route = await topicRoute(namesrvAddr, topic, creds);
  return route ? route.brokerDatas.map((b) => b.brokerName).sort() : [];
}

/** Polls `check` every 100 ms until it holds; fails naming `what` after `tries` polls. */
export async function until(what: string, check: () => boolean | Promise<boolean>, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
