import type { ComponentChildren, JSX } from 'preact';
import { useState } from 'preact/hooks';
import { UNREACHABLE, type ApiFailure } from '../api.js';

/** An API failure as a banner: its code and message, or "server unreachable". */
export function ErrorBanner(props: { error: ApiFailure | null; onClose?: () => void }): JSX.Element | null {
  const e = props.error;
  if (!e) return null;
  return (
    <div class="banner error" role="alert" data-testid="error-banner" data-code={e.code}>
      {e.code === UNREACHABLE ? (
        <span>
          <b>server unreachable</b> — check that the server is running; retrying.
        </span>
      ) : (
        <span>
          <b>{e.code}</b> {e.status > 0 ? `(${e.status})` : ''}: {e.message}
        </span>
      )}
      {props.onClose ? (
        <button type="button" class="link" onClick={props.onClose} aria-label="dismiss">
          ×
        </button>
      ) : null}
    </div>
  );
}

export function Notice(props: { children: ComponentChildren; kind?: 'ok' | 'info' }): JSX.Element {
  return (
    <div class={`banner ${props.kind ?? 'info'}`} role="status">
      {props.children}
    </div>
  );
}

export function Loading(props: { what?: string }): JSX.Element {
  return <p class="loading">Loading{props.what ? ` ${props.what}` : ''}…</p>;
}

export function PageHeader(props: { title: ComponentChildren; children?: ComponentChildren }): JSX.Element {
  return (
    <div class="page-header">
      <h1>{props.title}</h1>
      <div class="actions">{props.children}</div>
    </div>
  );
}

/** A button that asks "sure?" in place before it acts (no browser dialog). */
export function ConfirmButton(props: { label: string; confirm: string; onConfirm: () => void; disabled?: boolean; danger?: boolean }): JSX.Element {
  const [asking, setAsking] = useState(false);
  if (!asking) {
    return (
      <button type="button" class={props.danger ? 'danger' : ''} disabled={props.disabled} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  }
  return (
    <span class="confirm">
      <span>{props.confirm}</span>
      <button
        type="button"
        class="danger"
        onClick={() => {
          setAsking(false);
          props.onConfirm();
        }}
      >
        Yes, {props.label.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}

export function Empty(props: { children: ComponentChildren }): JSX.Element {
  return <p class="empty-state">{props.children}</p>;
}

/** A definition list of label → value pairs. */
export function Facts(props: { items: Array<[string, ComponentChildren]> }): JSX.Element {
  return (
    <dl class="facts">
      {props.items.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
