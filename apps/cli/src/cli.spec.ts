import { describe, expect, it } from 'vitest';
import { runCli } from './cli.js';

async function run(argv: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { env, sink: { out: (l) => out.push(l), err: (l) => err.push(l) } });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

// Only command lines that never reach the network: usage, help and argument errors.
describe('runCli without a cluster', () => {
  it('prints the global usage for --help and lists every command', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['cluster', 'topic create NAME', 'group progress GROUP', 'message get OFFSET_MSG_ID', 'send TOPIC BODY', 'consume TOPIC'])
      expect(r.out).toContain(c);
  });

  it('prints a group usage and a command usage', async () => {
    expect((await run(['group', '--help'])).out).toContain('usage: apogee group <progress|consumers|reset-offset|skip-backlog>');
    const r = await run(['topic', 'create', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('usage: apogee topic create NAME [options]');
    expect(r.out).toContain('--read-queues N');
  });

  it('exits 2 with the usage for an empty line, an unknown command or option, or wrong arguments', async () => {
    const none = await run([]);
    expect(none.code).toBe(2);
    expect(none.err).toContain('error: no command given');
    const unknown = await run(['frobnicate']);
    expect(unknown).toMatchObject({ code: 2, out: '' });
    expect(unknown.err).toMatch(/^error: unknown command "frobnicate"\nusage: apogee /);
    const opt = await run(['send', 'T', 'B', '--nope']);
    expect(opt.code).toBe(2);
    expect(opt.err).toContain('error: unknown option --nope\nusage: apogee send TOPIC BODY');
    expect((await run(['send', 'T'])).err).toContain('error: missing BODY');
    expect((await run(['topic', 'list', 'extra'])).err).toContain('error: unexpected argument "extra"');
    expect((await run(['topic', 'create', 'T', '--queues', '2', '--read-queues', '2'])).code).toBe(2);
    expect((await run(['consume', 'T', '--from', 'middle'])).code).toBe(2);
    expect((await run(['send', 'T', 'B', '--prop', 'novalue'])).code).toBe(2);
    expect((await run(['cluster', '--namesrv', ';'])).code).toBe(2);
  });
});
