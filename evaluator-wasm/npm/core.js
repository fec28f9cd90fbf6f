// The public API of @pennon/evaluator, shared by the Node and browser entry points.
// It sits on the wasm-bindgen glue in ./wasm/ once that glue has been initialised by the entry point.
import * as glue from './wasm/pennon_evaluator.js';

const FREED_MESSAGE = 'Evaluator has been freed: create a new Evaluator to evaluate again';

// Decoding table of `evaluateCodes`: bits 0-2 index it, bit 3 is `enabled` (evaluator-wasm/src/code.rs).
let reasons;

/** Evaluates one flag for one user: `{flagKey, enabled, reason}`. */
export function evaluate(flag, user) {
  return glue.evaluate(flag, user);
}

/** Evaluates every flag of a list for one user, sorted by flagKey. */
export function evaluateAll(flags, user) {
  return glue.evaluateAll(flags, user);
}

/**
 * A flag set compiled once inside wasm memory; each user then costs one call.
 * The wrapper exists so that a freed Evaluator fails with a message that says so,
 * whatever the wasm-bindgen glue does with a released pointer.
 */
export class Evaluator {
  #inner;
  /** The set's keys, sorted: the order of `evaluateCodes`, read from wasm once. */
  #keys;

  constructor(flagsOrSnapshot) {
    this.#inner = new glue.Evaluator(flagsOrSnapshot);
    this.#keys = this.#inner.keys();
    reasons ??= glue.reasonNames();
  }

  /** Every flag for `user` (or only `keys`, unknown ones as FLAG_NOT_FOUND), sorted by flagKey. */
  evaluate(user, keys) {
    const inner = this.#live();
    if (keys !== undefined && keys !== null) return inner.evaluate(user, keys);
    // The hot path: one byte a flag out of wasm, the objects built here with keys cached once,
    // rather than three boundary crossings a field (see evaluateCodes in evaluator-wasm/src/lib.rs).
    const codes = inner.evaluateCodes(user);
    const flagKeys = this.#keys;
    const results = new Array(codes.length);
    for (let i = 0; i < codes.length; i += 1) {
      const code = codes[i];
      results[i] = { flagKey: flagKeys[i], enabled: (code & 8) !== 0, reason: reasons[code & 7] };
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

  /** The snapshot's environment, or undefined when built from a list of flags. */
  get environment() {
    return this.#live().environment;
  }

  /** The snapshot's revision, or undefined when built from a list of flags. */
  get revision() {
    return this.#live().revision;
  }

  /** Releases the wasm memory now instead of at garbage collection; later calls throw. Idempotent. */
  free() {
    const inner = this.#inner;
    this.#inner = undefined;
    this.#keys = undefined;
    if (inner !== undefined) inner.free();
  }

  #live() {
    if (this.#inner === undefined) throw new Error(FREED_MESSAGE);
    return this.#inner;
  }
}
