/** Help texts, rendered from the command table and option specs (no I/O). */
import type { OptionSpec } from './args.js';
import type { Command } from './commands/command.js';
import { TLS_OPTIONS } from './tls-options.js';

export const PROGRAM = 'apogee';
export const DEFAULT_NAMESRV = '127.0.0.1:9876';
export const DEFAULT_HTTP = 'http://127.0.0.1:8080';

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'namesrv', kind: 'string', value: 'HOST:PORT', help: `NameServer address, ";" between several (default ${DEFAULT_NAMESRV}, env APOGEE_NAMESRV)` },
  { name: 'access-key', kind: 'string', value: 'KEY', help: 'sign requests (RocketMQ ACL 1.0) with this access key (env APOGEE_ACCESS_KEY)' },
  { name: 'secret-key', kind: 'string', value: 'KEY', help: 'the secret key to sign with (env APOGEE_SECRET_KEY)' },
  {
    name: 'http',
    kind: 'string',
    value: 'URL',
    help: `the server's HTTP admin API, for mqtt/amqp/acl/timer and offset commands (default ${DEFAULT_HTTP}, env APOGEE_HTTP; https:// verifies the server with --tls-ca and presents --tls-cert/--tls-key)`,
  },
  { name: 'user', kind: 'string', value: 'NAME', help: 'admin user for the HTTP admin API (env APOGEE_USER)' },
  { name: 'password', kind: 'string', value: 'PW', help: 'its password (env APOGEE_PASSWORD, which keeps it out of the process list)' },
  { name: 'json', kind: 'flag', help: 'machine-readable output: one JSON document per line' },
  ...TLS_OPTIONS,
  { name: 'help', kind: 'flag', help: 'show help' },
];

function optionLines(specs: readonly OptionSpec[]): string[] {
  const left = specs.map((s) => `  --${s.name}${s.value ? ` ${s.value}` : ''}${s.name === 'help' ? ', -h' : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return specs.map((s, i) => `${left[i]!.padEnd(width)}${s.help}`);
}

function synopsis(c: Command): string {
  return [...c.path, ...c.args].join(' ');
}

/** The usage of every command (`--help`, or a command line naming none). */
export function globalUsage(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => synopsis(c).length)) + 2;
  return [
    `usage: ${PROGRAM} [--namesrv HOST:PORT] [--json] [--tls [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]] <command> [options]   (npm run cli -- …)`,
    '',
    'commands:',
    ...commands.map((c) => `  ${synopsis(c).padEnd(width)}${c.summary}`),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
    '',
    `"${PROGRAM} <command> --help" shows a command's options. Exit status: 0 ok, 1 error, 2 usage.`,
  ].join('\n');
}

/** The usage of the commands under one word (`topic --help`). */
export function groupUsage(word: string, commands: readonly Command[]): string {
  const family = commands.filter((c) => c.path[0] === word);
  const width = Math.max(...family.map((c) => synopsis(c).length)) + 2;
  return [
    `usage: ${PROGRAM} ${word} <${family.map((c) => c.path[1]).join('|')}> [options]`,
    '',
    ...family.map((c) => `  ${synopsis(c).padEnd(width)}${c.summary}`),
  ].join('\n');
}

export function commandUsage(c: Command): string {
  return [
    `usage: ${PROGRAM} ${synopsis(c)}${c.options.length > 0 ? ' [options]' : ''}`,
    '',
    c.summary,
    ...(c.notes ?? []),
    ...(c.options.length > 0 ? ['', 'options:', ...optionLines(c.options)] : []),
    '',
    'global options:',
    ...optionLines(GLOBAL_OPTIONS),
  ].join('\n');
}

/** The usage that fits a command path: a command's, a group's, or the global one. */
export function usageFor(path: readonly string[], commands: readonly Command[]): string {
  const exact = commands.find((c) => c.path.length === path.length && c.path.every((w, i) => w === path[i]));
  if (exact) return commandUsage(exact);
  if (path.length > 0 && commands.some((c) => c.path[0] === path[0])) return groupUsage(path[0]!, commands);
  return globalUsage(commands);
}
