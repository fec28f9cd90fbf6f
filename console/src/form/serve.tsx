// A serve: one variant, or a split of variants by weight. Weights are entered as percentages with
// up to three decimals (the API's unit is a thousandth of a percent: 33.333 % is 33333), read as
// text so nothing drifts; the live sum is shown and must be 100 %; bucketBy (default "id") and salt.
import { percentText, splitSum, SPLIT_TOTAL, type Serve } from './model';
import { described, idOf, Labelled, Problem, type Problems } from './fields';

export function ServeEditor({ serve, set, path, names, p, label }: { serve: Serve; set: (s: Serve) => void; path: string; names: readonly string[]; p: Problems; label: string }) {
  const id = idOf(path);
  const toSplit = (): Serve => {
    const first = serve.kind === 'variant' && serve.variant !== '' ? serve.variant : names[0] ?? '';
    return { kind: 'split', rows: [{ variant: first, percent: '100', extra: {} }], bucketBy: '', salt: '', extra: {} };
  };
  const options = (current: string) => (
    <>
      {names.includes(current) ? null : <option value={current}>{current || '(choose)'}</option>}
      {names.map((n) => (
        <option key={n} value={n}>
          {n}
        </option>
      ))}
    </>
  );
  return (
    <fieldset class="serve">
      <legend>{label}</legend>
      <div class="radios" role="radiogroup" aria-label={`${label}: a variant or a split`}>
        <label>
          <input type="radio" name={`${id}-kind`} checked={serve.kind === 'variant'} onChange={() => set({ kind: 'variant', variant: serve.kind === 'split' ? serve.rows[0]?.variant ?? '' : serve.variant })} />
          one variant
        </label>
        <label>
          <input type="radio" name={`${id}-kind`} checked={serve.kind === 'split'} onChange={() => set(toSplit())} />
          a split by weight
        </label>
      </div>
      {serve.kind === 'variant' ? (
        <Labelled id={`${id}-variant`} label={`${label}: variant`} p={p} path={path}>
          <select id={`${id}-variant`} value={serve.variant} onChange={(e) => set({ kind: 'variant', variant: e.currentTarget.value })} {...described(p, path, `${id}-variant`)}>
            {options(serve.variant)}
          </select>
        </Labelled>
      ) : (
        <Split serve={serve} set={set} path={path} id={id} p={p} label={label} options={options} names={names} />
      )}
    </fieldset>
  );
}

function Split({
  serve,
  set,
  path,
  id,
  p,
  label,
  options,
  names,
}: {
  serve: Extract<Serve, { kind: 'split' }>;
  set: (s: Serve) => void;
  path: string;
  id: string;
  p: Problems;
  label: string;
  options: (current: string) => preact.JSX.Element;
  names: readonly string[];
}) {
  const sum = splitSum(serve.rows);
  const rows = (f: (r: typeof serve.rows) => typeof serve.rows) => set({ ...serve, rows: f(serve.rows) });
  // The weights are described by the split's message too (the sum is not 100 %).
  const sumError = p.at(`${path}.split`) ? `${id}-split-error` : undefined;
  const unused = names.find((n) => !serve.rows.some((r) => r.variant === n)) ?? '';
  return (
    <>
      <Problem p={p} path={path} id={id} />
      <ol class="rows split">
        {serve.rows.map((r, k) => {
          const at = `${path}.split[${k}]`;
          const rid = `${id}-split-${k}`;
          return (
            <li key={k} class="row">
              <Labelled id={`${rid}-variant`} label={`${label}: split ${k + 1} variant`} p={p} path={`${at}.variant`}>
                <select id={`${rid}-variant`} value={r.variant} onChange={(e) => rows((all) => all.map((x, j) => (j === k ? { ...x, variant: e.currentTarget.value } : x)))} {...described(p, `${at}.variant`, `${rid}-variant`)}>
                  {options(r.variant)}
                </select>
              </Labelled>
              <Labelled id={`${rid}-weight`} label={`${label}: split ${k + 1} weight (%)`} p={p} path={`${at}.weight`} class="narrow">
                <input
                  id={`${rid}-weight`}
                  value={r.percent}
                  inputMode="decimal"
                  autoComplete="off"
                  onInput={(e) => rows((all) => all.map((x, j) => (j === k ? { ...x, percent: e.currentTarget.value } : x)))}
                  {...described(p, `${at}.weight`, `${rid}-weight`, sumError)}
                />
              </Labelled>
              <button type="button" class="remove" onClick={() => rows((all) => all.filter((_, j) => j !== k))} aria-label={`Remove split ${k + 1} of ${label}`}>
                Remove
              </button>
            </li>
          );
        })}
      </ol>
      <div class="actions">
        <button type="button" onClick={() => rows((all) => [...all, { variant: unused, percent: '0', extra: {} }])}>
          Add a variant to the split
        </button>
        <span class={sum === SPLIT_TOTAL ? 'muted sum' : 'sum'} id={`${id}-sum`} aria-live="polite">
          {sum === null ? 'Sum: — (a weight is not a percentage)' : `Sum: ${percentText(sum)} %`}
        </span>
      </div>
      <Problem p={p} path={`${path}.split`} id={`${id}-split`} />
      <div class="row">
        <Labelled id={`${id}-bucketBy`} label={`${label}: bucket by (default id)`} p={p} path={`${path}.bucketBy`}>
          <input id={`${id}-bucketBy`} value={serve.bucketBy} placeholder="id" autoComplete="off" onInput={(e) => set({ ...serve, bucketBy: e.currentTarget.value })} {...described(p, `${path}.bucketBy`, `${id}-bucketBy`)} />
        </Labelled>
        <Labelled id={`${id}-salt`} label={`${label}: salt`} p={p} path={`${path}.salt`}>
          <input id={`${id}-salt`} value={serve.salt} placeholder="the flag's key" autoComplete="off" onInput={(e) => set({ ...serve, salt: e.currentTarget.value })} {...described(p, `${path}.salt`, `${id}-salt`)} />
        </Labelled>
      </div>
    </>
  );
}

