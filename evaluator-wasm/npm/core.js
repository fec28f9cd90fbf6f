// The public API of @pennon/evaluator, shared by the Node and browser entry points.
// It sits on the wasm-bindgen glue in ./wasm/ once that glue has been initialised by the entry point.
import * as glue from './wasm/pennon_evaluator.js';

const FREED_MESSAGE = 'Evaluator has been freed: create a new Evaluator to evaluate again';

// Decoding table of `evaluateCodes`: bits 0-2 index it, bit 3 is `enabled`, bits 4 and up index the
// flag's variants (evaluator-wasm/src/code.rs).
let reasons;

/**
 * Evaluates one flag for one user on its own: `{flagKey, enabled, reason, variant, value}`. Alone, a
 * prerequisite finds no flag (it fails) and a segment condition no segment (no members).
 */
export function evaluate(flag, user) {
  return glue.evaluate(flag, user);
}

/**
 * Evaluates every flag of a list for one user, sorted by flagKey; the flags are decided among
 * themselves, so a prerequisite on another flag of the list works.
 */
export function evaluateAll(flags, user) {
  return glue.evaluateAll(flags, user);
}

/** A fresh copy of an object variant's value for each result, so that no two results share one. */
const copyOf = (value) => (typeof value === 'object' && value !== null ? structuredClone(value) : value);

/**
 * A flag set compiled once inside wasm memory; each user then costs one call.
 * The wrapper exists so that a freed Evaluator fails with a message that says so,
 * whatever the wasm-bindgen glue does with a released pointer.
 */
export class Evaluator {
  #inner;
  /** The set's keys, sorted: the order of `evaluateCodes`, read from wasm once. */
  #keys;
  /** Per flag, in the order of #keys: its variants as [name, value] pairs, read from wasm once. */
  #variants;

  constructor(flagsOrSnapshot) {
    this.#inner = new glue.Evaluator(flagsOrSnapshot);
    this.#keys = this.#inner.keys();
    this.#variants = this.#inner.variantTable();
    reasons ??= glue.reasonNames();
  }

  /** Every flag for `user` (or only `keys`, unknown ones as FLAG_NOT_FOUND), sorted by flagKey. */
  evaluate(user, keys) {
    const inner = this.#live();
    if (keys !== undefined && keys !== null) return inner.evaluate(user, keys);
    // The hot path: one number a flag out of wasm, the objects built here from the keys and variants
    // cached once (see evaluateCodes in evaluator-wasm/src/lib.rs).
    const codes = inner.evaluateCodes(user);
    const flagKeys = this.#keys;
    const variants = this.#variants;
    const results = new Array(codes.length);
    for (let i = 0; i < codes.length; i += 1) {
      const code = codes[i];
      const [variant, value] = variants[i][code >> 4];
      results[i] = {
        flagKey: flagKeys[i],
        enabled: (code & 8) !== 0,
        reason: reasons[code & 7],
        variant,
        value: copyOf(value),
      };
    }
    return results;
  }

  /** One flag for `user`; an unknown key answers FLAG_NOT_FOUND. */
  evaluateFlag(key, user) {
    return this.#live().evaluateFlag(key, user);
  }

  /** How many flags the set holds. */
  get size() {
    return this.#live().size;
  }

  /** The snapshot's environment, or undefined when built from a list of flags or a snapshot without one. */
  get environment() {
    return this.#live().environment;
  }

  /** The snapshot's revision, or undefined when built from a list of flags or a snapshot without one. */
  get revision() {
    return this.#live().revision;
  }

  /** Releases the wasm memory now instead of at garbage collection; later calls throw. Idempotent. */
  free() {
    const inner = this.#inner;
    this.#inner = undefined;
    this.#keys = undefined;
    this.#variants = undefined;
    if (inner !== undefined) inner.free();
  }

  #live() {
    if (this.#inner === undefined) throw new Error(FREED_MESSAGE);
    return this.#inner;
  }
}
