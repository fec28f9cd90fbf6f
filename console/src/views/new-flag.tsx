// Create a flag: its key, environment, description and state, and the definition started from a
// template, edited in the structured form or as JSON (form/editor.tsx).
import { useState } from 'preact/hooks';
import { ApiError, type Environment, type JsonObject } from '../api';
import type { Session } from '../app';
import { EnvironmentField, Page, TextField } from '../components';
import { go, href } from '../router';
import { DefinitionEditor, draftDefinition, draftOf, type Draft } from '../form/editor';

const TEMPLATES: Record<string, { label: string; body: JsonObject }> = {
  boolean: {
    label: 'Boolean, percentage rollout',
    body: { type: 'boolean', rules: [], rolloutPercentage: 0 },
  },
  string: {
    label: 'String, three variants split by weight',
    body: {
      type: 'string',
      variants: { red: 'red', green: 'green', blue: 'blue' },
      offVariant: 'red',
      rules: [],
      fallthrough: {
        split: [
          { variant: 'red', weight: 34000 },
          { variant: 'green', weight: 33000 },
          { variant: 'blue', weight: 33000 },
        ],
      },
    },
  },
  number: {
    label: 'Number, a rule and a default',
    body: {
      type: 'number',
      variants: { low: 10, high: 50 },
      offVariant: 'low',
      rules: [{ field: 'attributes.plan', operator: 'eq', value: 'pro', serve: 'high' }],
      fallthrough: 'low',
    },
  },
  object: {
    label: 'Object (JSON values)',
    body: {
      type: 'object',
      variants: { compact: { columns: 2, images: false }, rich: { columns: 3, images: true } },
      offVariant: 'compact',
      rules: [],
      fallthrough: 'compact',
    },
  },
};

const OUTSIDE = ['key', 'environment', 'description', 'enabled'];
const EXCEPT = ['description', 'enabled'];

export function NewFlag({ session, environment }: { session: Session; environment: Environment }) {
  const writable = session.who.environments;
  const [key, setKey] = useState('');
  const [env, setEnv] = useState<Environment>(environment);
  const [description, setDescription] = useState('');
  const [enabled, setEnabled] = useState(false);
  const [template, setTemplate] = useState('string');
  const [draft, setDraft] = useState<Draft>(() => draftOf(TEMPLATES.string!.body));
  const [error, setError] = useState<ApiError | null>(null);
  const [local, setLocal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const definition = draftDefinition(draft, EXCEPT);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    if (typeof definition === 'string') {
      setLocal(definition);
      return;
    }
    setLocal(null);
    setBusy(true);
    try {
      const body = await session.api.createFlag({ key, environment: env, description, enabled, ...definition });
      go(href('flag', body.flag.id));
    } catch (err) {
      if (!(err instanceof ApiError)) {
        setLocal(`not sent: ${err instanceof Error ? err.message : String(err)}`);
        return;
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const at = (field: string) => (error && error.topField === field ? error.message : null);
  const formProblem = draft.mode === 'form' && typeof definition === 'string';

  return (
    <Page title="New flag">
      <form class="editor" onSubmit={create}>
        <TextField
          id="new-key"
          label="Key"
          autoComplete="off"
          required
          value={key}
          setValue={(value) => {
            setKey(value);
            if (error?.topField === 'key') setError(null);
          }}
          error={at('key')}
          errorId="key-error"
        />
        <EnvironmentField id="new-environment" value={env} setValue={setEnv} choices={writable} error={at('environment')} />
        <TextField id="new-description" label="Description" value={description} setValue={setDescription} error={at('description')} />
        <div class="check">
          <input id="new-enabled" type="checkbox" checked={enabled} onChange={(e) => setEnabled(e.currentTarget.checked)} />
          <label for="new-enabled">Enabled</label>
        </div>
        <label for="new-template">Template</label>
        <select
          id="new-template"
          value={template}
          onChange={(e) => {
            const name = e.currentTarget.value;
            setTemplate(name);
            const chosen = TEMPLATES[name];
            if (!chosen) return;
            setDraft(draft.mode === 'json' ? { mode: 'json', text: JSON.stringify(chosen.body, null, 2), message: null } : draftOf(chosen.body));
          }}
        >
          {Object.entries(TEMPLATES).map(([name, t]) => (
            <option key={name} value={name}>
              {t.label}
            </option>
          ))}
        </select>
        <DefinitionEditor
          session={session}
          environment={env}
          self={key === '' ? null : key}
          draft={draft}
          setDraft={(d) => {
            setDraft(d);
            setLocal(null);
          }}
          error={error}
          outside={OUTSIDE}
          except={EXCEPT}
          jsonId="new-definition"
          jsonErrorId="new-definition-error"
          local={local}
        />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || formProblem} aria-describedby={formProblem ? 'create-why' : undefined}>
            Create flag
          </button>
          {formProblem ? (
            <span id="create-why" class="muted">
              Not yet: {definition}
            </span>
          ) : null}
          <a class="button" href={href('flags', env)}>
            Cancel
          </a>
        </div>
      </form>
    </Page>
  );
}
