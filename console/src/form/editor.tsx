// The structured flag editor: the definition (type, variants, off variant, prerequisites, rules,
// the fallthrough or a boolean flag's rollout) as a form or as JSON, both editing the same draft.
// Switching to the form reads the JSON (a JSON error, or a part the form cannot show, keeps you in
// JSON with the message); switching to JSON writes the form out, fields it does not know included.
// The form's own checks and the server's 400 are shown beside the element their path names.
import { useEffect, useState } from 'preact/hooks';
import { WRITABLE, type ApiError, type Flag, type Json, type JsonObject, type Environment } from '../api';
import type { Session } from '../app';
import { ErrorText } from '../components';
import { FieldNames } from './conditions';
import { described, Labelled, ModeSwitch, readForForm, type Problems } from './fields';
import { fromJson, paths, placeError, toJson, validate, type FormState } from './model';
import { PrerequisitesPart } from './prerequisites';
import { RulesPart } from './rules';
import { ServeEditor } from './serve';
import { VariantsPart } from './variants';

export type Draft = { mode: 'form'; form: FormState } | { mode: 'json'; text: string; message: string | null };

const pretty = (value: Json) => JSON.stringify(value, null, 2);

/** A definition as a draft: the form when it can show it, else its JSON with the reason. */
export function draftOf(def: JsonObject): Draft {
  const form = fromJson(def);
  return typeof form === 'string' ? { mode: 'json', text: pretty(def), message: form } : { mode: 'form', form };
}

/** Reads a JSON definition's text: a JSON object of writable fields, or a message. */
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

/** What the draft defines now, or why it cannot be sent (the form's first problem, bad JSON). */
export function draftDefinition(draft: Draft, except: readonly string[]): JsonObject | string {
  if (draft.mode === 'json') return readDefinition(draft.text, except);
  const problems = validate(draft.form);
  const first = problems.entries().next();
  if (!first.done) return `${first.value[0]}: ${first.value[1]}${problems.size > 1 ? ` (and ${problems.size - 1} more)` : ''}`;
  return toJson(draft.form);
}

/** The environment's flags and segment keys, for prerequisites and segment conditions. */
function useChoices(session: Session, environment: Environment) {
  const [flags, setFlags] = useState<Flag[] | null>(null);
  const [segments, setSegments] = useState<string[] | null>(null);
  useEffect(() => {
    let live = true;
    setFlags(null);
    setSegments(null);
    session.api.listFlags({ environment }).then((b) => live && setFlags(b.flags), () => live && setFlags([]));
    session.api.listSegments(environment).then((b) => live && setSegments(b.segments.map((s) => s.key)), () => live && setSegments([]));
    return () => {
      live = false;
    };
  }, [session.api, environment]);
  return { flags, segments };
}

export function DefinitionEditor({
  session,
  environment,
  self,
  draft,
  setDraft,
  error,
  outside,
  except,
  jsonId,
  jsonErrorId,
  local,
}: {
  session: Session;
  environment: Environment;
  /** The flag's key (not offered as its own prerequisite), or null for a new flag. */
  self: string | null;
  draft: Draft;
  setDraft: (d: Draft) => void;
  /** The server's last 400 (or other refusal). */
  error: ApiError | null;
  /** Top-level fields whose messages the page shows itself (description, key, …). */
  outside: readonly string[];
  /** Fields the JSON does not hold (the page edits them apart). */
  except: readonly string[];
  jsonId: string;
  jsonErrorId: string;
  /** The page's own message about the draft (not JSON, not sent). */
  local: string | null;
}) {
  const choices = useChoices(session, environment);
  const serverMessage = error && !outside.includes(error.topField ?? '') ? error : null;

  const switchTo = (mode: 'form' | 'json') => {
    if (mode === draft.mode) return;
    if (draft.mode === 'form') {
      setDraft({ mode: 'json', text: pretty(toJson(draft.form)), message: null });
      return;
    }
    const read = readForForm(draft.text, 'object', 'the definition');
    if ('message' in read) {
      setDraft({ ...draft, message: read.message });
      return;
    }
    const form = fromJson(read.value as JsonObject);
    if (typeof form === 'string') setDraft({ ...draft, message: `Still JSON: ${form}` });
    else setDraft({ mode: 'form', form });
  };

  return (
    <div class="definition">
      <ModeSwitch mode={draft.mode} label="Edit the definition as" onSwitch={switchTo} />
      {draft.mode === 'json' ? (
        <>
          <label for={jsonId}>Definition (JSON: {WRITABLE.filter((f) => !except.includes(f)).join(', ')})</label>
          <textarea
            id={jsonId}
            rows={Math.min(30, draft.text.split('\n').length + 2)}
            spellcheck={false}
            value={draft.text}
            onInput={(e) => setDraft({ mode: 'json', text: e.currentTarget.value, message: null })}
            aria-describedby={draft.message !== null || local !== null || serverMessage !== null ? jsonErrorId : undefined}
            aria-invalid={draft.message !== null || local !== null || serverMessage !== null}
          />
          <ErrorText id={jsonErrorId} message={draft.message ?? local ?? serverMessage?.message} />
        </>
      ) : (
        <FormParts
          form={draft.form}
          set={(form) => setDraft({ mode: 'form', form })}
          error={serverMessage}
          local={local}
          choices={choices}
          self={self}
        />
      )}
    </div>
  );
}

function FormParts({
  form,
  set,
  error,
  local,
  choices,
  self,
}: {
  form: FormState;
  set: (f: FormState) => void;
  error: ApiError | null;
  local: string | null;
  choices: { flags: Flag[] | null; segments: string[] | null };
  self: string | null;
}) {
  const checks = validate(form);
  const placed = error ? placeError(error.field, paths(form)) : null;
  const p: Problems = { at: (path) => (placed === path && error ? error.message : null) ?? checks.get(path) ?? null };
  const names = form.type === 'boolean' ? ['on', 'off'] : form.variants.map((v) => v.name);
  const top = error && placed === null ? error.message : local;
  const extra = Object.keys(form.extra).filter((k) => !(form.type === 'boolean' && (k === 'variants' || k === 'offVariant')));
  return (
    <div class="form-parts">
      <ErrorText id="form-error" message={top} />
      {extra.length ? <p class="muted">Also in the definition, kept as they are (see JSON): {extra.join(', ')}.</p> : null}
      <FieldNames />
      <VariantsPart form={form} set={set} p={p} />
      <PrerequisitesPart form={form} set={set} flags={choices.flags} self={self} p={p} />
      <RulesPart form={form} set={set} names={names} segments={choices.segments} p={p} />
      <fieldset class="part">
        <legend>Fallthrough (users no rule matched)</legend>
        {form.type === 'boolean' ? (
          <div class="radios" role="radiogroup" aria-label="Fallthrough of a boolean flag">
            <label>
              <input type="radio" name="f-mode" checked={form.mode === 'rollout'} onChange={() => set({ ...form, mode: 'rollout' })} />
              a percentage rollout (rolloutPercentage)
            </label>
            <label>
              <input type="radio" name="f-mode" checked={form.mode === 'serve'} onChange={() => set({ ...form, mode: 'serve' })} />
              a variant or a split (fallthrough)
            </label>
          </div>
        ) : null}
        {form.type === 'boolean' && form.mode === 'rollout' ? (
          <Rollout form={form} set={set} p={p} />
        ) : (
          <ServeEditor serve={form.fallthrough} set={(fallthrough) => set({ ...form, fallthrough })} path="fallthrough" names={names} p={p} label="Fallthrough" />
        )}
      </fieldset>
    </div>
  );
}

function Rollout({ form, set, p }: { form: FormState; set: (f: FormState) => void; p: Problems }) {
  const n = Number(form.rollout);
  return (
    <div class="rollout">
      <Labelled id="f-rollout" label="Rollout percentage (users who get on)" p={p} path="rolloutPercentage">
        <div class="row">
          <input
            id="f-rollout-range"
            type="range"
            min={0}
            max={100}
            step={1}
            aria-label="Rollout percentage (slider)"
            value={Number.isFinite(n) ? n : 0}
            onInput={(e) => set({ ...form, rollout: e.currentTarget.value })}
          />
          <input
            id="f-rollout"
            type="number"
            min={0}
            max={100}
            step={1}
            class="narrow"
            value={form.rollout}
            onInput={(e) => set({ ...form, rollout: e.currentTarget.value })}
            {...described(p, 'rolloutPercentage', 'f-rollout')}
          />
          <span aria-hidden="true">%</span>
        </div>
      </Labelled>
    </div>
  );
}
