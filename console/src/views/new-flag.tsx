// Create a flag: its key and environment, and the rest as JSON started from a template.
import { useState } from 'preact/hooks';
import { ApiError, type Environment, type JsonObject } from '../api';
import type { Session } from '../app';
import { ErrorText, Page } from '../components';
import { go, href } from '../router';
import { readDefinition } from './flag';

const TEMPLATES: Record<string, { label: string; body: JsonObject }> = {
  boolean: {
    label: 'Boolean, percentage rollout',
    body: { description: '', enabled: false, type: 'boolean', rules: [], rolloutPercentage: 0 },
  },
  string: {
    label: 'String, three variants split by weight',
    body: {
      description: '',
      enabled: false,
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
      description: '',
      enabled: false,
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
      description: '',
      enabled: false,
      type: 'object',
      variants: { compact: { columns: 2, images: false }, rich: { columns: 3, images: true } },
      offVariant: 'compact',
      rules: [],
      fallthrough: 'compact',
    },
  },
};

const pretty = (body: JsonObject) => JSON.stringify(body, null, 2);

export function NewFlag({ session, environment }: { session: Session; environment: Environment }) {
  const writable = session.who.environments;
  const [key, setKey] = useState('');
  const [env, setEnv] = useState<Environment>(environment);
  const [template, setTemplate] = useState('string');
  const [text, setText] = useState(() => pretty(TEMPLATES.string!.body));
  const [error, setError] = useState<ApiError | null>(null);
  const [local, setLocal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const definition = readDefinition(text, []);
    if (typeof definition === 'string') {
      setLocal(definition);
      return;
    }
    setLocal(null);
    setBusy(true);
    try {
      const body = await session.api.createFlag({ key, environment: env, ...definition });
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
  const general = error && !['key', 'environment'].includes(error.topField ?? '') ? error.message : null;

  return (
    <Page title="New flag">
      <form class="editor" onSubmit={create}>
        <label for="new-key">Key</label>
        <input
          id="new-key"
          value={key}
          onInput={(e) => {
            setKey(e.currentTarget.value);
            if (error?.topField === 'key') setError(null);
          }}
          autoComplete="off"
          aria-describedby={at('key') ? 'key-error' : undefined}
          required
        />
        <ErrorText id="key-error" message={at('key')} />
        <label for="new-environment">Environment</label>
        <select id="new-environment" value={env} onChange={(e) => setEnv(e.currentTarget.value as Environment)}>
          {writable.map((e) => (
            <option key={e} value={e}>
              {e}
            </option>
          ))}
        </select>
        <ErrorText message={at('environment')} />
        <label for="new-template">Template</label>
        <select
          id="new-template"
          value={template}
          onChange={(e) => {
            const name = e.currentTarget.value;
            setTemplate(name);
            const chosen = TEMPLATES[name];
            if (chosen) setText(pretty(chosen.body));
          }}
        >
          {Object.entries(TEMPLATES).map(([name, t]) => (
            <option key={name} value={name}>
              {t.label}
            </option>
          ))}
        </select>
        <label for="new-definition">Definition (JSON)</label>
        <textarea
          id="new-definition"
          rows={Math.min(30, text.split('\n').length + 2)}
          spellcheck={false}
          value={text}
          onInput={(e) => setText(e.currentTarget.value)}
          aria-describedby={local !== null || general !== null ? 'new-definition-error' : undefined}
          aria-invalid={local !== null || general !== null}
        />
        <ErrorText id="new-definition-error" message={local ?? general} />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            Create flag
          </button>
          <a class="button" href={href('flags', env)}>
            Cancel
          </a>
        </div>
      </form>
    </Page>
  );
}
