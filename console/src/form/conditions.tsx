// One condition of a rule: a field compared by an operator (the value entered as the operator
// needs it: a list one per line, a number, a SemVer version, an RFC 3339 date-time, true/false,
// text), or a segment of the environment (member or not a member).
import { OPERATORS, valueKind, type Condition, type FieldCondition, type ScalarType } from './model';
import { described, Labelled, type Problems } from './fields';

const HINTS: Record<string, string> = {
  list: 'one value per line',
  number: 'a number',
  semver: 'a SemVer version such as 1.2.3',
  date: 'an RFC 3339 date-time such as 2026-12-01T00:00:00Z',
  string: 'text',
  scalar: '',
};

export function ConditionEditor({
  c,
  set,
  path,
  id,
  label,
  segments,
  p,
  whole,
  fieldsOnly = false,
}: {
  c: Condition;
  set: (c: Condition) => void;
  path: string;
  id: string;
  label: string;
  segments: readonly string[] | null;
  p: Problems;
  /** Whether the condition has a path of its own (in a group); a lone one's is its rule's. */
  whole: boolean;
  /** A field comparison only (a segment's rules cannot name segments): no choice of kind. */
  fieldsOnly?: boolean;
}) {
  const kindPath = whole ? path : `${path}(kind)`;
  const kind = c.kind === 'segment' ? (c.negate ? 'notSegment' : 'segment') : 'field';
  const changeKind = (to: string) => {
    if (to === kind) return;
    if (to === 'field') set({ kind: 'field', field: 'id', operator: 'eq', scalar: 'string', text: '', extra: {} });
    else set({ kind: 'segment', negate: to === 'notSegment', segment: c.kind === 'segment' ? c.segment : segments?.[0] ?? '', extra: {} });
  };
  return (
    <div class="condition">
      {fieldsOnly && c.kind === 'field' ? null : (
        <Labelled id={`${id}-kind`} label={`${label}: kind`} p={p} path={kindPath}>
          <select id={`${id}-kind`} value={kind} onChange={(e) => changeKind(e.currentTarget.value)} {...described(p, kindPath, `${id}-kind`)}>
            <option value="field">a field of the user</option>
            <option value="segment">in a segment</option>
            <option value="notSegment">not in a segment</option>
          </select>
        </Labelled>
      )}
      {c.kind === 'segment' ? (
        <SegmentChoice c={c} set={set} path={`${path}.${c.negate ? 'notSegment' : 'segment'}`} id={`${id}-segment`} label={label} segments={segments} p={p} />
      ) : (
        <FieldComparison c={c} set={set} path={path} id={id} label={label} p={p} />
      )}
    </div>
  );
}

/** The field names offered as suggestions to every condition's field input (`list="f-field-names"`). */
export function FieldNames() {
  return (
    <datalist id="f-field-names">
      {['id', 'email', 'country', 'attributes.'].map((f) => (
        <option key={f} value={f} />
      ))}
    </datalist>
  );
}

function SegmentChoice({ c, set, path, id, label, segments, p }: { c: Extract<Condition, { kind: 'segment' }>; set: (c: Condition) => void; path: string; id: string; label: string; segments: readonly string[] | null; p: Problems }) {
  const keys = segments ?? [];
  return (
    <Labelled id={id} label={`${label}: segment`} p={p} path={path}>
      <select id={id} value={c.segment} onChange={(e) => set({ ...c, segment: e.currentTarget.value })} {...described(p, path, id)}>
        {keys.includes(c.segment) ? null : <option value={c.segment}>{c.segment || (segments === null ? '(loading segments…)' : '(choose)')}</option>}
        {keys.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
    </Labelled>
  );
}

function FieldComparison({ c, set, path, id, label, p }: { c: FieldCondition; set: (c: Condition) => void; path: string; id: string; label: string; p: Problems }) {
  const kind = valueKind(c.operator);
  const operators: readonly string[] = OPERATORS.includes(c.operator as (typeof OPERATORS)[number]) ? OPERATORS : [c.operator, ...OPERATORS];
  const setOperator = (operator: string) => {
    const next = valueKind(operator);
    const scalar: ScalarType = next === 'number' ? 'number' : next === 'exists' ? 'boolean' : next === 'scalar' || next === 'list' ? c.scalar : 'string';
    const text = next === 'exists' ? (c.text === 'false' ? 'false' : 'true') : c.text;
    set({ ...c, operator, scalar, text });
  };
  const valuePath = `${path}.value`;
  const hintId = `${id}-value-hint`;
  const hint = kind === 'scalar' || kind === 'list' ? `${HINTS[kind] ?? ''}${kind === 'list' ? ', ' : ''}as ${c.scalar === 'string' ? 'text' : c.scalar === 'number' ? 'numbers' : 'true/false'}` : HINTS[kind] ?? '';
  return (
    <>
      <Labelled id={`${id}-field`} label={`${label}: field`} p={p} path={`${path}.field`}>
        <input id={`${id}-field`} value={c.field} list="f-field-names" autoComplete="off" onInput={(e) => set({ ...c, field: e.currentTarget.value })} {...described(p, `${path}.field`, `${id}-field`)} />
      </Labelled>
      <Labelled id={`${id}-operator`} label={`${label}: operator`} p={p} path={`${path}.operator`}>
        <select id={`${id}-operator`} value={c.operator} onChange={(e) => setOperator(e.currentTarget.value)} {...described(p, `${path}.operator`, `${id}-operator`)}>
          {operators.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </Labelled>
      {kind === 'scalar' || kind === 'list' ? (
        <Labelled id={`${id}-scalar`} label={`${label}: value type`} p={p} path={`${valuePath}-type`}>
          <select id={`${id}-scalar`} value={c.scalar} onChange={(e) => set({ ...c, scalar: e.currentTarget.value as ScalarType })}>
            <option value="string">text</option>
            <option value="number">number</option>
            <option value="boolean">true/false</option>
          </select>
        </Labelled>
      ) : null}
      <Labelled id={`${id}-value`} label={`${label}: value`} p={p} path={valuePath} class="grow">
        {kind === 'exists' || (kind === 'scalar' && c.scalar === 'boolean') ? (
          <select id={`${id}-value`} value={c.text} onChange={(e) => set({ ...c, text: e.currentTarget.value })} {...described(p, valuePath, `${id}-value`)}>
            {c.text === 'true' || c.text === 'false' ? null : <option value={c.text}>(choose)</option>}
            <option value="true">{kind === 'exists' ? 'true (present and not null)' : 'true'}</option>
            <option value="false">{kind === 'exists' ? 'false (absent or null)' : 'false'}</option>
          </select>
        ) : kind === 'list' ? (
          <textarea
            id={`${id}-value`}
            rows={Math.min(8, c.text.split('\n').length + 1)}
            spellcheck={false}
            value={c.text}
            onInput={(e) => set({ ...c, text: e.currentTarget.value })}
            {...described(p, valuePath, `${id}-value`, hintId)}
          />
        ) : (
          <input
            id={`${id}-value`}
            value={c.text}
            autoComplete="off"
            inputMode={kind === 'number' || c.scalar === 'number' ? 'decimal' : undefined}
            placeholder={kind === 'semver' ? '1.2.3' : kind === 'date' ? '2026-12-01T00:00:00Z' : undefined}
            onInput={(e) => set({ ...c, text: e.currentTarget.value })}
            {...described(p, valuePath, `${id}-value`, hintId)}
          />
        )}
        {hint ? (
          <span id={hintId} class="muted hint">
            {hint}
          </span>
        ) : null}
      </Labelled>
    </>
  );
}
