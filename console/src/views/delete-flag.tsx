// Deleting a flag from its page (`DELETE /api/admin/flags/{id}` with `If-Match`): a button in the
// page's actions, a modal confirmation naming the key and the environment, and the server's
// refusals shown in it: 409 when other flags take this one as a prerequisite (each named flag
// linked), 409 when another version was stored since the page opened. A deleted flag leaves the
// page for its environment's list. Editors and admins of the flag's environment only (the flag
// page renders it for them only).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Flag, type Usage } from '../api';
import type { Session } from '../app';
import { count } from '../format';
import { go, href } from '../router';
import { total } from './flags';

/** `flag "plan" is a prerequisite of flags: a, b` → `["a", "b"]`; null for any other message. */
export function dependentsIn(text: string): string[] | null {
  const match = /is a prerequisite of flags: (.+)$/.exec(text);
  return match ? match[1]!.split(', ').map((k) => k.trim()) : null;
}

type State =
  | { kind: 'closed' }
  | { kind: 'asking' }
  | { kind: 'busy' }
  /** Flags that need this one: their keys, and their ids when the list could be read. */
  | { kind: 'needed'; message: string; flags: { key: string; id: string | null }[] }
  | { kind: 'error'; message: string };

export function DeleteFlag({ session, flag, usage }: { session: Session; flag: Flag; usage: Usage | null }) {
  const [state, setState] = useState<State>({ kind: 'closed' });
  const dialog = useRef<HTMLDialogElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  const open = state.kind !== 'closed';

  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (open && !el.open) el.showModal();
    if (!open && el.open) el.close();
    if (state.kind === 'asking') confirm.current?.focus();
  }, [open, state.kind]);
  // Leaving the page (a link in the dialog) must not leave the modal open.
  useEffect(() => () => dialog.current?.close(), []);

  const remove = async () => {
    setState({ kind: 'busy' });
    try {
      await session.api.deleteFlag(flag.id, flag.version);
      dialog.current?.close();
      go(href('flags', flag.environment));
    } catch (err) {
      const message = err instanceof ApiError ? err.message : String(err);
      const keys = err instanceof ApiError && err.status === 409 ? dependentsIn(message) : null;
      if (!keys) {
        const stale = err instanceof ApiError && err.status === 409;
        setState({ kind: 'error', message: stale ? `${message}. Reload the page to see the stored version.` : message });
        return;
      }
      const listed = await session.api.listFlags({ environment: flag.environment }).then((b) => b.flags, () => [] as Flag[]);
      setState({ kind: 'needed', message, flags: keys.map((key) => ({ key, id: listed.find((f) => f.key === key)?.id ?? null })) });
    }
  };

  const evaluated = usage ? total(usage) : 0;
  return (
    <>
      <button type="button" class="danger" onClick={() => setState({ kind: 'asking' })}>
        Delete…
      </button>
      <dialog
        ref={dialog}
        class="confirm delete-flag"
        role="alertdialog"
        aria-labelledby="delete-flag-title"
        onCancel={(e) => {
          e.preventDefault();
          setState({ kind: 'closed' });
        }}
      >
        {state.kind === 'needed' ? (
          <>
            <h2 id="delete-flag-title">Not deleted: other flags need {flag.key}</h2>
            <p>{state.message}</p>
            <p>
              Remove {flag.key} from their prerequisites first:{' '}
              {state.flags.map((f, k) => (
                <span key={f.key}>
                  {k ? ', ' : ''}
                  {f.id ? <a href={href('flag', f.id)}>{f.key}</a> : f.key}
                </span>
              ))}
            </p>
          </>
        ) : state.kind === 'error' ? (
          <>
            <h2 id="delete-flag-title">Not deleted</h2>
            <p class="error" role="alert">
              {state.message}
            </p>
          </>
        ) : (
          <>
            <h2 id="delete-flag-title">
              Delete {flag.key} in {flag.environment}?
            </h2>
            <p>
              From then on an evaluation in {flag.environment} that asks for {flag.key} by name answers{' '}
              <code>FLAG_NOT_FOUND</code> (apps get their default value), and one of every flag leaves it out.
              {usage ? ` It was evaluated ${count(evaluated)} time${evaluated === 1 ? '' : 's'} in the last 24 h.` : ''}
            </p>
            <p>
              The server refuses while another flag takes it as a prerequisite. Its audit entries stay.
            </p>
          </>
        )}
        <div class="actions">
          {state.kind === 'asking' || state.kind === 'busy' ? (
            <button type="button" class="danger" ref={confirm} disabled={state.kind === 'busy'} onClick={() => void remove()}>
              Delete {flag.key}
            </button>
          ) : null}
          <button type="button" onClick={() => setState({ kind: 'closed' })}>
            {state.kind === 'asking' || state.kind === 'busy' ? 'Cancel' : 'Close'}
          </button>
        </div>
      </dialog>
    </>
  );
}
