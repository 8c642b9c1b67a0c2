import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Authorizer, OPEN_AUTH, parseAuthConfig } from '@apogee/broker';
import { afterEach, describe, expect, it } from 'vitest';
import { AclEditor, userEntryFrom } from './acl-editor.js';
import { ApiError } from './api-error.js';

const H = 'scrypt$1024$8$1$AA==$AA==';
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function editorWith(doc: Record<string, unknown>) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'apg-acl-editor-'));
  dirs.push(dir);
  const file = path.join(dir, 'apogee.json');
  fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o640 });
  const authorizer = new Authorizer(parseAuthConfig(doc['auth'], file));
  const logged: object[] = [];
  const editor = new AclEditor({ configFile: file, aclOn: true, authorizer, log: { info: (o) => logged.push(o) } });
  return { file, authorizer, editor, logged };
}

describe('userEntryFrom', () => {
  it('hashes a new password and keeps the secrets an edit leaves out', async () => {
    const existing = { username: 'u', password: H, accessKey: 'access-1', secretKey: 'secret-1', admin: true };
    expect(await userEntryFrom('u', { admin: false }, existing)).toEqual({
      username: 'u',
      admin: false,
      password: H,
      accessKey: 'access-1',
      secretKey: 'secret-1',
    });
    const hashed = await userEntryFrom('u', { newPassword: 'pw' }, existing);
    expect(hashed['password']).toMatch(/^scrypt\$/);
    expect(hashed['password']).not.toBe(H);
    // Same access key, no secret: the secret stays; null removes password and key pair.
    expect((await userEntryFrom('u', { accessKey: 'access-1' }, existing))['secretKey']).toBe('secret-1');
    expect(await userEntryFrom('u', { password: null, accessKey: null }, existing)).toEqual({ username: 'u' });
    // A new access key without its secret is left for the config check to refuse.
    expect((await userEntryFrom('u', { accessKey: 'access-2' }, existing))['secretKey']).toBeUndefined();
    await expect(userEntryFrom('u', { newPassword: '' }, undefined)).rejects.toThrow(/non-empty/);
    await expect(userEntryFrom('u', { username: 'v' }, undefined)).rejects.toBeInstanceOf(ApiError);
  });
});

describe('AclEditor', () => {
  it('rewrites only the auth section, keeps the mode, and puts the result in force', async () => {
    const { file, authorizer, editor, logged } = editorWith({ logLevel: 'debug', auth: { users: [{ username: 'ops', password: H, admin: true }] } });
    const cfg = await editor.edit({ username: 'ops' }, 'test', (s) => {
      s.users!.push({ username: 'dev', password: H });
    });
    expect(cfg.users.map((u) => u.username)).toEqual(['ops', 'dev']);
    expect(authorizer.generation).toBe(1);
    expect(authorizer.config).toBe(cfg);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    expect(doc.logLevel).toBe('debug');
    expect(doc.auth.users[1]).toEqual({ username: 'dev', password: H });
    expect(fs.statSync(file).mode & 0o777).toBe(0o640);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['apogee.json']);
    expect(logged).toEqual([expect.objectContaining({ by: 'ops', action: 'test', users: 2 })]);
  });

  it('refuses an edit that does not validate or would lock the admins out, changing nothing', async () => {
    const { file, authorizer, editor } = editorWith({ auth: { allowAnonymous: false, users: [{ username: 'ops', password: H, admin: true }] } });
    const before = fs.readFileSync(file, 'utf8');
    await expect(editor.edit({ username: 'ops' }, 't', (s) => void s.users!.push({ username: 'x' }))).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(
      editor.edit(
        { username: 'ops' },
        't',
        (s) => void s.users!.push({ username: 'x', accessKey: 'access-1', secretKey: 'secret-1', whiteRemoteAddress: '1.2.3' }),
      ),
    ).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    await expect(editor.edit({ username: 'ops' }, 't', (s) => void (s.users = []))).rejects.toMatchObject({
      code: 'CONFLICT',
      message: /no admin could log in/,
    });
    expect(fs.readFileSync(file, 'utf8')).toBe(before);
    expect(authorizer.generation).toBe(0);
  });

  it('runs edits one at a time, each on the result of the one before', async () => {
    const { editor } = editorWith({ auth: { users: [{ username: 'ops', password: H, admin: true }] } });
    const edits = ['a', 'b', 'c'].map((n) => editor.edit({ username: 'ops' }, n, (s) => void s.users!.push({ username: n, password: H })));
    const results = await Promise.all(edits);
    expect(results[2]!.users.map((u) => u.username)).toEqual(['ops', 'a', 'b', 'c']);
  });

  it('is read-only without a config file or an auth section, and says so', async () => {
    const authorizer = new Authorizer(OPEN_AUTH);
    const log = { info: () => undefined };
    expect(new AclEditor({ configFile: null, aclOn: false, authorizer, log }).editability()).toEqual({
      editable: false,
      reason: expect.stringMatching(/without a config file/),
    });
    const e = new AclEditor({ configFile: '/nonexistent/apogee.json', aclOn: false, authorizer, log });
    expect(e.editability()).toMatchObject({ editable: false, reason: expect.stringMatching(/no "auth" section/) });
    await expect(e.edit({ username: undefined }, 't', () => undefined)).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(new AclEditor({ configFile: '/nonexistent/apogee.json', aclOn: true, authorizer, log }).editability()).toMatchObject({
      editable: false,
      reason: expect.stringMatching(/not writable/),
    });
  });
});
