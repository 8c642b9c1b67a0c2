import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { type AuthConfig, type Authorizer, hashPassword, parseAuthConfig, remotingAccounts } from '@apogee/broker';
import { AccessValidator } from '@apogee/remoting';
import { ApiError } from './api-error.js';

/** The config file's `auth` section as written (users as the operator wrote them: rules or RocketMQ perms). */
export interface RawAuthSection {
  users?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

/** Whether the `auth` section can be edited through the API, and why not. */
export type Editability = { editable: true } | { editable: false; reason: string };

export interface AclEditorOptions {
  /** The config file the server was started with; null: none. */
  configFile: string | null;
  /** Whether the config file had an `auth` section at start (ACL is on on every port only then). */
  aclOn: boolean;
  authorizer: Authorizer;
  log: { info(obj: object, msg: string): void };
}

/** Who edits, for the audit log line. */
export interface Editor {
  username: string | undefined;
}

/**
 * Edits of the `auth` section through the admin API. Each edit reads the config file again (so
 * its other sections and hand edits are kept), changes the section, validates the result as a
 * start would (parseAuthConfig, the remoting account checks), refuses one that would leave no
 * admin able to log in to the API, writes the file atomically (temporary file, fsync, rename,
 * fsync of the directory), and only then puts it in force for every endpoint and open connection
 * (Authorizer.replace). Edits run one at a time.
 */
export class AclEditor {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: AclEditorOptions) {}

  /** Editable when the server runs from a config file with an `auth` section that it may rewrite. */
  editability(): Editability {
    const file = this.opts.configFile;
    if (file === null) return { editable: false, reason: 'the server was started without a config file (--config FILE)' };
    if (!this.opts.aclOn) return { editable: false, reason: `${file} had no "auth" section at start; add one and restart to manage users here` };
    try {
      fs.accessSync(file, fs.constants.R_OK | fs.constants.W_OK);
      fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
    } catch {
      return { editable: false, reason: `${file} (or its directory) is not writable by the server` };
    }
    return { editable: true };
  }

  /**
   * Applies `change` to the section read from the file and puts the result in force; resolves to
   * the new config. `change` throws ApiError for a refused edit (nothing is written then).
   */
  edit(editor: Editor, action: string, change: (section: RawAuthSection) => void | Promise<void>): Promise<AuthConfig> {
    const run = this.queue.then(() => this.apply(editor, action, change));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(editor: Editor, action: string, change: (section: RawAuthSection) => void | Promise<void>): Promise<AuthConfig> {
    const e = this.editability();
    if (!e.editable) throw new ApiError('CONFLICT', `users and rules are read-only here: ${e.reason}`);
    const file = this.opts.configFile!;
    const doc = await readConfigDocument(file);
    const section = doc['auth'];
    if (typeof section !== 'object' || section === null || Array.isArray(section))
      throw new ApiError('CONFLICT', `${file} has no "auth" object any more; fix the file by hand`);
    const raw = structuredClone(section) as RawAuthSection;
    await change(raw);
    let cfg: AuthConfig;
    try {
      cfg = parseAuthConfig(raw, file);
      // What the remoting port and the NameServer would refuse at start (address patterns, keys).
      new AccessValidator({
        accounts: remotingAccounts(cfg),
        allowAnonymous: cfg.allowAnonymous,
        globalWhiteRemoteAddresses: cfg.globalWhiteRemoteAddresses,
      });
    } catch (err) {
      throw new ApiError('BAD_REQUEST', (err as Error).message);
    }
    if (!adminCanLogIn(cfg))
      throw new ApiError(
        'CONFLICT',
        'refused: afterwards no admin could log in to this API (keep a user with admin and a password, or anonymous access with admin)',
      );
    await writeFileAtomically(file, `${JSON.stringify({ ...doc, auth: raw }, null, 2)}\n`);
    this.opts.authorizer.replace(cfg);
    this.opts.log.info(
      { by: editor.username ?? '(anonymous)', action, users: cfg.users.length, allowAnonymous: cfg.allowAnonymous },
      'admin-http: auth section edited',
    );
    return cfg;
  }
}

/** Users given by the API's PUT: what the config file holds, plus `newPassword` in plain text. */
export async function userEntryFrom(
  username: string,
  body: Record<string, unknown>,
  existing: Record<string, unknown> | undefined,
): Promise<Record<string, unknown>> {
  if (body['username'] !== undefined && body['username'] !== username)
    throw new ApiError('BAD_REQUEST', `the body names user ${JSON.stringify(body['username'])}, the path ${JSON.stringify(username)}`);
  const entry: Record<string, unknown> = { username };
  for (const [k, v] of Object.entries(body)) if (k !== 'username' && k !== 'newPassword' && v !== null) entry[k] = v;
  const plain = body['newPassword'];
  if (plain !== undefined) {
    if (body['password'] !== undefined)
      throw new ApiError('BAD_REQUEST', 'give either newPassword (plain text, hashed here) or password (a scrypt hash), not both');
    if (typeof plain !== 'string' || plain.length === 0) throw new ApiError('BAD_REQUEST', 'newPassword must be a non-empty string');
    entry['password'] = await hashPassword(plain);
  }
  // Secrets cannot be read back, so an edit that leaves them out keeps them; null removes them.
  if (existing) {
    if (body['password'] === undefined && plain === undefined && existing['password'] !== undefined) entry['password'] = existing['password'];
    if (body['accessKey'] === undefined && body['secretKey'] === undefined && existing['accessKey'] !== undefined) {
      entry['accessKey'] = existing['accessKey'];
      entry['secretKey'] = existing['secretKey'];
    } else if (body['secretKey'] === undefined && body['accessKey'] !== null && body['accessKey'] === existing['accessKey'])
      entry['secretKey'] = existing['secretKey'];
  }
  return entry;
}

function adminCanLogIn(cfg: AuthConfig): boolean {
  return (cfg.allowAnonymous && cfg.anonymous.admin) || cfg.users.some((u) => u.admin && u.password !== undefined);
}

async function readConfigDocument(file: string): Promise<Record<string, unknown>> {
  let doc: unknown;
  try {
    doc = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (err) {
    throw new ApiError('CONFLICT', `config file ${file} cannot be read as JSON any more (${(err as Error).message}); fix it by hand`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ApiError('CONFLICT', `config file ${file} is not a JSON object`);
  return doc as Record<string, unknown>;
}

/** Replaces `file` so a crash leaves either the old or the new content, never a torn one; keeps its mode. */
async function writeFileAtomically(file: string, text: string): Promise<void> {
  const dir = path.dirname(path.resolve(file));
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.tmp`);
  const mode = (await fsp.stat(file)).mode & 0o7777;
  try {
    const fh = await fsp.open(tmp, 'w', mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fsp.rename(tmp, file);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  const dh = await fsp.open(dir, 'r');
  try {
    await dh.sync();
  } finally {
    await dh.close();
  }
}
