// One flag: its definition, its usage per variant, the editor (If-Match on every save, a conflict
// shown with the diff of what changed since the page was opened), and a user evaluated locally.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, canWrite, definitionOf, WRITABLE, type Flag, type Json, type JsonObject, type Usage } from '../api';
import type { Session } from '../app';
import { ConflictNotice, ErrorText, Loading, Page } from '../components';
import { count, when } from '../format';
import { href } from '../router';
import { DeleteFlag } from './delete-flag';
import { total } from './flags';
import { Preview } from './preview';
import { TryUser } from './try-user';

export function FlagView({ session, id }: { session: Session; id: string }) {
  const [flag, setFlag] = useState<Flag | null>(null);
  const [usage, setUsage] = useState<Usage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setFlag(null);
    session.api.getFlag(id).then(
      (body) => {
        if (!live) return;
        setFlag(body.flag);
        setUsage(body.usage);
      },
      (err: unknown) => live && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [session.api, id]);

  if (error) return <Page title="Flag"><ErrorText message={error} /></Page>;
  if (!flag) return <Loading what="the flag" />;
  const writable = canWrite(session.who, flag.environment);
  return (
    <Page
      title={flag.key}
      actions={
        <>
          <a class="button" href={`${href('audit')}?flag=${encodeURIComponent(flag.id)}`}>
            Audit log
          </a>
          {writable ? (
            <a class="button danger" href={`${href('kill')}?key=${encodeURIComponent(flag.key)}`}>
              Kill switch…
            </a>
          ) : null}
          {writable ? <DeleteFlag session={session} flag={flag} usage={usage} /> : null}
        </>
      }
    >
      <dl class="facts">
        <dt>Environment</dt>
        <dd>{flag.environment}</dd>
        <dt>State</dt>
        <dd>
          <span class={flag.enabled ? 'pill on' : 'pill off'}>{flag.enabled ? 'on' : 'off'}</span>
        </dd>
        <dt>Type</dt>
        <dd>{flag.type ?? 'boolean'}</dd>
        <dt>Version</dt>
        <dd>{flag.version}</dd>
        <dt>Last change</dt>
        <dd>{when(flag.updatedAt)}</dd>
      </dl>
      {usage ? <UsageTable flag={flag} usage={usage} /> : null}
      {writable ? (
        <Editor session={session} flag={flag} onSaved={setFlag} />
      ) : (
        <section aria-labelledby="definition-title">
          <h2 id="definition-title">Definition</h2>
          <pre class="json">{JSON.stringify({ description: flag.description, enabled: flag.enabled, ...definitionOf(flag) }, null, 2)}</pre>
        </section>
      )}
      <TryUser session={session} flag={flag} />
    </Page>
  );
}

function UsageTable({ flag, usage }: { flag: Flag; usage: Usage }) {
  const variants = Object.keys(flag.variants ?? { on: true, off: false });
  for (const seen of Object.keys(usage.last24h)) if (!variants.includes(seen)) variants.push(seen);
  return (
    <section aria-labelledby="usage-title">
      <h2 id="usage-title">Usage</h2>
      <p class="muted">
        {count(total(usage))} evaluations since {when(usage.windowStart)}; last evaluated {when(usage.lastEvaluatedAt)}.
      </p>
      <table class="usage">
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Evaluations (24 h)</th>
          </tr>
        </thead>
        <tbody>
          {variants.map((v) => (
            <tr key={v}>
              <th scope="row">{v}</th>
              <td>{count(usage.last24h[v] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface Conflict {
  current: Flag;
  actor: string | null;
}

/** Reads the definition editor's text: a JSON object of writable fields, or a message. */
export function readDefinition(text: string, except: readonly string[]): JsonObject | string {
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (err) {
    return `not JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return 'must be a JSON object';
  for (const field of Object.keys(parsed)) {
    if (!(WRITABLE as readonly string[]).includes(field) || except.includes(field)) {
      return `${field}: not a field this editor writes (it writes ${WRITABLE.filter((f) => !except.includes(f)).join(', ')})`;
    }
  }
  return parsed;
}

function Editor({ session, flag, onSaved }: { session: Session; flag: Flag; onSaved: (flag: Flag) => void }) {
  const [base, setBase] = useState(flag);
  const [description, setDescription] = useState(flag.description);
  const [enabled, setEnabled] = useState(flag.enabled);
  const [text, setText] = useState(() => JSON.stringify(definitionOf(flag), null, 2));
  const [error, setError] = useState<ApiError | null>(null);
  const [local, setLocal] = useState<string | null>(null);
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = (f: Flag) => {
    setBase(f);
    setDescription(f.description);
    setEnabled(f.enabled);
    setText(JSON.stringify(definitionOf(f), null, 2));
  };

  const save = async (e: Event) => {
    e.preventDefault();
    setError(null);
    setSaved(null);
    const definition = readDefinition(text, ['description', 'enabled']);
    if (typeof definition === 'string') {
      setLocal(definition);
      return;
    }
    setLocal(null);
    setBusy(true);
    try {
      const body = await session.api.updateFlag(base.id, { description, enabled, ...definition }, base.version);
      load(body.flag);
      onSaved(body.flag);
      setConflict(null);
      setSaved(`Saved: version ${body.flag.version}.`);
    } catch (err) {
      if (!(err instanceof ApiError)) {
        setLocal(`not sent: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      if (err.status === 409) {
        // Another version may have been written since the page was opened: show what changed.
        const current = await session.api.getFlag(base.id).then((body) => body.flag, () => null);
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

  const at = (field: string) => (error && error.topField === field ? error.message : null);
  const general = error && !['description', 'enabled', 'key', 'environment'].includes(error.topField ?? '') ? error : null;
  const opened = { description: base.description, enabled: base.enabled, ...definitionOf(base), version: base.version, updatedAt: base.updatedAt };

  const current = readDefinition(text, ['description', 'enabled']);
  return (
    <>
    <form class="editor" onSubmit={save} aria-labelledby="edit-title">
      <h2 id="edit-title">Edit</h2>
      <label for="flag-description">Description</label>
      <input
        id="flag-description"
        value={description}
        onInput={(e) => setDescription(e.currentTarget.value)}
        aria-describedby={at('description') ? 'description-error' : undefined}
      />
      <ErrorText id="description-error" message={at('description')} />
      <div class="check">
        <input id="flag-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <label for="flag-enabled">Enabled (off serves the off variant to everyone)</label>
      </div>
      <ErrorText message={at('enabled')} />
      <label for="flag-definition">
        Definition (JSON: {WRITABLE.filter((f) => f !== 'description' && f !== 'enabled').join(', ')})
      </label>
      <textarea
        id="flag-definition"
        rows={Math.min(30, text.split('\n').length + 2)}
        spellcheck={false}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        aria-describedby={local !== null || general !== null ? 'definition-error' : undefined}
        aria-invalid={local !== null || general !== null}
      />
      <ErrorText id="definition-error" message={local ?? general?.message} />
      {conflict ? (
        <ConflictNotice
          opened={opened}
          stored={{
            description: conflict.current.description,
            enabled: conflict.current.enabled,
            ...definitionOf(conflict.current),
            version: conflict.current.version,
            updatedAt: conflict.current.updatedAt,
          }}
          openedVersion={base.version}
          storedVersion={conflict.current.version}
          actor={conflict.actor}
          onDiscard={() => {
            load(conflict.current);
            onSaved(conflict.current);
            setConflict(null);
          }}
          onKeep={() => {
            setBase(conflict.current);
            onSaved(conflict.current);
            setConflict(null);
          }}
        />
      ) : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={busy || conflict !== null}>
          Save
        </button>
        <span aria-live="polite" class="muted">
          {saved}
        </span>
      </div>
    </form>
    <Preview session={session} flag={base} edit={{ description, enabled, definition: current }} />
    </>
  );
}
