// Variants typed by the flag's type: a boolean flag's are fixed (on/off); a string's are text, a
// number's numeric (a value that is not a finite number is refused beside it), an object's a JSON
// text box each (its parse error beside it). Add, rename (references in this flag follow), remove;
// the off variant chosen from them.
import { changeType, renameVariant, TYPES, type FlagType, type FormState } from './model';
import { described, idOf, Labelled, Problem, type Problems } from './fields';

export function VariantsPart({ form, set, p }: { form: FormState; set: (f: FormState) => void; p: Problems }) {
  const names = form.variants.map((v) => v.name);
  const fresh = () => {
    let k = form.variants.length + 1;
    while (names.includes(`variant-${k}`)) k++;
    return `variant-${k}`;
  };
  const emptyValue = form.type === 'number' ? '0' : form.type === 'object' ? '{}' : '';
  return (
    <fieldset class="part">
      <legend>Type and variants</legend>
      <Labelled id="f-type" label="Type" p={p} path="type">
        <select id="f-type" value={form.type} onChange={(e) => set(changeType(form, e.currentTarget.value as FlagType))} {...described(p, 'type', 'f-type')}>
          {TYPES.map((t) => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </Labelled>
      {form.type === 'boolean' ? (
        <p class="muted">A boolean flag serves <code>on</code> (true) or <code>off</code> (false); <code>off</code> when it is disabled.</p>
      ) : (
        <>
          <Problem p={p} path="variants" id="f-variants" />
          <ol class="rows variants">
            {form.variants.map((v, k) => {
              const path = `variants.${v.name}`;
              const id = `f-variant-${k}`;
              const setText = (text: string) => set({ ...form, variants: form.variants.map((x, j) => (j === k ? { ...x, text } : x)) });
              return (
                <li key={k} class="row">
                  <div class="field">
                    <label for={`${id}-name`}>Variant {k + 1} name</label>
                    <input id={`${id}-name`} value={v.name} autoComplete="off" onInput={(e) => set(renameVariant(form, k, e.currentTarget.value))} {...described(p, path, id)} />
                  </div>
                  <div class="field grow">
                    <label for={`${id}-value`}>Variant {k + 1} value ({form.type === 'object' ? 'JSON object' : form.type})</label>
                    {form.type === 'object' ? (
                      <textarea
                        id={`${id}-value`}
                        rows={Math.min(12, v.text.split('\n').length + 1)}
                        spellcheck={false}
                        value={v.text}
                        onInput={(e) => setText(e.currentTarget.value)}
                        {...described(p, path, id)}
                      />
                    ) : (
                      <input
                        id={`${id}-value`}
                        value={v.text}
                        inputMode={form.type === 'number' ? 'decimal' : undefined}
                        onInput={(e) => setText(e.currentTarget.value)}
                        {...described(p, path, id)}
                      />
                    )}
                  </div>
                  <button type="button" class="remove" onClick={() => set({ ...form, variants: form.variants.filter((_, j) => j !== k) })} aria-label={`Remove variant ${v.name || k + 1}`}>
                    Remove
                  </button>
                  <Problem p={p} path={path} id={id} />
                </li>
              );
            })}
          </ol>
          <button type="button" onClick={() => set({ ...form, variants: [...form.variants, { name: fresh(), text: emptyValue }] })}>
            Add a variant
          </button>
          <Labelled id={idOf('offVariant')} label="Off variant (served when the flag is disabled or a prerequisite fails)" p={p} path="offVariant">
            <select id={idOf('offVariant')} value={form.offVariant} onChange={(e) => set({ ...form, offVariant: e.currentTarget.value })} {...described(p, 'offVariant', idOf('offVariant'))}>
              {names.includes(form.offVariant) ? null : <option value={form.offVariant}>{form.offVariant || '(choose)'}</option>}
              {names.map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </Labelled>
        </>
      )}
    </fieldset>
  );
}
