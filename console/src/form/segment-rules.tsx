// A segment's rules (any one matching makes a user a member; docs/evaluation.md) edited with the
// flag editor's conditions (a condition, or an all-of group of them), in order (add, remove, move),
// or as JSON: **Form** and **JSON** switch between the two, both editing the same draft. JSON the
// form cannot show (a segment condition, a list of mixed types, …) keeps you in JSON with the
// reason. The server's 400 goes beside the element its path names (`rules[1].value`).
import type { ApiError, Json } from '../api';
import { ErrorText } from '../components';
import { FieldNames } from './conditions';
import { ModeSwitch, Problem, readForForm, type Problems } from './fields';
import { placeError, segmentRulePaths, segmentRulesFromJson, segmentRulesToJson, validateSegmentRules, type RuleBody } from './model';
import { newCondition, RuleList } from './rules';

export type RulesDraft = { mode: 'form'; rules: RuleBody[] } | { mode: 'json'; text: string; message: string | null };

const pretty = (value: Json) => JSON.stringify(value, null, 2);

/** Saved rules as a draft: in the form when it can show them (and `mode` is the form), else as JSON. */
export function rulesDraftOf(rules: Json[], mode: 'form' | 'json' = 'form'): RulesDraft {
  if (mode === 'json') return { mode: 'json', text: pretty(rules), message: null };
  const form = segmentRulesFromJson(rules);
  return typeof form === 'string' ? { mode: 'json', text: pretty(rules), message: form } : { mode: 'form', rules: form };
}

/** The rules the draft holds, or why they cannot be sent (JSON that does not parse, the form's first problem). */
export function rulesOfDraft(draft: RulesDraft): Json[] | string {
  if (draft.mode === 'json') {
    try {
      const parsed = JSON.parse(draft.text) as Json;
      return Array.isArray(parsed) ? parsed : 'rules: must be a JSON array';
    } catch (err) {
      return `rules: not JSON: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  const problems = validateSegmentRules(draft.rules);
  const first = problems.entries().next();
  if (!first.done) return `${first.value[0]}: ${first.value[1]}${problems.size > 1 ? ` (and ${problems.size - 1} more)` : ''}`;
  return segmentRulesToJson(draft.rules);
}

const newRule = (): RuleBody => ({ conditions: [newCondition()], grouped: false, extra: {} });

export function SegmentRulesEditor({
  draft,
  setDraft,
  error,
  local,
  jsonId,
}: {
  draft: RulesDraft;
  setDraft: (d: RulesDraft) => void;
  /** The server's 400 about the rules (or another refusal the page does not place itself). */
  error: ApiError | null;
  /** The page's own message about the rules (not JSON, not sent). */
  local: string | null;
  /** The JSON text box's id; its message is at `${jsonId}-error`. */
  jsonId: string;
}) {
  const switchTo = (mode: 'form' | 'json') => {
    if (mode === draft.mode) return;
    if (draft.mode === 'form') {
      setDraft({ mode: 'json', text: pretty(segmentRulesToJson(draft.rules)), message: null });
      return;
    }
    const read = readForForm(draft.text, 'array', 'the rules');
    if ('message' in read) {
      setDraft({ ...draft, message: read.message });
      return;
    }
    const rules = segmentRulesFromJson(read.value as Json[]);
    if (typeof rules === 'string') setDraft({ ...draft, message: `Still JSON: ${rules}` });
    else setDraft({ mode: 'form', rules });
  };
  return (
    <div class="definition segment-rules">
      <ModeSwitch mode={draft.mode} label="Edit the rules as" onSwitch={switchTo} />
      {draft.mode === 'json' ? (
        <>
          <label for={jsonId}>Rules (JSON: an array of conditions or {'{"all": [...]}'} groups; any one matching makes a user a member)</label>
          <textarea
            id={jsonId}
            rows={Math.min(24, draft.text.split('\n').length + 2)}
            spellcheck={false}
            value={draft.text}
            onInput={(e) => setDraft({ mode: 'json', text: e.currentTarget.value, message: null })}
            aria-describedby={draft.message !== null || local !== null || error !== null ? `${jsonId}-error` : undefined}
            aria-invalid={draft.message !== null || local !== null || error !== null}
          />
          <ErrorText id={`${jsonId}-error`} message={draft.message ?? local ?? error?.message} />
        </>
      ) : (
        <RulesForm rules={draft.rules} set={(rules) => setDraft({ mode: 'form', rules })} error={error} local={local} />
      )}
    </div>
  );
}

function RulesForm({ rules, set, error, local }: { rules: RuleBody[]; set: (rules: RuleBody[]) => void; error: ApiError | null; local: string | null }) {
  const checks = validateSegmentRules(rules);
  const placed = error ? placeError(error.field, segmentRulePaths(rules)) : null;
  const p: Problems = { at: (path) => (placed === path && error ? error.message : null) ?? checks.get(path) ?? null };
  const top = error && placed === null ? error.message : local;
  return (
    <fieldset class="part">
      <legend>Rules (any one matching makes a user a member)</legend>
      <ErrorText id="form-error" message={top} />
      <Problem p={p} path="rules" id="f-rules" />
      <FieldNames />
      {rules.length === 0 ? <p class="muted">No rules: the included ids are the only members.</p> : null}
      <RuleList rules={rules} set={set} segments={[]} p={p} fieldsOnly />
      <button type="button" onClick={() => set([...rules, newRule()])}>
        Add a rule
      </button>
    </fieldset>
  );
}
