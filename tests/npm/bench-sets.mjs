// The flag sets and users of the native criterion benches (evaluator/benches/evaluate.rs), written
// once for the Node bench (bench.mjs) and the Chromium one (bench-browser.mjs), so that the ratio to
// the native figure is the cost of the package and nothing else. No Node APIs: the page imports it.
//
//   v1: `evaluate_all/flags/100`    — mixed_flags(100) for user()
//   v2: `evaluate_all_v2/flags/100` — mixed_v2_flags(100) with v2_segments() for v2_user()

export const user = {
  id: 'user-8f14e45f-ceea-467e-a9b6',
  email: 'jane@example.com',
  country: 'DE',
  attributes: { plan: 'pro', age: 34, beta: true, org: { tier: 'gold', seats: 40 } },
};

export const v2User = {
  id: 'user-8f14e45f-ceea-467e-a9b6',
  email: 'jane@example.com',
  country: 'DE',
  attributes: {
    plan: 'pro', age: 34, beta: true, version: '2.3.0', signedUpAt: '2025-03-14T09:26:53.589Z',
    org: { tier: 'gold', seats: 40, id: 'company-42' },
  },
};

const COUNTRIES = ['US', 'CA', 'MX', 'BR', 'AR', 'CL', 'FR', 'IT'];
const pad4 = (i) => String(i).padStart(4, '0');

/** missing_rule: a rule the bench user does not match, its values varying with `i`. */
function missingRule(i) {
  switch (i % 5) {
    case 0: return { field: 'country', operator: 'in', value: COUNTRIES.slice(0, 2 + (i % 6)) };
    case 1: return { field: 'email', operator: 'ends_with', value: `@team${i % 13}.pennon.dev` };
    case 2: return { field: 'attributes.org.tier', operator: 'eq', value: `tier-${i % 11}` };
    case 3: return { all: [{ field: 'attributes.plan', operator: 'eq', value: 'pro' },
                           { field: 'attributes.age', operator: 'in', value: [18 + (i % 7), 19, 20, 21] }] };
    default: return { field: 'id', operator: 'starts_with', value: `internal-${i % 17}` };
  }
}

/** mixed_flags: a tenth disabled, a third without rules, the rest with 1 to 5 rules. */
export function mixedFlags(n) {
  return Array.from({ length: n }, (_, i) => {
    const rules = i % 3 === 0 ? 0 : 1 + (i % 5);
    return {
      key: `team-${i % 7}.feature_${pad4(i)}`,
      enabled: i % 10 !== 0,
      rolloutPercentage: 50,
      rules: Array.from({ length: rules }, (__, r) => missingRule(i * 5 + r)),
    };
  });
}

const SEGMENTS = ['beta', 'staff', 'eu', 'enterprise'];

/** v2_segments */
export function v2Segments() {
  return [
    { key: 'beta', include: Array.from({ length: 1000 }, (_, i) => `user-${pad4(i)}`) },
    { key: 'staff', include: ['u-1', 'u-2'], rules: [{ field: 'email', operator: 'ends_with', value: '@pennon.dev' }] },
    { key: 'eu', rules: [{ field: 'country', operator: 'in', value: ['DE', 'FR', 'IT', 'ES', 'NL'] }] },
    { key: 'enterprise', rules: [{ all: [
      { field: 'attributes.org.seats', operator: 'gte', value: 100 },
      { field: 'attributes.plan', operator: 'eq', value: 'enterprise' }] }] },
  ];
}

/** v2_condition */
function v2Condition(i) {
  switch (i % 7) {
    case 0: return { field: 'attributes.version', operator: 'semver_lt', value: `2.${i % 5}.0` };
    case 1: return { field: 'attributes.age', operator: 'lt', value: 18 + (i % 9) };
    case 2: return { field: 'attributes.signedUpAt', operator: 'before',
                     value: `2024-${String(1 + (i % 12)).padStart(2, '0')}-01T00:00:00Z` };
    case 3: return { field: 'email', operator: 'contains', value: `+test${i % 11}` };
    case 4: return { field: 'attributes.trial', operator: 'exists', value: true };
    default: return missingRule(i);
  }
}

const NAMES = ['control', 'treatment-a', 'treatment-b'];

/** v2_variants: [type, variants, [off, first, second]] */
function v2Variants(i) {
  switch (i % 4) {
    case 0: return ['boolean', { on: true, off: false }, ['off', 'on', 'on']];
    case 1: return ['string', { control: 'blue', 'treatment-a': 'green', 'treatment-b': 'red' }, NAMES];
    case 2: return ['number', { control: 10, 'treatment-a': 12.5, 'treatment-b': 15 }, NAMES];
    default: return ['object', { control: { limit: 10, mode: 'a' }, 'treatment-a': { limit: 20 },
                                 'treatment-b': { limit: 30, beta: true } }, NAMES];
  }
}

/** mixed_v2_flags: splits, segment conditions, prerequisites, the four types, a tenth disabled. */
export function mixedV2Flags(n) {
  return Array.from({ length: n }, (_, i) => {
    const key = `team-${i % 7}.v2_${pad4(i)}`;
    const [kind, variants, [off, first, second]] = v2Variants(i);
    const split = kind === 'boolean'
      ? { split: [{ variant: 'off', weight: 50_000 }, { variant: 'on', weight: 50_000 }] }
      : { split: [{ variant: off, weight: 33_333 }, { variant: first, weight: 33_333 }, { variant: second, weight: 33_334 }] };
    if (i % 2 === 1) split.bucketBy = 'attributes.org.id';
    if (i % 5 === 3) split.salt = `experiment-${i % 13}`;
    const rules = [];
    if (i % 5 === 0) {
      const segment = SEGMENTS[i % 4];
      rules.push(i % 10 === 0 ? { notSegment: segment } : { segment });
    }
    const extra = i % 3 === 0 ? i % 2 : 1 + (i % 5);
    for (let r = 0; r < extra; r += 1) rules.push(v2Condition(i * 5 + r));
    rules.forEach((rule, r) => {
      if (kind !== 'boolean' || r % 2 === 1) rule.serve = r % 2 === 0 ? first : off;
    });
    const flag = { key, enabled: i % 10 !== 0, type: kind, variants, offVariant: off, rules };
    if (i % 8 === 0 && i > 0) {
      const on = (j) => ({ flag: `team-${j % 7}.v2_${pad4(j)}`, variants: [v2Variants(j)[2][1]] });
      flag.prerequisites = [on(i - 1), on(Math.floor(i / 2))];
    }
    if (i % 3 === 0) flag.fallthrough = split;
    else if (kind === 'boolean') flag.rolloutPercentage = i % 101;
    else flag.fallthrough = second;
    return flag;
  });
}

/** The two sets the benches measure, by name. */
export const SETS = [
  { name: 'v1', native: 'evaluate_all/flags/100', source: () => mixedFlags(100), user },
  { name: 'v2', native: 'evaluate_all_v2/flags/100', source: () => ({ flags: mixedV2Flags(100), segments: v2Segments() }), user: v2User },
];

/** The median of a list of numbers. */
export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
