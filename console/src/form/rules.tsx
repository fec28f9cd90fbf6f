// The rules, in order (the first that matches decides): add, remove, move up and down; each with
// its conditions (all must hold; two or more are sent as an {"all": [...]} group) and its serve.
import type { ComponentChildren } from 'preact';
import { conditionPath, move, type Condition, type FormState, type Rule, type RuleBody } from './model';
import { ConditionEditor } from './conditions';
import { idOf, ItemButtons, Problem, type Problems } from './fields';
import { ServeEditor } from './serve';

export function RulesPart({ form, set, names, segments, p }: { form: FormState; set: (f: FormState) => void; names: readonly string[]; segments: readonly string[] | null; p: Problems }) {
  const setRules = (rules: Rule[]) => set({ ...form, rules });
  const newRule = (): Rule => ({
    conditions: [newCondition()],
    grouped: false,
    serve: { kind: 'variant', variant: form.type === 'boolean' ? 'on' : names[0] ?? '' },
    extra: {},
  });
  return (
    <fieldset class="part">
      <legend>Rules (checked in order; the first that matches decides)</legend>
      <Problem p={p} path="rules" id="f-rules" />
      {form.rules.length === 0 ? <p class="muted">No rules: every user gets the fallthrough.</p> : null}
      <RuleList
        rules={form.rules}
        set={setRules}
        segments={segments}
        p={p}
        more={(rule, i, label, setRule) => (
          <ServeEditor serve={rule.serve} set={(serve) => setRule({ ...rule, serve })} path={`rules[${i}].serve`} names={names} p={p} label={`${label} serves`} />
        )}
      />
      <button type="button" onClick={() => setRules([...form.rules, newRule()])}>
        Add a rule
      </button>
    </fieldset>
  );
}

/**
 * Rules in order (a flag's or a segment's), each a box: its title, **Up**, **Down**, **Remove**, its
 * messages and its conditions; `more` adds what a rule of that kind has besides (a flag's serve).
 */
export function RuleList<R extends RuleBody>({
  rules,
  set,
  segments,
  p,
  fieldsOnly = false,
  more,
}: {
  rules: R[];
  set: (rules: R[]) => void;
  segments: readonly string[] | null;
  p: Problems;
  fieldsOnly?: boolean;
  more?: (rule: R, index: number, label: string, setRule: (rule: R) => void) => ComponentChildren;
}) {
  const setRule = (i: number, rule: R) => set(rules.map((r, j) => (j === i ? rule : r)));
  return (
    <ol class="rules">
      {rules.map((rule, i) => {
        const label = `Rule ${i + 1}`;
        const id = idOf(`rules[${i}]`);
        const setConditions = (conditions: Condition[]) => setRule(i, { ...rule, conditions, grouped: rule.grouped && conditions.length > 0 });
        return (
          <li key={i} class="rule" aria-label={label}>
            <div class="rule-head">
              <h3 id={`${id}-title`}>{label}</h3>
              <ItemButtons what={label.toLowerCase()} index={i} count={rules.length} onMove={(to) => set(move(rules, i, to))} onRemove={() => set(rules.filter((_, j) => j !== i))} />
            </div>
            <Problem p={p} path={`rules[${i}]`} id={id} />
            <Problem p={p} path={`rules[${i}].all`} id={`${id}-all`} />
            <ConditionList rule={rule} index={i} label={label} id={id} set={setConditions} segments={segments} p={p} fieldsOnly={fieldsOnly} />
            {more?.(rule, i, label, (changed) => setRule(i, changed))}
          </li>
        );
      })}
    </ol>
  );
}

/** A new condition: `id eq ""`, to be filled in. */
export const newCondition = (): Condition => ({ kind: 'field', field: 'id', operator: 'eq', scalar: 'string', text: '', extra: {} });

/** The conditions of rule `index` (a flag's or a segment's), each removable, and **Add a condition**. */
export function ConditionList({
  rule,
  index,
  label,
  id,
  set,
  segments,
  p,
  fieldsOnly = false,
}: {
  rule: RuleBody;
  index: number;
  label: string;
  id: string;
  set: (conditions: Condition[]) => void;
  segments: readonly string[] | null;
  p: Problems;
  fieldsOnly?: boolean;
}) {
  return (
    <>
      <ol class="conditions">
        {rule.conditions.map((c, k) => {
          const clabel = `${label} condition ${k + 1}`;
          return (
            <li key={k} class="row">
              <ConditionEditor
                c={c}
                set={(next) => set(rule.conditions.map((x, j) => (j === k ? next : x)))}
                path={conditionPath(rule, index, k)}
                id={`${id}-c${k}`}
                label={clabel}
                segments={segments}
                p={p}
                whole={rule.grouped || rule.conditions.length !== 1}
                fieldsOnly={fieldsOnly}
              />
              {rule.conditions.length > 1 ? (
                <button type="button" class="remove" onClick={() => set(rule.conditions.filter((_, j) => j !== k))} aria-label={`Remove ${clabel.toLowerCase()}`}>
                  Remove
                </button>
              ) : null}
            </li>
          );
        })}
      </ol>
      <button type="button" onClick={() => set([...rule.conditions, newCondition()])} aria-label={`Add a condition to ${label.toLowerCase()}`}>
        Add a condition (all must hold)
      </button>
    </>
  );
}
