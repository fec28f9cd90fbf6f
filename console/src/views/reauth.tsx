// Signing in again mid-session: the origin answered 401 to a call (the token was revoked, or it is
// no longer known), so a modal asks for a token over the page, which stays as it is: what was typed
// is kept, and what failed to save is saved again after. Sign out is the other way on.
import { useEffect, useRef, useState } from 'preact/hooks';
import { Api, ApiError, type Identity } from '../api';
import { TextField } from '../components';

export function Reauth({ onSignedIn, onSignOut }: { onSignedIn: (token: string, who: Identity) => void; onSignOut: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const el = dialog.current;
    if (el && !el.open) el.showModal();
    return () => el?.close();
  }, []);

  const submit = async (e: Event) => {
    e.preventDefault();
    const token = value.trim();
    if (token === '') return;
    setBusy(true);
    setError(null);
    try {
      const body = await new Api(token).whoami();
      onSignedIn(token, body.token);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? `The origin refuses this token too (${err.message}).` : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog
      ref={dialog}
      class="reauth"
      role="alertdialog"
      aria-labelledby="reauth-title"
      aria-describedby="reauth-text"
      onCancel={(e) => e.preventDefault()}
    >
      <form onSubmit={submit}>
        <h2 id="reauth-title">Sign in again</h2>
        <p id="reauth-text">
          The origin no longer accepts this tab's token: it was revoked, or it is not known any more. Sign in with a valid
          token to go on. The page stays as it is: what you typed is kept; what did not save, save again.
        </p>
        <TextField id="reauth-token" label="Token" secret autoComplete="off" required value={value} setValue={setValue} error={error} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Sign in
          </button>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </form>
    </dialog>
  );
}
