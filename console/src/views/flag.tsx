// One flag: its definition, its usage per variant, the editor (the structured form or JSON,
// form/editor.tsx; If-Match on every save, a conflict shown with the diff of what changed since the
// page was opened, save.tsx), and a user evaluated locally.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, canWrite, definitionOf, type Flag, type JsonObject, type Usage } from '../api';
import type { Session } from '../app';
import { ErrorText, Loading, Page, TextField } from '../components';
import { DefinitionEditor, draftDefinition, draftOf, type Draft } from '../form/editor';
import { count, when } from '../format';
import { href } from '../router';
import { DeleteFlag } from './delete-flag';
import { SaveRow, useSaver } from '../save';
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

/** What the conflict's diff compares of a version: the fields a person edits, and the version. */
function shown(f: Flag): JsonObject {
  return { description: f.description, enabled: f.enabled, ...definitionOf(f), version: f.version, updatedAt: f.updatedAt };
}

const OUTSIDE = ['description', 'enabled', 'key', 'environment'];
const EXCEPT = ['description', 'enabled'];

function Editor({ session, flag, onSaved }: { session: Session; flag: Flag; onSaved: (flag: Flag) => void }) {
  const [base, setBase] = useState(flag);
  const [description, setDescription] = useState(flag.description);
  const [enabled, setEnabled] = useState(flag.enabled);
  const [draft, setDraft] = useState<Draft>(() => draftOf(definitionOf(flag)));
  const saver = useSaver<Flag>(
    session,
    (id, body, version) => session.api.updateFlag(id, body, version).then((b) => b.flag),
    (id) => session.api.getFlag(id).then((b) => b.flag),
  );

  const load = (f: Flag) => {
    setBase(f);
    setDescription(f.description);
    setEnabled(f.enabled);
    // The draft stays in the mode it is in.
    setDraft(draft.mode === 'json' ? { mode: 'json', text: JSON.stringify(definitionOf(f), null, 2), message: null } : draftOf(definitionOf(f)));
  };

  const current = draftDefinition(draft, EXCEPT);
  const save = async (e: Event) => {
    e.preventDefault();
    if (typeof current === 'string') {
      saver.setLocal(current);
      return;
    }
    await saver.save(base, { description, enabled, ...current }, (stored) => {
      load(stored);
      onSaved(stored);
      return `Saved: version ${stored.version}.`;
    });
  };

  const error = saver.error;
  const at = (field: string) => (error && error.topField === field ? error.message : null);
  const formProblem = draft.mode === 'form' && typeof current === 'string';
  return (
    <>
    <form class="editor" onSubmit={save} aria-labelledby="edit-title">
      <h2 id="edit-title">Edit</h2>
      <TextField id="flag-description" label="Description" value={description} setValue={setDescription} error={at('description')} errorId="description-error" />
      <div class="check">
        <input id="flag-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
        <label for="flag-enabled">Enabled (off serves the off variant to everyone)</label>
      </div>
      <ErrorText message={at('enabled')} />
      <DefinitionEditor
        session={session}
        environment={base.environment}
        self={base.key}
        draft={draft}
        setDraft={(d) => {
          setDraft(d);
          if (saver.local) saver.setLocal(null);
        }}
        error={error}
        outside={OUTSIDE}
        except={EXCEPT}
        jsonId="flag-definition"
        jsonErrorId="definition-error"
        local={saver.local}
      />
      <SaveRow
        saver={saver}
        base={base}
        shown={shown}
        load={load}
        setBase={setBase}
        onStored={onSaved}
        disabled={formProblem}
        why={formProblem ? `Not yet: ${current}` : null}
      />
    </form>
    <Preview session={session} flag={base} edit={{ description, enabled, definition: current }} />
    </>
  );
}
