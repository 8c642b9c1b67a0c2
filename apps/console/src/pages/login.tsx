import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { api, basicToken, type ApiFailure } from '../api.js';
import { ErrorBanner } from '../components/ui.js';
import { asFailure } from '../hooks.js';

/** Username and password, tried against GET /api/v1/cluster; `onLogin` gets them once the server takes them. */
export function LoginPage(props: { onLogin: (username: string, password: string) => void; reason?: string | undefined }): JSX.Element {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const [wrong, setWrong] = useState(false);
  const [error, setError] = useState<ApiFailure | null>(null);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setWrong(false);
    setError(null);
    try {
      await api('/cluster', { token: basicToken(username, password) });
      props.onLogin(username, password);
    } catch (err) {
      const f = asFailure(err);
      if (f.status === 401) setWrong(true);
      else setError(f);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form onSubmit={submit} class="card" aria-label="log in">
        <h1>
          <span class="logo">◆</span> Apogee console
        </h1>
        <p class="muted">{props.reason ?? 'Log in with an admin user of the server’s auth section.'}</p>
        <label>
          Username
          <input name="username" autocomplete="username" value={username} onInput={(e) => setUsername(e.currentTarget.value)} required autofocus />
        </label>
        <label>
          Password
          <input name="password" type="password" autocomplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        </label>
        {wrong ? (
          <div class="banner error" role="alert" data-testid="login-error">
            wrong username or password
          </div>
        ) : null}
        <ErrorBanner error={error} />
        <button type="submit" class="primary" disabled={busy || username === ''}>
          {busy ? 'Logging in…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
