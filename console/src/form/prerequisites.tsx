// Prerequisites: flags of the same environment that must serve one of the chosen variants first.
import type { Flag } from '../api';
import type { FormState, Prerequisite } from './model';
import { described, idOf, ItemButtons, Labelled, Problem, type Problems } from './fields';

/** The variants a flag can serve (a boolean flag's are on and off). */
const variantsOf = (flag: Flag | undefined) => Object.keys(flag?.variants ?? { off: false, on: true });

export function PrerequisitesPart({ form, set, flags, self, p }: { form: FormState; set: (f: FormState) => void; flags: Flag[] | null; self: string | null; p: Problems }) {
  const others = (flags ?? []).filter((f) => f.key !== self);
  const setAll = (prerequisites: Prerequisite[]) => set({ ...form, prerequisites });
  const setOne = (k: number, next: Prerequisite) => setAll(form.prerequisites.map((x, j) => (j === k ? next : x)));
  return (
    <fieldset class="part">
      <legend>Prerequisites (flags that must serve one of the chosen variants first)</legend>
      <Problem p={p} path="prerequisites" id="f-prerequisites" />
      <ol class="rows">
        {form.prerequisites.map((pre, k) => {
          const path = `prerequisites[${k}]`;
          const id = idOf(path);
          const chosen = others.find((f) => f.key === pre.flag);
          const label = `Prerequisite ${k + 1}`;
          return (
            <li key={k} class="prerequisite">
              <Problem p={p} path={path} id={id} />
              <Labelled id={`${id}-flag`} label={`${label}: flag`} p={p} path={`${path}.flag`}>
                <select id={`${id}-flag`} value={pre.flag} onChange={(e) => setOne(k, { ...pre, flag: e.currentTarget.value, variants: [] })} {...described(p, `${path}.flag`, `${id}-flag`)}>
                  {chosen ? null : <option value={pre.flag}>{pre.flag || (flags === null ? '(loading flags…)' : '(choose)')}</option>}
                  {others.map((f) => (
                    <option key={f.key} value={f.key}>
                      {f.key}
                    </option>
                  ))}
                </select>
              </Labelled>
              <fieldset class="checks" aria-describedby={p.at(`${path}.variants`) ? `${id}-variants-error` : undefined}>
                <legend>{label}: it must serve one of</legend>
                {[...new Set([...variantsOf(chosen), ...pre.variants])].map((v) => (
                  <label key={v}>
                    <input
                      type="checkbox"
                      checked={pre.variants.includes(v)}
                      onChange={(e) => setOne(k, { ...pre, variants: e.currentTarget.checked ? [...pre.variants, v] : pre.variants.filter((x) => x !== v) })}
                    />
                    {v}
                  </label>
                ))}
              </fieldset>
              <Problem p={p} path={`${path}.variants`} id={`${id}-variants`} />
              <ItemButtons what={label.toLowerCase()} index={k} count={form.prerequisites.length} onRemove={() => setAll(form.prerequisites.filter((_, j) => j !== k))} />
            </li>
          );
        })}
      </ol>
      <button type="button" onClick={() => setAll([...form.prerequisites, { flag: others[0]?.key ?? '', variants: [], extra: {} }])} disabled={flags !== null && others.length === 0}>
        Add a prerequisite
      </button>
    </fieldset>
  );
}
