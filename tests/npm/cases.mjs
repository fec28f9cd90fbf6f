// The checks of the npm package, written once and run both by Node (node.test.mjs) and by headless
// Chromium (browser-page.html, reported back to browser.test.mjs). Each case is {name, run}; `run`
// throws an Error that says what differed. No Node APIs here: this file is served to the browser.
import { userPathCases } from './user-cases.mjs';

/** Deep equality of JSON-like values that also insists on plain objects and arrays. */
export function sameJson(actual, expected, path = '$') {
  if (expected === null || typeof expected !== 'object') {
    if (!Object.is(actual, expected)) {
      throw new Error(`${path}: expected ${JSON.stringify(expected)}, got ${describe(actual)}`);
    }
    return;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) throw new Error(`${path}: expected an array, got ${describe(actual)}`);
    if (actual.length !== expected.length) {
      throw new Error(`${path}: expected ${expected.length} items, got ${actual.length}: ${describe(actual)}`);
    }
    expected.forEach((item, i) => sameJson(actual[i], item, `${path}[${i}]`));
    return;
  }
  if (actual === null || typeof actual !== 'object' || Object.getPrototypeOf(actual) !== Object.prototype) {
    throw new Error(`${path}: expected a plain object, got ${describe(actual)}`);
  }
  const want = Object.keys(expected).sort();
  const got = Object.keys(actual).sort();
  if (want.join(',') !== got.join(',')) {
    throw new Error(`${path}: expected keys [${want}], got [${got}]`);
  }
  for (const key of want) sameJson(actual[key], expected[key], `${path}.${key}`);
}

function describe(value) {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Asserts that `fn` throws an Error whose message is exactly `message`. */
export function throwsExactly(fn, message) {
  let thrown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`expected an Error ${JSON.stringify(message)}, nothing was thrown`);
  if (!(thrown instanceof Error)) throw new Error(`expected an Error, got ${describe(thrown)}`);
  if (thrown.message !== message) {
    throw new Error(`expected the message ${JSON.stringify(message)}, got ${JSON.stringify(thrown.message)}`);
  }
}

/** Whether a flag (vector JSON) names another flag or a segment, so that alone it answers otherwise. */
function dependsOnOthers(flag) {
  const named = (c) => 'segment' in c || 'notSegment' in c;
  return (flag.prerequisites ?? []).length > 0 || (flag.rules ?? []).some((r) => named(r) || (r.all ?? []).some(named));
}

/**
 * One case per vector case and per way of asking the package: `Evaluator.evaluate`, `Evaluator`
 * built from a snapshot `{environment, revision, flags, segments}` and from `{flags, segments}`,
 * `evaluateFlag`, `evaluateAll` (flags decided among themselves; only for vectors without segments,
 * which it does not take) and `evaluate` per flag (alone: only for flags that name no other flag and
 * no segment; one with a prerequisite must fail it alone).
 * `valid` is a list of {file, vector} with the contents of tests/vectors/*.json.
 */
export function vectorCases(api, valid) {
  const cases = [];
  for (const { file, vector } of valid) {
    for (const c of vector.cases) {
      const name = `${file} / ${c.name}`;
      const request = c.request;
      const expected = c.response;
      // Flags live in the vector's environment; a request for another one sees none of them.
      const same = request.environment === vector.environment;
      const flags = same ? vector.flags : [];
      const segments = same ? (vector.segments ?? []) : [];
      const withEvaluator = (source, run) => {
        const evaluator = new api.Evaluator(source);
        try {
          run(evaluator);
        } finally {
          evaluator.free();
        }
      };
      cases.push({
        name: `${name} (Evaluator.evaluate)`,
        run() {
          const source = segments.length === 0 ? flags : { flags, segments };
          withEvaluator(source, (evaluator) => sameJson(evaluator.evaluate(request.user, request.flags), expected.results));
        },
      });
      cases.push({
        name: `${name} (Evaluator from a snapshot)`,
        run() {
          const snapshot = { environment: vector.environment, revision: 7, flags, segments };
          withEvaluator(snapshot, (evaluator) => {
            sameJson(evaluator.evaluate(request.user, request.flags), expected.results);
            sameJson([evaluator.environment, evaluator.revision], [vector.environment, 7]);
          });
        },
      });
      cases.push({
        name: `${name} (evaluateFlag, evaluate, evaluateAll)`,
        run() {
          withEvaluator({ flags, segments }, (evaluator) => {
            for (const result of expected.results) {
              sameJson(evaluator.evaluateFlag(result.flagKey, request.user), result, `evaluateFlag(${result.flagKey})`);
              const flag = flags.find((f) => f.key === result.flagKey);
              if (flag === undefined) continue;
              const alone = api.evaluate(flag, request.user);
              if (!dependsOnOthers(flag)) {
                sameJson(alone, result, `evaluate(${result.flagKey})`);
              } else if ((flag.prerequisites ?? []).length > 0) {
                const reason = flag.enabled ? 'PREREQUISITE_FAILED' : 'FLAG_DISABLED';
                sameJson([alone.reason, alone.variant], [reason, flag.offVariant ?? 'off'], `evaluate(${result.flagKey}) alone`);
              }
            }
          });
          if (request.flags === undefined && segments.length === 0) {
            sameJson(api.evaluateAll(flags, request.user), expected.results, 'evaluateAll');
          }
        },
      });
    }
  }
  return cases;
}

const GOOD_FLAG = Object.freeze({ key: 'good', enabled: true, rolloutPercentage: 100, rules: [] });
const GOOD_USER = Object.freeze({ id: 'user-123' });
const GOOD_RESULT = Object.freeze({ flagKey: 'good', enabled: true, reason: 'ROLLOUT', variant: 'on', value: true });
const FREED = 'Evaluator has been freed: create a new Evaluator to evaluate again';

function nested(depth) {
  const root = {};
  let node = root;
  for (let i = 0; i < depth; i += 1) node = node.a = {};
  return root;
}

/**
 * Bad input of every kind: each must throw an Error with exactly the evaluator's message (the field
 * first), and never trap the module. `invalidFlags`, `invalidSegments`, `invalidSets` and
 * `invalidRequests` are the golden invalid cases (segments and sets: when their files exist).
 * The last case checks that the module, and an Evaluator made before them, still work.
 */
export function badInputCases(api, { invalidFlags, invalidSegments, invalidSets, invalidRequests }) {
  const cases = [];
  const survivor = new api.Evaluator([GOOD_FLAG]);
  const add = (name, run) => cases.push({ name: `bad input: ${name}`, run });

  // Inside a list the message names the element first; a flag that is not an object at all
  // ("flag" alone) is named by its place in the list, as a segment is below.
  for (const c of invalidFlags) {
    const message = `${c.field}: ${c.message}`;
    const inList = (i) => (c.field === 'flag' ? `flags[${i}]: ${c.message}` : `flags[${i}].${message}`);
    add(`invalid flag "${c.name}" (evaluate)`, () => throwsExactly(() => api.evaluate(c.flag, GOOD_USER), message));
    add(`invalid flag "${c.name}" (evaluateAll)`, () =>
      throwsExactly(() => api.evaluateAll([GOOD_FLAG, c.flag], GOOD_USER), inList(1)));
    add(`invalid flag "${c.name}" (new Evaluator)`, () => {
      throwsExactly(() => new api.Evaluator([GOOD_FLAG, c.flag]), inList(1));
      throwsExactly(
        () => new api.Evaluator({ environment: 'prod', revision: 3, flags: [c.flag] }),
        inList(0),
      );
    });
  }

  // A segment is read inside its list, as a flag is: the message names the element first.
  for (const c of invalidSegments ?? []) {
    const field = c.field === 'segment' ? 'segments[0]' : `segments[0].${c.field}`;
    add(`invalid segment "${c.name}" (new Evaluator)`, () => {
      throwsExactly(() => new api.Evaluator({ flags: [], segments: [c.segment] }), `${field}: ${c.message}`);
      throwsExactly(
        () => new api.Evaluator({ environment: 'prod', revision: 3, flags: [GOOD_FLAG], segments: [c.segment] }),
        `${field}: ${c.message}`,
      );
    });
  }

  // Documents valid one by one, refused together (duplicate keys, prerequisite cycles): the
  // compiled set's own message, which names the element.
  for (const c of invalidSets ?? []) {
    const message = `${c.field}: ${c.message}`;
    add(`invalid set "${c.name}" (new Evaluator)`, () => {
      throwsExactly(() => new api.Evaluator({ flags: c.flags, segments: c.segments ?? [] }), message);
      if ((c.segments ?? []).length === 0) {
        throwsExactly(() => new api.Evaluator(c.flags), message);
        throwsExactly(() => api.evaluateAll(c.flags, GOOD_USER), message);
      }
    });
  }

  // The request vectors whose mistake is in the user or in the keys: the package reads those values
  // with the same code, so the message is the origin's, byte for byte (the keys are `keys` here).
  for (const c of invalidRequests) {
    let body;
    try {
      body = JSON.parse(c.body);
    } catch {
      continue;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) continue;
    // A JavaScript object cannot hold a key twice: JSON.parse already kept the last copy.
    if (c.error.endsWith(': duplicate field')) continue;
    if (c.error.startsWith('user')) {
      add(`invalid user "${c.name}"`, () => {
        throwsExactly(() => api.evaluate(GOOD_FLAG, body.user), c.error);
        throwsExactly(() => api.evaluateAll([GOOD_FLAG], body.user), c.error);
        throwsExactly(() => survivor.evaluate(body.user), c.error);
        throwsExactly(() => survivor.evaluateFlag('good', body.user), c.error);
      });
    } else if (c.error.startsWith('flags')) {
      add(`invalid keys "${c.name}"`, () =>
        throwsExactly(() => survivor.evaluate(body.user, body.flags), c.error.replace(/^flags/, 'keys')));
    }
  }

  const cyclic = { id: 'u', attributes: {} };
  cyclic.attributes.self = cyclic;
  const notJson = 'must be JSON data (no cycles or BigInt)';
  const tooDeep = 'is nested too deeply (at most 128 levels)';
  // JavaScript strings may hold one; the HTTP API refuses it too (its JSON must be Unicode).
  const loneSurrogate = 'holds a string that is not valid Unicode (a lone surrogate)';
  const table = [
    ['flag undefined', () => api.evaluate(undefined, GOOD_USER), 'flag: required'],
    ['flag null', () => api.evaluate(null, GOOD_USER), 'flag: must be a JSON object'],
    ['flag a number', () => api.evaluate(42, GOOD_USER), 'flag: must be a JSON object'],
    ['flag a string', () => api.evaluate('good', GOOD_USER), 'flag: must be a JSON object'],
    ['flag an array', () => api.evaluate([GOOD_FLAG], GOOD_USER), 'flag: must be a JSON object'],
    ['flag a function', () => api.evaluate(() => GOOD_FLAG, GOOD_USER), 'flag: must be JSON data, not a function or a symbol'],
    ['flag a symbol', () => api.evaluate(Symbol('flag'), GOOD_USER), 'flag: must be JSON data, not a function or a symbol'],
    ['flag with a BigInt', () => api.evaluate({ ...GOOD_FLAG, rolloutPercentage: 5n }, GOOD_USER), `flag: ${notJson}`],
    ['user undefined', () => api.evaluate(GOOD_FLAG, undefined), 'user: required'],
    ['user null', () => api.evaluate(GOOD_FLAG, null), 'user: must be a JSON object'],
    ['user a string', () => api.evaluate(GOOD_FLAG, 'user-123'), 'user: must be a JSON object'],
    ['user cyclic', () => api.evaluate(GOOD_FLAG, cyclic), `user: ${notJson}`],
    ['user with a BigInt attribute', () => api.evaluate(GOOD_FLAG, { id: 'u', attributes: { n: 1n } }), `user: ${notJson}`],
    ['user nested 200 deep', () => api.evaluate(GOOD_FLAG, { id: 'u', attributes: nested(200) }), `user: ${tooDeep}`],
    ['user nested 200000 deep', () => survivor.evaluate({ id: 'u', attributes: nested(200_000) }), `user: ${tooDeep}`],
    ['user id with a lone surrogate', () => api.evaluate(GOOD_FLAG, { id: 'u\ud800' }), `user: ${loneSurrogate}`],
    ['user attribute with a lone surrogate', () => survivor.evaluate({ id: 'u', attributes: { a: ['\udc00'] } }), `user: ${loneSurrogate}`],
    ['flag with a lone surrogate', () => api.evaluate({ ...GOOD_FLAG, description: '\ud83d' }, GOOD_USER), `flag: ${loneSurrogate}`],
    ['Evaluator of a snapshot with a lone surrogate', () => new api.Evaluator({ environment: 'prod', revision: 1, flags: [{ ...GOOD_FLAG, description: '\ud83d' }] }), `flagsOrSnapshot: ${loneSurrogate}`],
    ['flag with rolloutPercentage NaN', () => api.evaluate({ ...GOOD_FLAG, rolloutPercentage: NaN }, GOOD_USER), 'rolloutPercentage: must be an integer from 0 to 100'],
    ['flag with enabled NaN', () => api.evaluateAll([{ ...GOOD_FLAG, enabled: NaN }], GOOD_USER), 'flags[0].enabled: must be a boolean'],
    ['flag with a rule value Infinity', () => new api.Evaluator([{ ...GOOD_FLAG, rules: [{ field: 'attributes.n', operator: 'eq', value: Infinity }] }]), 'flags[0].rules[0].value: eq needs a string, number or boolean'],
    ['flag with -Infinity in an in list', () => new api.Evaluator({ environment: 'prod', revision: 1, flags: [{ ...GOOD_FLAG, rules: [{ field: 'attributes.n', operator: 'in', value: [1, -Infinity] }] }] }), 'flags[0].rules[0].value[1]: in needs a string, number or boolean'],
    ['evaluateAll flags undefined', () => api.evaluateAll(undefined, GOOD_USER), 'flags: required'],
    ['evaluateAll flags an object', () => api.evaluateAll(GOOD_FLAG, GOOD_USER), 'flags: must be an array of flags'],
    ['evaluateAll flags with null', () => api.evaluateAll([GOOD_FLAG, null], GOOD_USER), 'flags[1]: must be a JSON object'],
    ['evaluateAll duplicate keys', () => api.evaluateAll([GOOD_FLAG, GOOD_FLAG], GOOD_USER), 'flags[1].key: duplicate key "good"'],
    ['Evaluator duplicate keys', () => new api.Evaluator([GOOD_FLAG, { key: 'x' }, GOOD_FLAG]), 'flags[2].key: duplicate key "good"'],
    ['Evaluator of nothing', () => new api.Evaluator(), 'flagsOrSnapshot: required'],
    ['Evaluator of a number', () => new api.Evaluator(5), 'flagsOrSnapshot: must be an array of flags or a snapshot {flags, segments}'],
    ['snapshot of an unknown environment', () => new api.Evaluator({ environment: 'qa', revision: 1, flags: [] }), 'environment: must be one of "dev", "staging", "prod", not "qa"'],
    ['snapshot with a negative revision', () => new api.Evaluator({ environment: 'prod', revision: -1, flags: [] }), 'revision: must be a non-negative integer'],
    ['snapshot with a string revision', () => new api.Evaluator({ environment: 'prod', revision: '1', flags: [] }), 'revision: must be a non-negative integer'],
    ['snapshot without flags', () => new api.Evaluator({ environment: 'prod', revision: 1 }), 'flags: required'],
    ['snapshot with flags an object', () => new api.Evaluator({ environment: 'prod', revision: 1, flags: {} }), 'flags: must be an array of flags'],
    ['snapshot with segments an object', () => new api.Evaluator({ flags: [], segments: {} }), 'segments: must be an array of segments'],
    ['snapshot with segments null', () => new api.Evaluator({ flags: [], segments: null }), 'segments: must be an array of segments'],
    ['snapshot with a segment a string', () => new api.Evaluator({ flags: [], segments: ['beta'] }), 'segments[0]: must be a JSON object'],
    ['snapshot with a segment without key', () => new api.Evaluator({ flags: [], segments: [{ include: ['u'] }] }), 'segments[0].key: required'],
    ['snapshot with two segments of one key', () => new api.Evaluator({ flags: [], segments: [{ key: 's' }, { key: 's' }] }), 'segments[1].key: duplicate key "s"'],
    ['evaluateFlag key a number', () => survivor.evaluateFlag(5, GOOD_USER), 'key: must be a string'],
    ['evaluateFlag key undefined', () => survivor.evaluateFlag(undefined, GOOD_USER), 'key: must be a string'],
    ['evaluate keys a string', () => survivor.evaluate(GOOD_USER, 'good'), 'keys: must be an array of flag keys'],
    ['evaluate keys with a number', () => survivor.evaluate(GOOD_USER, ['good', 7]), 'keys[1]: must be a string'],
  ];
  for (const [name, fn, message] of table) add(name, () => throwsExactly(fn, message));

  add('a freed Evaluator throws a clear Error', () => {
    const evaluator = new api.Evaluator([GOOD_FLAG]);
    sameJson(evaluator.evaluate(GOOD_USER), [GOOD_RESULT]);
    evaluator.free();
    throwsExactly(() => evaluator.evaluate(GOOD_USER), FREED);
    throwsExactly(() => evaluator.evaluateFlag('good', GOOD_USER), FREED);
    throwsExactly(() => evaluator.size, FREED);
    evaluator.free(); // a second free is harmless
    throwsExactly(() => evaluator.evaluate(GOOD_USER), FREED);
  });

  add('the module and an earlier Evaluator keep working after all of the above', () => {
    sameJson(survivor.evaluate(GOOD_USER), [GOOD_RESULT]);
    sameJson(survivor.evaluate(GOOD_USER, ['missing', 'good', 'good']), [
      GOOD_RESULT,
      { flagKey: 'missing', enabled: false, reason: 'FLAG_NOT_FOUND', variant: null, value: null },
    ]);
    sameJson(api.evaluate(GOOD_FLAG, GOOD_USER), GOOD_RESULT);
    sameJson(api.evaluateAll([GOOD_FLAG], GOOD_USER), [GOOD_RESULT]);
    const fresh = new api.Evaluator({ environment: 'staging', revision: 9, flags: [GOOD_FLAG] });
    sameJson([fresh.size, fresh.environment, fresh.revision], [1, 'staging', 9]);
    sameJson(fresh.evaluateFlag('good', GOOD_USER), GOOD_RESULT);
    fresh.free();
    survivor.free();
  });
  return cases;
}

/**
 * Exact numbers: a rule `eq x` matches a user attribute `x` and neither double next to it, for the
 * extremes and for many random doubles (any bit pattern, 17-significant-digit decimals, integers
 * between 2^53 and 2^64). The numbers cross into wasm as JSON text, so this holds only if that text
 * is read back as exactly the double JavaScript wrote. Seeded, so a failure can be replayed.
 */
export function numberCases(api) {
  const cases = [];
  const add = (name, run) => cases.push({ name: `numbers: ${name}`, run });
  const view = new DataView(new ArrayBuffer(8));
  const fromBits = (bits) => {
    view.setBigUint64(0, BigInt.asUintN(64, bits));
    return view.getFloat64(0);
  };
  const toBits = (x) => {
    view.setFloat64(0, x);
    return view.getBigUint64(0);
  };
  const neighbours = (x) => {
    const next = x === 0 ? [Number.MIN_VALUE, -Number.MIN_VALUE] : [fromBits(toBits(x) + 1n), fromBits(toBits(x) - 1n)];
    return next.filter((y) => Number.isFinite(y) && y !== x);
  };
  // mulberry32
  let seed = 0x5eed0016;
  const random32 = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
  const randomBits = () => (BigInt(random32()) << 32n) | BigInt(random32());
  const generate = (count, make) => {
    const values = [];
    while (values.length < count) {
      const x = make();
      if (Number.isFinite(x)) values.push(x);
    }
    return values;
  };

  const check = (values) => {
    const flag = (x) => ({ key: 'n', enabled: true, rules: [{ field: 'attributes.n', operator: 'eq', value: x }] });
    const user = (x) => ({ id: 'u', attributes: { n: x } });
    for (const x of values) {
      const evaluator = new api.Evaluator([flag(x)]);
      try {
        const expect = (y, reason) => {
          const got = [api.evaluate(flag(x), user(y)).reason, evaluator.evaluateFlag('n', user(y)).reason];
          if (got.some((r) => r !== reason)) {
            throw new Error(`rule eq ${x}, attribute ${y}: got ${got.join(', ')}, expected ${reason}`);
          }
        };
        expect(x, 'RULE_MATCH');
        for (const y of neighbours(x)) expect(y, 'NO_MATCH');
      } finally {
        evaluator.free();
      }
    }
  };

  add('the extremes and the reported values', () => check([
    Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, -Number.MIN_VALUE,
    2.2250738585072014e-308, 2.225073858507201e-308, 0, -0, 1.7e308, 1.797693134862315e308,
    -95.24089298036279, 0.1, 0.30000000000000004, 2 ** 53, 2 ** 53 + 2, 2686617455949154300, 2 ** 64,
    1e21, 123456789012345680000, 1e-7,
  ]));
  add('1500 random bit patterns', () => check(generate(1500, () => fromBits(randomBits()))));
  add('1000 random 17-significant-digit decimals', () => check(generate(1000, () => {
    const digits = [random32(), random32()].map((n) => String(n % 1e8).padStart(8, '0')).join('');
    const exponent = (random32() % 640) - 330;
    const sign = random32() % 2 ? '-' : '';
    return Number(`${sign}${1 + (random32() % 9)}.${digits}e${exponent}`);
  })));
  add('300 random integers between 2^53 and 2^64', () =>
    check(generate(300, () => Number((randomBits() | (1n << 63n)) >> BigInt(random32() % 11)))));
  return cases;
}

/** The version-2 shapes beyond the vectors: values as JavaScript values, snapshots, lists. */
export function typedValueCases(api) {
  const cases = [];
  const add = (name, run) => cases.push({ name: `typed values: ${name}`, run });
  const user = { id: 'user-123', attributes: { companyId: 'acme' } };
  // murmur3_x86_32("checkout-v2/user-123", 0) % 100000 = 60842: past the first half.
  const checkout = {
    key: 'checkout.layout', enabled: true, type: 'string',
    variants: { control: 'one-page', treatment: 'two-step' }, offVariant: 'control',
    fallthrough: { split: [{ variant: 'control', weight: 50_000 }, { variant: 'treatment', weight: 50_000 }], salt: 'checkout-v2' },
  };
  const limits = {
    key: 'limits', enabled: true, type: 'object', variants: { small: { requests: 100, burst: [1, 2.5], tier: null } },
    offVariant: 'small', fallthrough: 'small',
  };
  const price = { key: 'price', enabled: true, type: 'number', variants: { low: 9.99, big: 2 ** 60 }, offVariant: 'low', fallthrough: 'big' };

  add('a string split places user-123 at 60842 of 100000, in the second half', () => {
    const expected = { flagKey: 'checkout.layout', enabled: true, reason: 'ROLLOUT', variant: 'treatment', value: 'two-step' };
    sameJson(api.evaluate(checkout, user), expected);
    const evaluator = new api.Evaluator([checkout]);
    sameJson(evaluator.evaluate(user), [expected]);
    sameJson(evaluator.evaluateFlag('checkout.layout', user), expected);
    evaluator.free();
  });
  add('object and number values are plain JavaScript values, fresh for every result', () => {
    const evaluator = new api.Evaluator([limits, price]);
    const [first] = evaluator.evaluate(user);
    sameJson(first.value, { requests: 100, burst: [1, 2.5], tier: null });
    first.value.requests = 0;
    first.value.burst.push(3);
    const [again, number] = evaluator.evaluate(user);
    sameJson(again.value, { requests: 100, burst: [1, 2.5], tier: null });
    sameJson(evaluator.evaluateFlag('limits', user).value, { requests: 100, burst: [1, 2.5], tier: null });
    sameJson([number.variant, number.value], ['big', 2 ** 60]);
    evaluator.free();
  });
  add('object values with __proto__ keys, nested objects and arrays: own properties, fresh every time', () => {
    const flag = JSON.parse(`{"key": "deep", "enabled": true, "type": "object", "offVariant": "v", "fallthrough": "v",
      "variants": {"v": {"__proto__": {"x": 1}, "list": [{"__proto__": 2}, [3, {"y": null}]], "n": {"m": {"k": "v"}}}}}`);
    const expected = JSON.parse('{"__proto__": {"x": 1}, "list": [{"__proto__": 2}, [3, {"y": null}]], "n": {"m": {"k": "v"}}}');
    const evaluator = new api.Evaluator([flag]);
    const values = [
      evaluator.evaluate(user)[0].value, evaluator.evaluate(user)[0].value, evaluator.evaluateFlag('deep', user).value,
      evaluator.evaluate(user, ['deep'])[0].value,
    ];
    for (const value of values) {
      sameJson(value, expected);
      sameJson(Object.keys(value), ['__proto__', 'list', 'n']);
      sameJson(Object.keys(value.list[0]), ['__proto__']);
      if (Object.getPrototypeOf(value) !== Object.prototype) throw new Error('the prototype was set');
    }
    values[0].__proto__.x = 9;
    values[0].list[1][1].y = 9;
    values[0].n.m.k = 'changed';
    for (const value of values.slice(1)) sameJson(value, expected);
    sameJson(evaluator.evaluate(user)[0].value, expected);
    evaluator.free();
  });
  add('a snapshot {flags, segments} without environment and revision', () => {
    const evaluator = new api.Evaluator({
      flags: [{ key: 'beta.only', enabled: true, rules: [{ segment: 'beta' }] }],
      segments: [{ key: 'beta', include: ['user-123'] }],
    });
    sameJson([evaluator.environment, evaluator.revision, evaluator.size], [undefined, undefined, 1]);
    sameJson(evaluator.evaluateFlag('beta.only', user).reason, 'RULE_MATCH');
    sameJson(evaluator.evaluateFlag('beta.only', { id: 'someone' }).reason, 'NO_MATCH');
    evaluator.free();
  });
  add('evaluateAll decides its flags among themselves; evaluate decides one alone', () => {
    const parent = { key: 'parent', enabled: false };
    const child = { key: 'child', enabled: true, prerequisites: [{ flag: 'parent', variants: ['off'] }], rolloutPercentage: 100 };
    sameJson(api.evaluateAll([parent, child], user).map((r) => r.reason), ['PREREQUISITE_FAILED', 'FLAG_DISABLED']);
    sameJson(api.evaluateAll([{ ...parent, enabled: true }, child], user).map((r) => r.reason), ['ROLLOUT', 'NO_MATCH']);
    sameJson(api.evaluateAll([{ ...parent, enabled: true, rolloutPercentage: 100 }, { ...child, prerequisites: [{ flag: 'parent', variants: ['on'] }] }], user).map((r) => r.reason), ['ROLLOUT', 'ROLLOUT']);
    sameJson(api.evaluate({ ...child, prerequisites: [{ flag: 'parent', variants: ['on'] }] }, user).reason, 'PREREQUISITE_FAILED');
  });
  return cases;
}

/** Every check, in the order they must run (the bad inputs last, ending with the survival check). */
export function allCases(api, vectors) {
  return [
    ...vectorCases(api, vectors.valid), ...typedValueCases(api), ...userPathCases(api), ...badInputCases(api, vectors),
    ...numberCases(api),
  ];
}
