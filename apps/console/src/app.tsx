import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, forgetCredentials, saveCredentials, savedCredentials, setUnauthenticatedHandler, type ApiFailure } from './api.js';
import { ErrorBanner, Loading } from './components/ui.js';
import { asFailure } from './hooks.js';
import { AmqpPage } from './pages/amqp.js';
import { ClusterPage } from './pages/cluster.js';
import { GroupPage, GroupsPage } from './pages/groups.js';
import { LoginPage } from './pages/login.js';
import { MessagePage, MessagesPage } from './pages/messages.js';
import { MqttPage } from './pages/mqtt.js';
import { OverviewPage } from './pages/overview.js';
import { TopicPage, TopicsPage } from './pages/topics.js';
import { UsersPage } from './pages/users.js';
import { Link, matchPath, useRoute } from './router.js';

type Session = { state: 'checking' } | { state: 'login'; reason?: string } | { state: 'in'; user: string | null } | { state: 'down'; error: ApiFailure };

const NAV: Array<[string, string]> = [
  ['/', 'Overview'],
  ['/topics', 'Topics'],
  ['/groups', 'Groups'],
  ['/messages', 'Messages'],
  ['/mqtt', 'MQTT'],
  ['/amqp', 'AMQP'],
  ['/cluster', 'Cluster'],
  ['/users', 'Users'],
];

/** Who the console talks as: the saved login, or anonymous when the server lets anonymous clients administer it. */
async function check(): Promise<Session> {
  const saved = savedCredentials();
  try {
    await api('/cluster');
    return { state: 'in', user: saved ? userOf(saved) : null };
  } catch (e) {
    const f = asFailure(e);
    if (f.status === 401 || f.status === 403) {
      if (saved) forgetCredentials();
      return saved ? { state: 'login', reason: 'Your login is no longer valid: log in again.' } : { state: 'login' };
    }
    return { state: 'down', error: f };
  }
}

function userOf(token: string): string {
  try {
    const s = new TextDecoder().decode(Uint8Array.from(atob(token), (c) => c.charCodeAt(0)));
    return s.slice(0, s.indexOf(':'));
  } catch {
    return '?';
  }
}

export function App(): JSX.Element {
  const [session, setSession] = useState<Session>({ state: 'checking' });
  const route = useRoute();

  useEffect(() => {
    void check().then(setSession);
    setUnauthenticatedHandler(() => {
      forgetCredentials();
      setSession({ state: 'login', reason: 'The server refused your login: log in again.' });
    });
    return () => setUnauthenticatedHandler(null);
  }, []);

  if (session.state === 'checking') return <Loading what="the console" />;
  if (session.state === 'down') {
    return (
      <main class="login">
        <div class="card">
          <h1>Apogee console</h1>
          <ErrorBanner error={session.error} />
          <button type="button" onClick={() => void check().then(setSession)}>
            Retry
          </button>
        </div>
      </main>
    );
  }
  if (session.state === 'login') {
    return (
      <LoginPage
        reason={session.reason}
        onLogin={(user, password) => {
          saveCredentials(user, password);
          setSession({ state: 'in', user });
        }}
      />
    );
  }
  const logout = () => {
    forgetCredentials();
    setSession({ state: 'login', reason: 'Logged out.' });
  };
  return (
    <div class="shell">
      <nav class="sidebar">
        <div class="brand">
          <span class="logo">◆</span> Apogee
        </div>
        <ul>
          {NAV.map(([href, label]) => {
            const active = href === '/' ? route.path === '/' : route.path === href || route.path.startsWith(`${href}/`);
            return (
              <li key={href}>
                <Link href={href} class={active ? 'active' : ''}>
                  {label}
                </Link>
              </li>
            );
          })}
        </ul>
        <div class="who">
          {session.user === null ? (
            <span class="muted">anonymous admin</span>
          ) : (
            <>
              <span data-testid="user">{session.user}</span>
              <button type="button" class="link" onClick={logout}>
                Log out
              </button>
            </>
          )}
        </div>
      </nav>
      <main class="content">
        <Page path={route.path} query={route.query} />
      </main>
    </div>
  );
}

function Page(props: { path: string; query: URLSearchParams }): JSX.Element {
  const p = props.path.replace(/\/+$/, '') || '/';
  let m: Record<string, string> | null;
  if (p === '/') return <OverviewPage />;
  if (p === '/topics') return <TopicsPage />;
  if ((m = matchPath('/topics/:topic', p))) return <TopicPage topic={m['topic']!} />;
  if (p === '/groups') return <GroupsPage />;
  if ((m = matchPath('/groups/:group', p))) return <GroupPage group={m['group']!} />;
  if (p === '/messages') return <MessagesPage query={props.query} />;
  if ((m = matchPath('/messages/:id', p))) return <MessagePage id={m['id']!} topic={props.query.get('topic')} />;
  if (p === '/mqtt') return <MqttPage />;
  if (p === '/amqp') return <AmqpPage />;
  if (p === '/cluster') return <ClusterPage />;
  if (p === '/users') return <UsersPage />;
  return (
    <div>
      <h1>Not found</h1>
      <p>
        The console has no page {props.path}. <Link href="/">Overview</Link>
      </p>
    </div>
  );
}
