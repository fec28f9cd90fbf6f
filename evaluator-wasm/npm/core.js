// The public API of @pennon/evaluator, shared by the Node and browser entry points.
// It sits on the wasm-bindgen glue in ./wasm/ once that glue has been initialised by the entry point.
import * as glue from './wasm/pennon_evaluator.js';

const FREED_MESSAGE = 'Evaluator has been freed: create a new Evaluator to evaluate again';

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

  constructor(flagsOrSnapshot) {
    this.#inner = new glue.Evaluator(flagsOrSnapshot);
  }

  /** Every flag for `user` (or only `keys`, unknown ones as FLAG_NOT_FOUND), sorted by flagKey. */
  evaluate(user, keys) {
    return this.#live().evaluate(user, keys);
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
    if (inner !== undefined) inner.free();
  }

  #live() {
    if (this.#inner === undefined) throw new Error(FREED_MESSAGE);
    return this.#inner;
  }
}
