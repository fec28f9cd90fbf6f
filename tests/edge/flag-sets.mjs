// The flag sets the edge's figures are taken with (tests/edge/bench.mjs, tests/edge/cpu.mjs), as the
// documents the origin's admin API takes. Plain data, no I/O.

/** 100 version-1 flags of every shape: plain rollouts, single conditions, groups, disabled ones. */
export function hundredFlags() {
  const ops = [
    { field: 'country', operator: 'in', value: ['DE', 'FR', 'NL', 'US'] },
    { field: 'email', operator: 'ends_with', value: '@example.com' },
    { field: 'attributes.plan', operator: 'eq', value: 'pro' },
    { field: 'attributes.org.tier', operator: 'neq', value: 3 },
    { field: 'id', operator: 'starts_with', value: 'beta-' },
  ];
  return Array.from({ length: 100 }, (_, i) => {
    const rules = [];
    if (i % 3 === 1) rules.push(ops[i % ops.length]);
    if (i % 3 === 2) rules.push({ all: [ops[i % ops.length], ops[(i + 1) % ops.length]] }, ops[(i + 2) % ops.length]);
    return {
      key: `bench.flag-${String(i).padStart(3, '0')}`,
      enabled: i % 10 !== 0,
      rolloutPercentage: (i * 7) % 101,
      rules,
    };
  });
}

/** The two segments of the version-2 set. */
export function v2Segments() {
  return [
    {
      key: 'beta',
      include: Array.from({ length: Math.ceil(2000 / 7) }, (_, n) => `user-0-${n * 7}`),
      rules: [{ field: 'attributes.beta', operator: 'eq', value: true }],
    },
    {
      key: 'europe-pro',
      rules: [{
        all: [
          { field: 'country', operator: 'in', value: ['DE', 'FR', 'NL', 'BE'] },
          { field: 'attributes.plan', operator: 'in', value: ['pro', 'team'] },
        ],
      }],
    },
  ];
}

/**
 * `n` version-2 flags, the set of `scripts/load-test --v2` (which seeds the first 100): the four
 * types in turn, a third with splits (half of them bucketed by company), a fifth targeting one of
 * the two segments, prerequisites on earlier flags, the newer operators, a tenth disabled. Kept in
 * step with that script's generator by hand: the two figures are meant to be of the same set.
 */
export function v2Flags(n = 100) {
  const rules = [
    [],
    [{ field: 'country', operator: 'in', value: ['DE', 'FR', 'NL', 'BE'] }],
    [{ field: 'email', operator: 'ends_with', value: '@example.com' }],
    [{
      all: [
        { field: 'attributes.plan', operator: 'eq', value: 'pro' },
        { field: 'country', operator: 'not_in', value: ['US', 'CA'] },
      ],
    }],
    [
      { field: 'id', operator: 'starts_with', value: 'user-1' },
      { field: 'attributes.beta', operator: 'eq', value: true },
    ],
  ];
  const newer = [
    [{ field: 'attributes.appVersion', operator: 'semver_gt', value: '2.3.0' }],
    [{ field: 'attributes.signedUp', operator: 'after', value: '2026-06-01T00:00:00Z' }],
    [{ field: 'attributes.seats', operator: 'gte', value: 10 }],
    [{ field: 'email', operator: 'contains', value: '+test' }],
  ];
  const all = [...rules, ...newer];
  const threeWay = (bucketBy) => ({
    split: [
      { variant: 'a', weight: 33333 },
      { variant: 'b', weight: 33333 },
      { variant: 'c', weight: 33334 },
    ],
    ...(bucketBy ? { bucketBy } : {}),
  });
  const key = (i) => `flag_${String(i).padStart(3, '0')}`;
  return Array.from({ length: n }, (_, i) => {
    const flag = { key: key(i), enabled: i % 10 !== 0 };
    const kind = ['boolean', 'string', 'number', 'object'][i % 4];
    if (kind !== 'boolean') {
      const values = {
        string: ['red', 'green', 'blue'],
        number: [1, 2.5, 100],
        object: [{ size: 10 }, { size: 20, dense: true }, { size: 50 }],
      }[kind];
      Object.assign(flag, {
        type: kind,
        variants: { a: values[0], b: values[1], c: values[2] },
        offVariant: 'a',
      });
    }
    let conditions = all[i % all.length];
    if (i % 5 === 0) conditions = [{ segment: i % 10 ? 'beta' : 'europe-pro' }, ...conditions];
    const serve = kind !== 'boolean' ? 'b' : 'on';
    flag.rules = conditions.map((c) => ({ ...c, serve }));
    if (i % 3 === 0) {
      const companyId = i % 2 ? 'attributes.companyId' : null;
      flag.fallthrough = kind === 'boolean'
        ? {
          split: [{ variant: 'on', weight: 25000 }, { variant: 'off', weight: 75000 }],
          ...(companyId ? { bucketBy: companyId } : {}),
        }
        : threeWay(companyId);
    } else if (kind === 'boolean') {
      flag.rolloutPercentage = (i * 7) % 101;
    } else {
      flag.fallthrough = 'c';
    }
    if (i >= 50 && i % 7 === 0) {
      // Prerequisites only point backwards, so the flags can be created in order.
      const other = i - 49;
      flag.prerequisites = [{ flag: key(other), variants: other % 4 === 0 ? ['on'] : ['a', 'b'] }];
    }
    return flag;
  });
}

/**
 * The `count`-th user of a run, as `scripts/load-test`'s Lua makes them: countries, plans, emails
 * and the v2 attributes vary from user to user.
 */
export function loadTestUser(thread, count) {
  const countries = ['DE', 'FR', 'US', 'NL', 'CA', 'JP'];
  const plans = ['free', 'pro', 'team'];
  const id = `user-${thread}-${count}`;
  return {
    id,
    email: `${id}@${count % 4 === 0 ? 'example.com' : 'mail.test'}`,
    country: countries[count % countries.length],
    attributes: {
      plan: plans[count % plans.length],
      beta: count % 5 === 0,
      companyId: `c${count % 50}`,
      appVersion: `2.${count % 6}.0`,
      seats: count % 20,
      signedUp: `2026-${String((count % 12) + 1).padStart(2, '0')}-15T10:00:00Z`,
    },
  };
}
