// "Try a user": the saved flag decided for a pasted user, in the page, by @pennon/evaluator (the
// same code the origin and the edge run), over the environment's snapshot so that prerequisites
// and segments count. The package (and its wasm) is loaded on first use.
import type { User } from '@pennon/evaluator';
import { useState } from 'preact/hooks';
import { ApiError, type Flag } from '../api';
import type { Session } from '../app';
import { ErrorText } from '../components';

interface Outcome {
  variant: string | null;
  reason: string;
  value: unknown;
  revision: number | undefined;
}

export function TryUser({ session, flag }: { session: Session; flag: Flag }) {
  const [text, setText] = useState('{"id": "user-1", "country": "DE"}');
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const run = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setOutcome(null);
    let user: User;
    try {
      // The evaluator checks every field of the user and names the one it refuses.
      user = JSON.parse(text) as User;
    } catch (err) {
      setError(`user: not JSON: ${err instanceof Error ? err.message : String(err)}`);
      return;
    }
    setBusy(true);
    try {
      const [{ Evaluator }, snapshot] = await Promise.all([
        import('@pennon/evaluator'),
        session.api.snapshot(flag.environment),
      ]);
      const evaluator = new Evaluator(snapshot);
      try {
        const result = evaluator.evaluateFlag(flag.key, user);
        setOutcome({ variant: result.variant, reason: result.reason, value: result.value, revision: evaluator.revision });
      } finally {
        evaluator.free();
      }
    } catch (err) {
      setError(err instanceof ApiError || err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form class="try" onSubmit={run} aria-labelledby="try-title">
      <h2 id="try-title">Try a user</h2>
      <label for="try-user">User (JSON), decided in this page against the saved flags of {flag.environment}</label>
      <textarea id="try-user" rows={3} spellcheck={false} value={text} onInput={(e) => setText(e.currentTarget.value)} />
      <ErrorText message={error} />
      <div class="actions">
        <button type="submit" disabled={busy}>
          Evaluate
        </button>
      </div>
      {/* The live region is there before its answer, so that a screen reader announces the answer. */}
      <div aria-live="polite">
        {outcome ? (
          <p class="outcome">
            Serves <strong>{outcome.variant ?? '—'}</strong> ({JSON.stringify(outcome.value)}), reason {outcome.reason}
            {outcome.revision !== undefined ? `, at revision ${outcome.revision}` : ''}.
          </p>
        ) : null}
      </div>
    </form>
  );
}
