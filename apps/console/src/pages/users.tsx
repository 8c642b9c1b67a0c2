import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, enc } from '../api.js';
import { ConfirmButton, ErrorBanner, Loading, Notice, PageHeader } from '../components/ui.js';
import { useAction, useApi } from '../hooks.js';
import type { AclRules, AclUser, AclView } from '../types.js';

/** Patterns as typed: separated by commas or white space. */
const patterns = (text: string): string[] => text.split(/[\s,]+/).filter((p) => p !== '');
const shown = (list: string[]): string => list.join(', ');

function Rules(props: { rules: AclRules }): JSX.Element {
  const { allow, deny } = props.rules;
  return (
    <span class="rules">
      {allow.length === 0 ? <span class="muted">nothing</span> : <code>{shown(allow)}</code>}
      {deny.length > 0 ? (
        <>
          {' '}
          <span class="muted">except</span> <code>{shown(deny)}</code>
        </>
      ) : null}
    </span>
  );
}

/** Users and ACL rules of the `auth` section; edited here when the server's config file is writable. */
export function UsersPage(): JSX.Element {
  const acl = useApi(() => api<AclView>('/acl'), [], 10_000);
  const [editing, setEditing] = useState<AclUser | 'new' | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const act = useAction();
  const a = acl.data;
  const finished = (message: string) => {
    setDone(message);
    setEditing(null);
    acl.reload();
  };
  return (
    <div>
      <PageHeader title="Users and ACL">
        {a?.editable ? (
          <button type="button" class="primary" onClick={() => (setDone(null), setEditing('new'))}>
            Add user
          </button>
        ) : null}
      </PageHeader>
      <ErrorBanner error={acl.error ?? act.error} onClose={act.error ? act.clear : undefined} />
      {done ? <Notice kind="ok">{done}</Notice> : null}
      {acl.loading && !a ? <Loading what="users" /> : null}
      {a && !a.editable ? <Notice>Read-only: {a.readOnlyReason}.</Notice> : null}
      {editing ? <UserForm user={editing === 'new' ? null : editing} onDone={finished} onCancel={() => setEditing(null)} /> : null}
      {a ? (
        <>
          <section class="panel" data-testid="anonymous">
            <h2>Anonymous clients</h2>
            <p>
              {a.allowAnonymous ? 'Accepted on every port' : 'Refused on every port'}
              {a.allowAnonymous ? (
                <>
                  {' '}
                  · publish <Rules rules={a.anonymous.publish} /> · subscribe <Rules rules={a.anonymous.subscribe} /> · groups{' '}
                  <Rules rules={a.anonymous.groups} /> · {a.anonymous.admin ? 'admin' : 'not admin'}
                </>
              ) : null}
            </p>
            {a.editable ? (
              <ConfirmButton
                label={a.allowAnonymous ? 'Refuse anonymous clients' : 'Accept anonymous clients'}
                confirm={a.allowAnonymous ? 'Refuse clients without credentials from now on?' : 'Accept clients without credentials?'}
                danger={!a.allowAnonymous}
                disabled={act.busy}
                onConfirm={() =>
                  void act.run(async () => {
                    await api('/acl/anonymous', { method: 'PUT', body: { allowAnonymous: !a.allowAnonymous } });
                    finished(a.allowAnonymous ? 'Anonymous clients are refused from now on.' : 'Anonymous clients are accepted.');
                  })
                }
              />
            ) : null}
          </section>
          <table class="data" data-testid="users-table">
            <thead>
              <tr>
                <th>User</th>
                <th>Admin</th>
                <th>Login</th>
                <th>Publish</th>
                <th>Subscribe</th>
                <th>Groups</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {a.users.map((u) => (
                <tr key={u.username} data-user={u.username}>
                  <td>{u.username}</td>
                  <td>{u.admin ? 'yes' : 'no'}</td>
                  <td>{[u.password ? 'password' : null, u.accessKey ? `access key ${u.accessKey}` : null].filter(Boolean).join(' · ')}</td>
                  <td>
                    <Rules rules={u.publish} />
                  </td>
                  <td>
                    <Rules rules={u.subscribe} />
                  </td>
                  <td>
                    <Rules rules={u.groups} />
                  </td>
                  <td class="row-actions">
                    {a.editable ? (
                      <>
                        <button type="button" onClick={() => (setDone(null), setEditing(u))}>
                          Edit
                        </button>
                        <ConfirmButton
                          label="Delete"
                          danger
                          confirm={`Delete ${u.username}? Its connections lose every permission at once.`}
                          disabled={act.busy}
                          onConfirm={() =>
                            void act.run(async () => {
                              await api(`/acl/users/${enc(u.username)}`, { method: 'DELETE' });
                              finished(`User ${u.username} deleted.`);
                            })
                          }
                        />
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </div>
  );
}

function RuleFields(props: { name: string; value: [string, string]; onChange: (v: [string, string]) => void }): JSX.Element {
  const [allow, deny] = props.value;
  return (
    <>
      <label>
        {props.name} allow
        <input name={`${props.name.toLowerCase()}-allow`} value={allow} onInput={(e) => props.onChange([e.currentTarget.value, deny])} />
      </label>
      <label>
        {props.name} deny
        <input name={`${props.name.toLowerCase()}-deny`} value={deny} onInput={(e) => props.onChange([allow, e.currentTarget.value])} />
      </label>
    </>
  );
}

const fieldsOf = (r: AclRules | undefined): [string, string] => (r ? [shown(r.allow), shown(r.deny)] : ['#', '']);

/** Creates (user null) or edits a user; a password or access key left empty is kept. */
function UserForm(props: { user: AclUser | null; onDone: (message: string) => void; onCancel: () => void }): JSX.Element {
  const u = props.user;
  const [name, setName] = useState(u?.username ?? '');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(u?.admin ?? false);
  const [publish, setPublish] = useState(fieldsOf(u?.publish));
  const [subscribe, setSubscribe] = useState(fieldsOf(u?.subscribe));
  const [groups, setGroups] = useState(fieldsOf(u?.groups));
  const act = useAction();
  const rules = ([allow, deny]: [string, string]): AclRules => ({ allow: patterns(allow), deny: patterns(deny) });
  const submit = (e: Event) => {
    e.preventDefault();
    const username = name.trim();
    void act.run(async () => {
      const body = {
        admin,
        publish: rules(publish),
        subscribe: rules(subscribe),
        groups: rules(groups),
        ...(u?.whiteRemoteAddress ? { whiteRemoteAddress: u.whiteRemoteAddress } : {}),
        ...(password !== '' ? { newPassword: password } : {}),
      };
      await api(`/acl/users/${enc(username)}`, { method: 'PUT', body });
      props.onDone(u ? `User ${username} updated.` : `User ${username} created.`);
    });
  };
  return (
    <form class="panel inline-form" onSubmit={submit} aria-label={u ? `edit user ${u.username}` : 'add user'}>
      <h2>{u ? `Edit ${u.username}` : 'New user'}</h2>
      <p class="muted hint">Topic patterns separated by commas; MQTT wildcards + and #, %u and %c for the user name and client id. Deny wins.</p>
      <label>
        User
        <input name="username" value={name} onInput={(e) => setName(e.currentTarget.value)} readOnly={u !== null} required />
      </label>
      <label>
        {u ? 'New password (empty: keep)' : 'Password'}
        <input
          name="password"
          type="password"
          autocomplete="new-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
          required={u === null}
        />
      </label>
      <label class="check">
        <input name="admin" type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> admin
      </label>
      <RuleFields name="Publish" value={publish} onChange={setPublish} />
      <RuleFields name="Subscribe" value={subscribe} onChange={setSubscribe} />
      <RuleFields name="Groups" value={groups} onChange={setGroups} />
      <button type="submit" class="primary" disabled={act.busy || name.trim() === ''}>
        {u ? 'Save' : 'Create'}
      </button>
      <button type="button" onClick={props.onCancel}>
        Cancel
      </button>
      <ErrorBanner error={act.error} onClose={act.clear} />
    </form>
  );
}
