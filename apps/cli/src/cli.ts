import { UsageError, parseOptions, resolveCommand } from './args.js';
import { COMMANDS } from './commands/index.js';
import { Context, type Sink } from './context.js';
import { describeError, nameServerList } from './errors.js';
import { tlsFromArgs } from './tls-options.js';
import { DEFAULT_HTTP, DEFAULT_NAMESRV, GLOBAL_OPTIONS, usageFor } from './usage.js';
import type { Credentials, HttpSettings } from './context.js';

export interface RunOptions {
  env?: Readonly<Record<string, string | undefined>>;
  sink: Sink;
  signal?: AbortSignal;
}

/**
 * Runs one command line and resolves with the exit status: 0 done, 1 the command failed (broker
 * error, unreachable NameServer …), 2 the command line is wrong (the usage is printed).
 */
export async function runCli(argv: readonly string[], opts: RunOptions): Promise<number> {
  const { sink } = opts;
  let ctx: Context | undefined;
  let nameServers: string[] = [];
  try {
    const line = resolveCommand(argv, COMMANDS, GLOBAL_OPTIONS);
    const cmd = line.command;
    const args = parseOptions(line.rest, [...GLOBAL_OPTIONS, ...(cmd?.options ?? [])], line.path);
    if (args.flag('help')) {
      sink.out(usageFor(line.path, COMMANDS));
      return 0;
    }
    if (cmd === undefined) throw new UsageError('no command given', line.path);
    if (args.positionals.length !== cmd.args.length) {
      const what =
        args.positionals.length < cmd.args.length
          ? `missing ${cmd.args.slice(args.positionals.length).join(' ')}`
          : `unexpected argument ${JSON.stringify(args.positionals[cmd.args.length])}`;
      throw new UsageError(what, cmd.path);
    }
    const namesrv = args.str('namesrv') ?? opts.env?.['APOGEE_NAMESRV'] ?? DEFAULT_NAMESRV;
    nameServers = nameServerList(namesrv);
    if (nameServers.length === 0) throw new UsageError('--namesrv needs HOST:PORT', cmd.path);
    const tls = tlsFromArgs(args, opts.env ?? {}, cmd.path);
    const credentials = credentialsFrom(args.str('access-key'), args.str('secret-key'), opts.env, cmd.path);
    ctx = new Context(
      namesrv,
      args.flag('json'),
      sink,
      opts.signal,
      credentials,
      tls,
      httpSettingsFrom(args.str('http'), args.str('user'), args.str('password'), opts.env, cmd.path),
      opts.env ?? {},
    );
    await cmd.run(ctx, args);
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      sink.err(`error: ${err.message}`);
      sink.err(usageFor(err.path, COMMANDS));
      return 2;
    }
    sink.err(describeError(err, nameServers));
    return 1;
  } finally {
    await ctx?.close();
  }
}

/** --access-key/--secret-key, else APOGEE_ACCESS_KEY/APOGEE_SECRET_KEY; both or neither. */
function credentialsFrom(
  accessFlag: string | undefined,
  secretFlag: string | undefined,
  env: Readonly<Record<string, string | undefined>> | undefined,
  path: readonly string[],
): Credentials | undefined {
  const accessKey = accessFlag ?? env?.['APOGEE_ACCESS_KEY'];
  const secretKey = secretFlag ?? env?.['APOGEE_SECRET_KEY'];
  if (!accessKey && !secretKey) return undefined;
  if (!accessKey || !secretKey) throw new UsageError('--access-key and --secret-key go together (or APOGEE_ACCESS_KEY and APOGEE_SECRET_KEY)', path);
  return { accessKey, secretKey };
}

/** --http/--user/--password, else APOGEE_HTTP/APOGEE_USER/APOGEE_PASSWORD; a user needs a password. */
function httpSettingsFrom(
  urlFlag: string | undefined,
  userFlag: string | undefined,
  passwordFlag: string | undefined,
  env: Readonly<Record<string, string | undefined>> | undefined,
  path: readonly string[],
): HttpSettings {
  const url = urlFlag ?? (env?.['APOGEE_HTTP'] || DEFAULT_HTTP);
  const username = userFlag ?? (env?.['APOGEE_USER'] || undefined);
  const password = passwordFlag ?? env?.['APOGEE_PASSWORD'];
  if (username === undefined) {
    if (passwordFlag !== undefined) throw new UsageError('--password needs --user (or APOGEE_USER)', path);
    return { url };
  }
  if (password === undefined) throw new UsageError(`--user ${username} needs --password (or APOGEE_PASSWORD)`, path);
  return { url, user: { username, password } };
}
