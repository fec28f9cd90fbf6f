// Saving with If-Match, shared by the flag and the segment editors: the write, the 400 kept for the
// page to place, a 409 because another version was stored turned into a conflict (the stored
// version and the actor of its latest audit entry), and the row with Save, the conflict notice and
// what was saved.
import { useState } from 'preact/hooks';
import { ApiError, type Json, type JsonObject } from './api';
import type { Session } from './app';
import { ConflictNotice } from './components';

interface Versioned {
  id: string;
  version: number;
}

export interface Conflict<T> {
  current: T;
  actor: string | null;
}

export interface Saver<T> {
  /** The server's answer other than a conflict (a 400 the page places by its field). */
  error: ApiError | null;
  /** A message from the page itself (not sent, not JSON, …). */
  local: string | null;
  setLocal: (message: string | null) => void;
  conflict: Conflict<T> | null;
  saved: string | null;
  busy: boolean;
  /** Writes `body` over `base` (If-Match: its version); `done` answers what to say after. */
  save: (base: T, body: JsonObject, done: (stored: T) => string) => Promise<void>;
  /** Forgets the conflict (after the choice is made) and the messages. */
  clear: () => void;
}

export function useSaver<T extends Versioned>(
  session: Session,
  write: (id: string, body: JsonObject, version: number) => Promise<T>,
  read: (id: string) => Promise<T>,
): Saver<T> {
  const [error, setError] = useState<ApiError | null>(null);
  const [local, setLocal] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict<T> | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const save = async (base: T, body: JsonObject, done: (stored: T) => string) => {
    setError(null);
    setLocal(null);
    setSaved(null);
    setBusy(true);
    try {
      const stored = await write(base.id, body, base.version);
      setConflict(null);
      setSaved(done(stored));
    } catch (err) {
      if (!(err instanceof ApiError)) {
        setLocal(`not sent: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (err.status === 409) {
        // Another version may have been written since the page was opened: show what changed.
        const current = await read(base.id).catch(() => null);
        if (current && current.version !== base.version) {
          const entries = await session.api.audit({ entityId: base.id, limit: 1 }).catch(() => null);
          setConflict({ current, actor: entries?.entries[0]?.actor ?? null });
          return;
        }
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const clear = () => {
    setConflict(null);
    setError(null);
    setLocal(null);
  };
  return { error, local, setLocal, conflict, saved, busy, save, clear };
}

/**
 * The end of an editor: the conflict notice when there is one (discard the edit for the stored
 * version, or keep it and save over that version), Save, and what the last save did.
 */
export function SaveRow<T extends Versioned>({
  saver,
  base,
  shown,
  load,
  setBase,
  onStored,
  disabled = false,
  why,
}: {
  saver: Saver<T>;
  base: T;
  /** What the conflict's diff compares of a version. */
  shown: (version: T) => Json;
  /** Discard: puts the stored version into the editor (the edit is dropped). */
  load: (stored: T) => void;
  /** Keep: makes the stored version the base (the edit is kept, the next save carries its version). */
  setBase: (stored: T) => void;
  /** Either way, the page now shows the stored version. */
  onStored: (stored: T) => void;
  disabled?: boolean;
  /** Why Save is disabled, said beside it. */
  why?: string | null;
}) {
  const conflict = saver.conflict;
  return (
    <>
      {conflict ? (
        <ConflictNotice
          opened={shown(base)}
          stored={shown(conflict.current)}
          openedVersion={base.version}
          storedVersion={conflict.current.version}
          actor={conflict.actor}
          onDiscard={() => {
            saver.clear();
            load(conflict.current);
            onStored(conflict.current);
          }}
          onKeep={() => {
            saver.clear();
            setBase(conflict.current);
            onStored(conflict.current);
          }}
        />
      ) : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={saver.busy || conflict !== null || disabled} aria-describedby={why ? 'save-why' : undefined}>
          Save
        </button>
        {why ? (
          <span id="save-why" class="muted">
            {why}
          </span>
        ) : null}
        <span aria-live="polite" class="muted">
          {saver.saved}
        </span>
      </div>
    </>
  );
}
