// The public API of @pennon/evaluator, shared by the Node and browser entry points.
// It sits on the wasm-bindgen glue in ./wasm/ once that glue has been initialised by the entry point.
import * as glue from './wasm/pennon_evaluator.js';
import { WasmInput } from './wasm-input.js';
import { verifySnapshot } from './signature.js';

export { SignatureError } from './signature.js';

const FREED_MESSAGE = 'Evaluator has been freed: create a new Evaluator to evaluate again';

// Decoding table of `evaluateCodes`: bits 0-2 index it, bit 3 is `enabled`, bits 4 and up index the
// flag's variants (evaluator-wasm/src/code.rs).
let reasons;
/** The module's WebAssembly.Memory, where WasmInput writes users and reads codes. */
let memory;

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

/**
 * What makes a fresh copy of an object variant's value for each result, so that no two results share
 * one; undefined for a primitive. Made once per value, at construction: the values are JSON data that
 * output.rs built (plain objects of own data properties, `__proto__` included, arrays, primitives),
 * and a spread, which defines each property as an own one as JSON.parse does, copies such an object
 * ~4× faster than a walk and ~60× faster than structuredClone (which was a third of evaluating the
 * v2 bench set in Node, most of it in Chromium).
 */
function copier(value) {
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => copier(item) ?? (() => item));
    return () => items.map((copy) => copy());
  }
  const nested = [];
  for (const key of Object.keys(value)) {
    const copy = copier(value[key]);
    if (copy !== undefined) nested.push([key, copy]);
  }
  if (nested.length === 0) return () => ({ ...value });
  return () => {
    // The spread made every key an own data property, so assigning one (even `__proto__`) sets it.
    const copy = { ...value };
    for (const [key, make] of nested) copy[key] = make();
    return copy;
  };
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
  /** Per flag, in the order of #keys: its variants as [name, value] pairs, read from wasm once. */
  #variants;
  /** Per flag and variant, as #variants: the copier of an object value (see copier), else undefined. */
  #copies;
  /** Each key's place in #keys, for evaluateFlag. */
  #places;
  /** The fast way in for a user (wasm-input.js). */
  #input;

  constructor(flagsOrSnapshot) {
    this.#inner = new glue.Evaluator(flagsOrSnapshot);
    this.#keys = this.#inner.keys();
    this.#variants = this.#inner.variantTable();
    this.#copies = this.#variants.map((variants) => variants.map(([, value]) => copier(value)));
    this.#places = new Map(this.#keys.map((key, i) => [key, i]));
    reasons ??= glue.reasonNames();
    memory ??= glue.wasmMemory();
    this.#input = new WasmInput(this.#inner, memory, this.#keys.length);
  }

  /**
   * A snapshot's body (the bytes or text of `GET /api/flags/snapshot`) verified against its
   * `Pennon-Signature` header with one of `options.publicKeys`, then compiled: resolves to the
   * Evaluator, or rejects with a SignatureError whose `reason` says why (docs/signing.md).
   */
  static async verified(body, signatureHeader, options) {
    const { snapshot } = await verifySnapshot(body, signatureHeader, options);
    return new Evaluator(snapshot);
  }

  /** Every flag for `user` (or only `keys`, unknown ones as FLAG_NOT_FOUND), sorted by flagKey. */
  evaluate(user, keys) {
    const inner = this.#live();
    if (keys !== undefined && keys !== null) return inner.evaluate(user, keys);
    // The hot path: the user written into wasm memory as a compact encoding rather than JSON
    // (wasm-input.js), one number a flag back, the objects built here from the keys and variants
    // cached once (see evaluateCodes in evaluator-wasm/src/lib.rs). A user the encoding leaves out
    // takes the exact path, for its answer or its error.
    const codes = this.#input.codes(user) ?? inner.evaluateCodes(user);
    const flagKeys = this.#keys;
    const variants = this.#variants;
    const copies = this.#copies;
    const count = codes.length;
    const results = new Array(count);
    for (let i = 0; i < count; i += 1) {
      const code = codes[i];
      const served = variants[i][code >> 4];
      const copy = copies[i][code >> 4];
      results[i] = {
        flagKey: flagKeys[i],
        enabled: (code & 8) !== 0,
        reason: reasons[code & 7],
        variant: served[0],
        value: copy === undefined ? served[1] : copy(),
      };
    }
    return results;
  }

  /** One flag for `user`; an unknown key answers FLAG_NOT_FOUND. */
  evaluateFlag(key, user) {
    const inner = this.#live();
    const place = this.#places.get(key);
    if (place !== undefined) {
      const code = this.#input.flagCode(place, user);
      if (code !== undefined) return this.#result(place, code);
    }
    return inner.evaluateFlag(key, user);
  }

  #result(place, code) {
    const served = this.#variants[place][code >> 4];
    const copy = this.#copies[place][code >> 4];
    return {
      flagKey: this.#keys[place],
      enabled: (code & 8) !== 0,
      reason: reasons[code & 7],
      variant: served[0],
      value: copy === undefined ? served[1] : copy(),
    };
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
    this.#copies = undefined;
    this.#places = undefined;
    this.#input = undefined;
    if (inner !== undefined) inner.free();
  }

  #live() {
    if (this.#inner === undefined) throw new Error(FREED_MESSAGE);
    return this.#inner;
  }
}
