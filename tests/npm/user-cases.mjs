// The two ways a user gets into wasm, held to the same answers and the same messages: the fast one
// (npm/user-encoding.js, taken by `Evaluator.evaluate(user)` and `evaluateFlag(key, user)`) and the
// exact one through JSON.stringify (taken by `Evaluator.evaluate(user, keys)`, `evaluate` and
// `evaluateAll`, and by the fast one for whatever it does not encode). No Node APIs: served to the
// browser too.
import { sameJson } from './cases.mjs';

/** Flags whose answers depend on every part of a user, so that a value read otherwise shows. */
const FLAGS = [
  ['id', 'eq', 'user-1'],
  ['id', 'starts_with', 'u\u00e9'],
  ['email', 'ends_with', '@example.com'],
  ['email', 'exists', true],
  ['country', 'in', ['DE', 'FR']],
  ['country', 'exists', false],
  ['attributes.plan', 'eq', 'pro'],
  ['attributes.plan', 'exists', true],
  ['attributes.n', 'eq', 0],
  ['attributes.n', 'exists', true],
  ['attributes.n', 'gt', 2 ** 53],
  ['attributes.n', 'lt', -1.5],
  ['attributes.n', 'eq', 1e21],
  ['attributes.s', 'contains', '\ufffd'],
  ['attributes.s', 'contains', '\u{1f600}'],
  ['attributes.s', 'eq', '2024-01-02T03:04:05.678Z'],
  ['attributes.s', 'exists', true],
  ['attributes.b', 'eq', true],
  ['attributes.b', 'eq', false],
  ['attributes.n', 'eq', 2 ** 60],
  ['attributes.list', 'exists', true],
  ['attributes.o.k', 'eq', 'v'],
  ['attributes.o.__proto__', 'eq', 'p'],
  ['attributes.toJSON', 'exists', true],
  ['attributes.big', 'contains', 'x'],
].map(([field, operator, value], i) => ({
  key: `f${String(i).padStart(2, '0')}`,
  enabled: true,
  rules: [{ field, operator, value }],
}));
const KEYS = FLAGS.map((f) => f.key).sort();

function nestedIn(depth, leaf) {
  let value = leaf;
  for (let i = 0; i < depth; i += 1) value = i % 2 ? { a: value } : [value];
  return value;
}

function withGetters(counts) {
  const attributes = {};
  Object.defineProperty(attributes, 'plan', {
    enumerable: true,
    get() {
      counts.plan = (counts.plan ?? 0) + 1;
      return 'pro';
    },
  });
  return {
    get id() {
      counts.id = (counts.id ?? 0) + 1;
      return 'user-1';
    },
    attributes,
  };
}

class Person {
  constructor(id) {
    this.id = id;
    this.country = 'DE';
  }

  greet() {
    return this.id;
  }
}

const big = 'x'.repeat(1 << 20);
const cyclicAttributes = { id: 'u', attributes: { list: [] } };
cyclicAttributes.attributes.list.push(cyclicAttributes.attributes);
const cyclicList = [];
cyclicList.push(cyclicList);
const revoked = Proxy.revocable({ id: 'u' }, {});
revoked.revoke();
const sparse = [1];
sparse[5] = 2;
const hugeSparse = [];
hugeSparse.length = 2 ** 31;
const protoKey = JSON.parse('{"k": "v", "__proto__": "p"}');

/** Users the fast path encodes, and users it hands to the exact path; named for the report. */
function users() {
  return [
    ['a plain user', { id: 'user-1', email: 'a@example.com', country: 'DE', attributes: { plan: 'pro', n: 0, b: true } }],
    ['only an id', { id: 'user-1' }],
    ['false, 0 and empty strings', { id: 'user-1', email: '', country: '', attributes: { b: false, n: 0, plan: '', '': '' } }],
    ['null and undefined fields', { id: 'user-1', email: null, country: undefined, attributes: null, extra: undefined }],
    ['a null-prototype user and attributes', Object.assign(Object.create(null), { id: 'user-1', attributes: Object.assign(Object.create(null), { plan: 'pro' }) })],
    ['non-ASCII strings and keys', { id: 'u\u00e9-1', email: 'j\u00f6rg@example.com', attributes: { 'pl\u00e4n': '\u00fc', s: 'a\u{1f600}b' } }],
    ['a genuine U+FFFD', { id: 'user-1', attributes: { s: 'bad \ufffd byte' } }],
    ['-0, NaN, Infinity and -Infinity', { id: 'user-1', attributes: { n: -0, list: [NaN, Infinity, -Infinity] } }],
    ['NaN as the compared attribute', { id: 'user-1', attributes: { n: NaN } }],
    ['Infinity as the compared attribute', { id: 'user-1', attributes: { n: Infinity } }],
    ['2^53 + 2', { id: 'user-1', attributes: { n: 2 ** 53 + 2 } }],
    ['2^60', { id: 'user-1', attributes: { n: 2 ** 60 } }],
    ['-(2^63)', { id: 'user-1', attributes: { n: -(2 ** 63) } }],
    ['2^64', { id: 'user-1', attributes: { n: 2 ** 64 } }],
    ['1e21', { id: 'user-1', attributes: { n: 1e21 } }],
    ['-1.75 and 5e-324', { id: 'user-1', attributes: { n: -1.75, list: [5e-324] } }],
    ['arrays with holes and undefined', { id: 'user-1', attributes: { list: sparse, o: { k: [undefined, null] } } }],
    ['an array with a function and a symbol', { id: 'user-1', attributes: { list: [() => 1, Symbol('s')] } }],
    ['a function, a symbol and a symbol key in attributes', { id: 'user-1', attributes: { plan: 'pro', f() {}, s: Symbol('s'), [Symbol('k')]: 1 } }],
    ['a key __proto__ (own property)', { id: 'user-1', attributes: { o: protoKey } }],
    ['a huge string', { id: 'user-1', attributes: { big } }],
    ['a string of 60,000 units, with an emoji', { id: 'user-1', attributes: { s: `${'x'.repeat(60_000)}\u{1f600}`, big: 'x' } }],
    ['strings of 70,000 units in all', { id: 'user-1', email: 'y'.repeat(35_000), attributes: { big: 'x'.repeat(35_000) } }],
    ['a huge array', { id: 'user-1', attributes: { list: Array.from({ length: 100_000 }, (_, i) => i) } }],
    ['a class instance as the user', new Person('user-1')],
    ['a class instance in attributes', { id: 'user-1', attributes: { o: new Person('v') } }],
    ['a Date in attributes', { id: 'user-1', attributes: { s: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)) } }],
    ['boxed primitives', { id: 'user-1', attributes: { plan: new String('pro'), n: new Number(0), b: new Boolean(true) } }],
    ['a Map and a Set', { id: 'user-1', attributes: { o: new Map([['k', 'v']]), list: new Set([1]) } }],
    ['a typed array', { id: 'user-1', attributes: { list: new Uint8Array([1, 2]) } }],
    ['toJSON on the user', { toJSON: () => ({ id: 'user-1', attributes: { plan: 'pro' } }) }],
    ['toJSON in attributes', { id: 'user-1', attributes: { o: { toJSON: () => ({ k: 'v' }) } } }],
    ['toJSON that is not a function', { id: 'user-1', attributes: { toJSON: 5 } }],
    ['a Proxy', new Proxy({ id: 'user-1', attributes: { plan: 'pro' } }, {})],
    ['an array Proxy in attributes', { id: 'user-1', attributes: { list: new Proxy([1, 2], {}) } }],
    ['frozen', Object.freeze({ id: 'user-1', attributes: Object.freeze({ plan: 'pro' }) })],
    ['nested 60 deep', { id: 'user-1', attributes: { o: nestedIn(60, 'v') } }],
    ['nested 62 deep (the fast path\'s edge)', { id: 'user-1', attributes: { o: nestedIn(62, 'v') } }],
    ['nested 100 deep', { id: 'user-1', attributes: { o: nestedIn(100, 'v') } }],
    ['nested 125 deep (the exact path\'s edge)', { id: 'user-1', attributes: { o: nestedIn(125, 'v') } }],
  ];
}

/** Users refused: by the exact path's message, whichever way they came in. */
function badUsers() {
  const loneSurrogate = 'user: holds a string that is not valid Unicode (a lone surrogate)';
  const notJson = 'user: must be JSON data (no cycles or BigInt)';
  const tooDeep = 'user: is nested too deeply (at most 128 levels)';
  return [
    ['a lone surrogate in the id', { id: 'u\ud800' }, loneSurrogate],
    ['a lone surrogate in the email', { id: 'u', email: '\udc00@x' }, loneSurrogate],
    ['a lone surrogate in the country', { id: 'u', country: 'D\ud83d' }, loneSurrogate],
    ['a lone surrogate in an attribute key', { id: 'u', attributes: { 'k\udfff': 1 } }, loneSurrogate],
    ['a lone surrogate deep in attributes', { id: 'u', attributes: { o: { list: ['ok', 'x\ud800y'] } } }, loneSurrogate],
    ['a lone surrogate in an unknown field', { id: 'u', ['x\ud800']: 1 }, loneSurrogate],
    ['a cycle in attributes', cyclicAttributes, notJson],
    ['a cycle in a list', { id: 'u', attributes: { list: cyclicList } }, notJson],
    ['a BigInt', { id: 'u', attributes: { n: 10n } }, notJson],
    ['a revoked Proxy', revoked.proxy, notJson],
    ['a getter that throws', { id: 'u', get email() { throw new TypeError('no'); } }, notJson],
    ['nested 126 deep', { id: 'u', attributes: { o: nestedIn(126, 'v') } }, tooDeep],
    ['nested 300 deep', { id: 'u', attributes: { o: nestedIn(300, 'v') } }, tooDeep],
    ['a sparse array of 2^31', { id: 'u', attributes: { list: hugeSparse } }, null],
    ['a symbol', Symbol('user'), 'user: must be JSON data, not a function or a symbol'],
    ['a function', () => ({ id: 'u' }), 'user: must be JSON data, not a function or a symbol'],
    ['toJSON answering undefined', { id: 'u', toJSON: () => undefined }, 'user: must be JSON data, not a function or a symbol'],
    ['an array', [{ id: 'u' }], 'user: must be a JSON object'],
    ['a number', 7, 'user: must be a JSON object'],
    ['a Date', new Date(0), 'user: must be a JSON object'],
    ['an empty id', { id: '' }, 'user.id: must be a non-empty string'],
    ['an id of a number', { id: 5 }, 'user.id: must be a non-empty string'],
    ['no id', { email: 'a@example.com' }, 'user.id: must be a non-empty string'],
    ['an id that is NaN', { id: NaN }, 'user.id: must be a non-empty string'],
    ['an email of an object', { id: 'u', email: { a: '\ud800' } }, 'user.email: must be a string'],
    ['a country of a number', { id: 'u', country: 49 }, 'user.country: must be a string'],
    ['attributes an array', { id: 'u', attributes: ['pro'] }, 'user.attributes: must be an object'],
    ['attributes a string', { id: 'u', attributes: 'pro' }, 'user.attributes: must be an object'],
    ['an unknown field', { id: 'u', plan: 'pro' }, 'user.plan: unknown field; custom attributes go under user.attributes'],
    ['an unknown field from a class', new (class { constructor() { this.id = 'u'; this.name = 'n'; } })(), 'user.name: unknown field; custom attributes go under user.attributes'],
    ['toJSON with an unknown field', { toJSON: () => ({ id: 'u', x: 1 }) }, 'user.x: unknown field; custom attributes go under user.attributes'],
  ];
}

/** The message of what `fn` throws (any Error), or what it answers when it does not throw. */
function outcome(fn) {
  try {
    return { answer: fn() };
  } catch (err) {
    return { error: err instanceof Error ? err.message : `not an Error: ${String(err)}` };
  }
}

export function userPathCases(api) {
  const cases = [];
  const add = (name, run) => cases.push({ name: `user paths: ${name}`, run });

  for (const [name, user] of users()) {
    add(`${name}: the same answers both ways, and as JSON data`, () => {
      const evaluator = new api.Evaluator(FLAGS);
      try {
        const exact = evaluator.evaluate(user, KEYS);
        sameJson(evaluator.evaluate(user), exact, 'evaluate(user)');
        sameJson(api.evaluateAll(FLAGS, user), exact, 'evaluateAll');
        for (const result of exact) sameJson(evaluator.evaluateFlag(result.flagKey, user), result, `evaluateFlag(${result.flagKey})`);
        // What JSON.stringify made of it is what was evaluated.
        sameJson(evaluator.evaluate(JSON.parse(JSON.stringify(user)), KEYS), exact, 'the JSON round trip');
      } finally {
        evaluator.free();
      }
    });
  }

  for (const [name, user, message] of badUsers()) {
    add(`${name}: the same message both ways`, () => {
      const evaluator = new api.Evaluator(FLAGS);
      try {
        const exact = outcome(() => evaluator.evaluate(user, KEYS));
        if (message !== null) sameJson(exact, { error: message }, 'the exact path');
        else if (exact.error === undefined) throw new Error(`expected an Error, got an answer`);
        sameJson(outcome(() => evaluator.evaluate(user)), exact, 'evaluate(user)');
        sameJson(outcome(() => evaluator.evaluateFlag('f00', user)), exact, 'evaluateFlag');
        sameJson(outcome(() => api.evaluate(FLAGS[0], user)), exact, 'evaluate');
      } finally {
        evaluator.free();
      }
    });
  }

  add('the fast path reads each getter once; the exact path, after it gives up, once more', () => {
    const evaluator = new api.Evaluator(FLAGS);
    try {
      const fast = {};
      const answer = evaluator.evaluate(withGetters(fast));
      sameJson(fast, { id: 1, plan: 1 }, 'reads by the fast path');
      sameJson(answer, evaluator.evaluate({ id: 'user-1', attributes: { plan: 'pro' } }, KEYS));
      const slow = {};
      const user = withGetters(slow);
      user.attributes.when = new Date(0);
      evaluator.evaluate(user);
      sameJson(slow, { id: 2, plan: 2 }, 'reads when the Date sends it to the exact path');
    } finally {
      evaluator.free();
    }
  });

  add('an evaluation inside a getter during the encoding of another user', () => {
    const evaluator = new api.Evaluator(FLAGS);
    try {
      const inner = { id: 'user-1', email: 'a@example.com', country: 'FR', attributes: { plan: 'pro', list: [1] } };
      let innerAnswer;
      const outer = {
        id: 'someone-else',
        get attributes() {
          innerAnswer = evaluator.evaluate(inner);
          return { n: 0, o: { k: 'v' } };
        },
      };
      const outerAnswer = evaluator.evaluate(outer);
      sameJson(innerAnswer, evaluator.evaluate(inner, KEYS), 'the inner user');
      sameJson(outerAnswer, evaluator.evaluate({ id: 'someone-else', attributes: { n: 0, o: { k: 'v' } } }, KEYS), 'the outer user');
    } finally {
      evaluator.free();
    }
  });

  add('answers stay right while wasm memory grows and the input buffer moves', () => {
    const evaluator = new api.Evaluator(FLAGS);
    const others = [];
    try {
      const small = { id: 'user-1', email: 'a@example.com', attributes: { plan: 'pro', n: 0 } };
      const expected = evaluator.evaluate(small, KEYS);
      sameJson(evaluator.evaluate(small), expected, 'before');
      // Big sets elsewhere grow the module's memory, which detaches every view of it.
      const many = Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, enabled: true, rules: [{ field: 'id', operator: 'in', value: Array.from({ length: 50 }, (__, j) => `u${i}-${j}`) }] }));
      for (let i = 0; i < 5; i += 1) others.push(new api.Evaluator(many));
      sameJson(evaluator.evaluate(small), expected, 'after the memory grew');
      sameJson(evaluator.evaluateFlag('f06', small), expected[6], 'evaluateFlag after the memory grew');
      // A user ten thousand times larger makes the input buffer grow (and move).
      const large = { ...small, attributes: { ...small.attributes, s: '\u00e9'.repeat(50_000), list: Array.from({ length: 10_000 }, (_, i) => i) } };
      sameJson(evaluator.evaluate(large), evaluator.evaluate(large, KEYS), 'a large user');
      sameJson(evaluator.evaluate(small), expected, 'after the buffer moved');
    } finally {
      evaluator.free();
      for (const other of others) other.free();
    }
  });

  add('answers depend on the user (the flags are not vacuous)', () => {
    const evaluator = new api.Evaluator(FLAGS);
    try {
      const matched = (user) => evaluator.evaluate(user).filter((r) => r.reason === 'RULE_MATCH').map((r) => r.flagKey);
      sameJson(matched({ id: 'user-1' }), ['f00', 'f05']);
      sameJson(
        matched({ id: 'u\u00e9', email: 'a@example.com', country: 'DE', attributes: { plan: 'pro', n: 0, s: '\u{1f600}', b: true, list: [], o: protoKey, toJSON: null, big } }),
        ['f01', 'f02', 'f03', 'f04', 'f06', 'f07', 'f08', 'f09', 'f14', 'f16', 'f17', 'f20', 'f21', 'f22', 'f24'],
      );
      sameJson(matched({ id: 'user-1', attributes: { n: 2 ** 53 + 2, s: '\ufffd' } }), ['f00', 'f05', 'f09', 'f10', 'f13', 'f16']);
      sameJson(matched({ id: 'user-1', attributes: { n: NaN } }), ['f00', 'f05']);
      sameJson(matched({ id: 'user-1', attributes: { b: false, n: 2 ** 60 } }), ['f00', 'f05', 'f09', 'f10', 'f18', 'f19']);
    } finally {
      evaluator.free();
    }
  });
  return cases;
}
