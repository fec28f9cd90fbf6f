// The kill switch: a key off in every environment that has it, after a confirmation that names
// those environments (POST /api/admin/kill-switch).
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Flag } from '../api';
import type { Session } from '../app';
import { ErrorText, Page } from '../components';
import { href } from '../router';

export function KillSwitch({ session, initialKey }: { session: Session; initialKey: string }) {
  const [key, setKey] = useState(initialKey);
  const [found, setFound] = useState<Flag[] | null>(null);
  const [done, setDone] = useState<Flag[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  const reviewRef = useRef<HTMLButtonElement>(null);
  const doneRef = useRef<HTMLHeadingElement>(null);
  const admin = session.who.role === 'admin';

  useEffect(() => {
    if (found && found.length > 0) confirmRef.current?.focus();
  }, [found]);
  // The confirmation goes away with the focus in it: the focus moves to what replaces it, never to <body>.
  useEffect(() => {
    if (done) doneRef.current?.focus();
  }, [done]);
  const cancel = () => {
    setFound(null);
    reviewRef.current?.focus();
  };

  const review = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    setFound(null);
    try {
      const body = await session.api.listFlags({ key: key.trim() });
      if (body.flags.length === 0) setError(`No environment you can see has a flag "${key.trim()}".`);
      else setFound(body.flags);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  const confirm = async () => {
    setBusy(true);
    setError(null);
    try {
      const body = await session.api.killSwitch(key.trim());
      setDone(body.flags);
      setFound(null);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  const environments = (found ?? []).map((f) => f.environment);
  return (
    <Page title="Kill switch">
      <p>Turns a flag off in every environment that has it, at once. Everyone then gets its off variant.</p>
      <form class="kill" onSubmit={review}>
        <label for="kill-key">Flag key</label>
        <input id="kill-key" value={key} autoComplete="off" onInput={(e) => setKey(e.currentTarget.value)} required />
        <button type="submit" ref={reviewRef}>
          Review
        </button>
      </form>
      <ErrorText message={error} />
      {found && found.length > 0 ? (
        <div
          class="confirm"
          role="alertdialog"
          aria-labelledby="kill-confirm-title"
          aria-describedby="kill-confirm-text"
          onKeyDown={(e) => {
            if (e.key === 'Escape') cancel();
          }}
        >
          <h2 id="kill-confirm-title">
            Turn off {key.trim()} in {environments.join(', ')}?
          </h2>
          <ul id="kill-confirm-text">
            {found.map((f) => (
              <li key={f.id}>
                <strong>{f.environment}</strong>: {f.enabled ? 'on now' : 'already off'} (version {f.version})
              </li>
            ))}
          </ul>
          {admin ? null : (
            <p class="muted">
              Any other environment with this key is turned off too; your token must act in all of them.
            </p>
          )}
          <div class="actions">
            <button type="button" class="danger" ref={confirmRef} disabled={busy} onClick={confirm}>
              Turn off in {environments.join(', ')}
            </button>
            <button type="button" onClick={cancel}>
              Cancel
            </button>
          </div>
        </div>
      ) : null}
      {done ? (
        <div class="done" role="status">
          <h2 ref={doneRef} tabIndex={-1}>
            Turned off
          </h2>
          <ul>
            {done.map((f) => (
              <li key={f.id}>
                <a href={href('flag', f.id)}>
                  {f.key} in {f.environment}
                </a>
                : off (version {f.version})
              </li>
            ))}
          </ul>
        </div>
      ) : null}
    </Page>
  );
}
