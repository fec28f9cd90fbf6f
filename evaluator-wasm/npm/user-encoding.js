// The fast way in for a user: instead of JSON.stringify then serde_json inside wasm, this walks a
// plain user object and writes its strings into one text and its shape into numbers (the "tape"),
// which wasm-input.js writes into wasm memory and evaluator-wasm/src/encoded_user.rs reads (and
// documents), with no JSON and no call back here.
//
// It encodes only what it can encode exactly as JSON.stringify would present it, and only users that
// are certainly valid: anything else (class instances, toJSON, functions, symbols, BigInt, unknown
// keys, a missing id, nesting past MAX_DEPTH — cycles included —, a thrown getter, a user past
// MAX_SLOTS or MAX_UNITS) makes encodeUser answer undefined, and the caller hands the object to the
// exact path, whose answers and error messages are the origin's. A getter is then read twice, once
// here.

/** Nesting the exact path reads alike (serde_json's limit is 128); the user object is level 1. */
const MAX_DEPTH = 64;
/**
 * Bounds of what this encodes: wasm-input.js keeps a buffer as large as the largest user it wrote
 * (3 bytes a UTF-16 unit, 8 bytes a slot) for the life of the Evaluator, and a sparse array of 2^31
 * must not run away. A bigger user costs more than the boundary anyway: the exact path reads it.
 */
const MAX_SLOTS = 1 << 14;
const MAX_UNITS = 1 << 16;
const ABSENT = -1;
// A value's first slot is tag + 8 * n (n: a string's UTF-16 length, or a list's or a map's count).
const NULL = 0;
const FALSE = 1;
const TRUE = 2;
const NUMBER = 3;
const STRING = 4;
const LIST = 5;
const MAP = 6;

let tape = new Float64Array(64);
let slots = 0;
/** The strings, in order; joined once (a string grown by `+=` is a rope that is slow to pass to wasm). */
const strings = [];
/** A getter that evaluates while its user is being encoded must not write over this encoding. */
let busy = false;

/** Thrown inside the walk to abandon it; nothing outside this module sees it. */
const GIVE_UP = Symbol('give up');

function push(value) {
  if (slots === tape.length) {
    if (slots >= MAX_SLOTS) throw GIVE_UP;
    const bigger = new Float64Array(slots * 2);
    bigger.set(tape);
    tape = bigger;
  }
  tape[slots] = value;
  slots += 1;
}

function pushText(value) {
  strings.push(value);
  push(STRING + 8 * value.length);
}

/** Whether JSON.stringify would read `value` as the plain object it is: no toJSON, no wrapper. */
function plainObject(value) {
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && value.toJSON === undefined;
}

function encodeValue(value, level) {
  switch (typeof value) {
    case 'string':
      pushText(value);
      return;
    case 'number':
      // NaN and ±Infinity too: the reader makes them null, as JSON.stringify writes them.
      push(NUMBER);
      push(value);
      return;
    case 'boolean':
      push(value ? TRUE : FALSE);
      return;
    case 'object':
      if (value === null) {
        push(NULL);
        return;
      }
      if (level >= MAX_DEPTH) throw GIVE_UP;
      if (Array.isArray(value)) {
        encodeList(value, level);
      } else {
        encodeMap(value, level);
      }
      return;
    default:
      throw GIVE_UP;
  }
}

function encodeList(list, level) {
  if (Object.getPrototypeOf(list) !== Array.prototype || list.toJSON !== undefined) throw GIVE_UP;
  const count = list.length;
  if (count > MAX_SLOTS) throw GIVE_UP;
  push(LIST + 8 * count);
  for (let i = 0; i < count; i += 1) {
    const item = list[i];
    // JSON.stringify writes a hole or undefined in an array as null.
    if (item === undefined) push(NULL);
    else encodeValue(item, level + 1);
  }
}

function encodeMap(object, level) {
  if (!plainObject(object)) throw GIVE_UP;
  const head = slots;
  push(MAP);
  let count = 0;
  for (const key of Object.keys(object)) {
    const value = object[key];
    // JSON.stringify leaves out a property whose value is undefined.
    if (value === undefined) continue;
    strings.push(key);
    push(key.length);
    encodeValue(value, level + 1);
    count += 1;
  }
  tape[head] = MAP + 8 * count;
}

function optionalText(value) {
  if (value === undefined || value === null) {
    push(ABSENT);
  } else if (typeof value === 'string') {
    strings.push(value);
    push(value.length);
  } else {
    throw GIVE_UP;
  }
}

function encodeFields(user) {
  if (typeof user !== 'object' || user === null || Array.isArray(user) || !plainObject(user)) throw GIVE_UP;
  let id;
  let email;
  let country;
  let attributes;
  // Read in the object's own order, each once, as JSON.stringify reads them.
  for (const key of Object.keys(user)) {
    const value = user[key];
    if (key === 'id') id = value;
    else if (key === 'email') email = value;
    else if (key === 'country') country = value;
    else if (key === 'attributes') attributes = value;
    else if (value !== undefined) throw GIVE_UP;
  }
  if (typeof id !== 'string' || id.length === 0) throw GIVE_UP;
  strings.push(id);
  push(id.length);
  optionalText(email);
  optionalText(country);
  if (attributes === undefined || attributes === null) {
    push(ABSENT);
  } else if (typeof attributes === 'object' && !Array.isArray(attributes)) {
    encodeMap(attributes, 2);
  } else {
    throw GIVE_UP;
  }
}

/**
 * Encodes `user`: answers the text (all its strings, joined), the tape being `encodedTape()` up to
 * `encodedSlots()` until the next call; or undefined when the exact path must read the user.
 */
export function encodeUser(user) {
  if (busy) return undefined;
  busy = true;
  strings.length = 0;
  slots = 0;
  try {
    encodeFields(user);
    const text = strings.join('');
    if (text.length > MAX_UNITS) throw GIVE_UP;
    return text;
  } catch {
    // GIVE_UP, or whatever a getter or a proxy threw: the exact path reads it again and reports.
    slots = 0;
    return undefined;
  } finally {
    strings.length = 0;
    busy = false;
  }
}

export const encodedTape = () => tape;
export const encodedSlots = () => slots;
