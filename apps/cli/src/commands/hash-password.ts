import { hashPassword } from '@apogee/broker';
import type { Context } from '../context.js';
import type { Command } from './command.js';

/** `hash-password PASSWORD`: the scrypt hash to put into the config file's auth.users[].password. */
export const hashPasswordCommand: Command = {
  path: ['hash-password'],
  args: ['PASSWORD'],
  summary: 'print the scrypt hash of a password for the config file (auth.users[].password)',
  options: [],
  notes: ['Runs locally; needs no server.'],
  async run(ctx: Context, args) {
    const [password] = args.positionals as [string];
    const hash = await hashPassword(password);
    ctx.emit({ hash }, () => hash);
  },
};
