// The audit log, newest first, filterable by flag, each entry with a before/after diff.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type AuditEntry, type Flag } from '../api';
import type { Session } from '../app';
import { Diff, ErrorText, Loading, Page } from '../components';
import { when } from '../format';
import { go, href } from '../router';

export function AuditView({ session, flagId }: { session: Session; flagId: string }) {
  const [flags, setFlags] = useState<Flag[]>([]);
  const [entries, setEntries] = useState<AuditEntry[] | null>(null);
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    session.api.listFlags({}).then((body) => setFlags(body.flags), () => setFlags([]));
  }, [session.api]);

  useEffect(() => {
    let live = true;
    setEntries(null);
    setError(null);
    session.api.audit(flagId ? { entityId: flagId } : {}).then(
      (body) => {
        if (!live) return;
        setEntries(body.entries);
        setCursor(body.nextCursor);
      },
      (err: unknown) => live && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [session.api, flagId]);

  const more = async () => {
    if (!cursor) return;
    try {
      const body = await session.api.audit(flagId ? { entityId: flagId, before: cursor } : { before: cursor });
      setEntries([...(entries ?? []), ...body.entries]);
      setCursor(body.nextCursor);
    } catch (err) {
      setError(err instanceof ApiError ? err.message : String(err));
    }
  };

  return (
    <Page title="Audit log">
      <label for="audit-flag">Flag</label>
      <select
        id="audit-flag"
        onChange={(e) => {
          const id = e.currentTarget.value;
          go(id ? `${href('audit')}?flag=${encodeURIComponent(id)}` : href('audit'));
        }}
      >
        <option value="" selected={flagId === ''}>
          Every entry
        </option>
        {flags.map((f) => (
          <option key={f.id} value={f.id} selected={f.id === flagId}>
            {f.key} ({f.environment})
          </option>
        ))}
      </select>
      <ErrorText message={error} />
      {entries === null && !error ? <Loading what="the audit log" /> : null}
      {entries ? (
        <ol class="audit">
          {entries.length === 0 ? <li>No entries.</li> : null}
          {entries.map((entry) => (
            <li key={entry.id}>
              <article aria-label={`${entry.action} ${subject(entry)}`} data-entry={entry.id}>
                <h2>
                  <span class="action">{entry.action}</span> {subject(entry)}
                  {entry.environment ? <span class="muted"> in {entry.environment}</span> : null}
                </h2>
                <p class="muted">
                  {when(entry.createdAt)} by {entry.actor}
                  {entry.note ? ` (${entry.note})` : ''}
                </p>
                <Diff label={`Before and after of ${entry.action}`} before={entry.before} after={entry.after} />
              </article>
            </li>
          ))}
        </ol>
      ) : null}
      {cursor ? (
        <button type="button" onClick={more}>
          Older entries
        </button>
      ) : null}
    </Page>
  );
}

function subject(entry: AuditEntry): string {
  const doc = entry.after ?? entry.before;
  const name = doc && (typeof doc.key === 'string' ? doc.key : typeof doc.name === 'string' ? doc.name : null);
  return name ?? entry.entityId;
}
