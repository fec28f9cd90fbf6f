// The checks of the npm package, written once and run both by Node (node.test.mjs) and by headless
// Chromium (browser-page.html, reported back to browser.test.mjs). Each case is {name, run}; `run`
// throws an Error that says what differed. No Node APIs here: this file is served to the browser.

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

/** Asserts that `fn` throws an Error whose message starts with `field: ` (the field it names). */
export function throwsNaming(fn, field) {
  let thrown;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  if (thrown === undefined) throw new Error(`expected an Error naming ${field}, nothing was thrown`);
  if (!(thrown instanceof Error)) throw new Error(`expected an Error, got ${describe(thrown)}`);
  if (!thrown.message.startsWith(`${field}: `)) {
    throw new Error(`expected the message to name ${JSON.stringify(field)}, got ${JSON.stringify(thrown.message)}`);
  }
  return thrown;
}

/**
 * One case per vector case and per way of asking the package: `Evaluator.evaluate`,
 * `Evaluator` built from a snapshot, `evaluateAll`, `evaluateFlag` and `evaluate` per flag.
 * `vectors` is a list of {file, vector} with the contents of tests/vectors/*.json.
 */
export function vectorCases(api, vectors) {
  const cases = [];
  for (const { file, vector } of vectors) {
    for (const c of vector.cases) {
      const name = `${file} / ${c.name}`;
      const request = c.request;
      const expected = c.response;
      // Flags live in the vector's environment; a request for another one sees none of them.
      const flags = request.environment === vector.environment ? vector.flags : [];
      if (expected !== null && typeof expected === 'object' && 'error' in expected) {
        cases.push({
          name: `${name} (refused)`,
          run() {
            const evaluator = new api.Evaluator(flags);
            try {
              let thrown;
              try {
                evaluator.evaluate(request.user, request.flags);
              } catch (err) {
                thrown = err;
              }
              if (!(thrown instanceof Error)) throw new Error(`expected an Error like ${JSON.stringify(expected.error)}`);
            } finally {
              evaluator.free();
            }
          },
        });
        continue;
      }
      cases.push({
        name: `${name} (Evaluator.evaluate)`,
        run() {
          const evaluator = new api.Evaluator(flags);
          try {
            sameJson(evaluator.evaluate(request.user, request.flags), expected.results);
          } finally {
            evaluator.free();
          }
        },
      });
      cases.push({
        name: `${name} (Evaluator from a snapshot)`,
        run() {
          const evaluator = new api.Evaluator({ environment: vector.environment, revision: 7, flags });
          try {
            sameJson(evaluator.evaluate(request.user, request.flags), expected.results);
          } finally {
            evaluator.free();
          }
        },
      });
      cases.push({
        name: `${name} (evaluateFlag, evaluate, evaluateAll)`,
        run() {
          const evaluator = new api.Evaluator(flags);
          try {
            for (const result of expected.results) {
              sameJson(evaluator.evaluateFlag(result.flagKey, request.user), result, `evaluateFlag(${result.flagKey})`);
              const flag = flags.find((f) => f.key === result.flagKey);
              if (flag !== undefined) sameJson(api.evaluate(flag, request.user), result, `evaluate(${result.flagKey})`);
            }
          } finally {
            evaluator.free();
          }
          if (request.flags === undefined) sameJson(api.evaluateAll(flags, request.user), expected.results, 'evaluateAll');
        },
      });
    }
  }
  return cases;
}
