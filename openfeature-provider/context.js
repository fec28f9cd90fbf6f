// An OpenFeature evaluation context as Pennon's user, the way the origin's OFREP reads it
// (evaluator/src/ofrep/read.rs): `targetingKey` → `id`, `email` and `country` → those fields, every
// other key → `attributes`. The checks are OFREP's, in its order; the evaluator checks the rest
// (attribute depth and size) and its messages are rewritten to name `context.` as OFREP does.

/** A context the provider cannot evaluate: `code` is the OpenFeature error code. */
export class ContextError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

const typeName = (value) => (value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`);

/** A JSON value as the OFREP providers would send it: Dates as ISO strings, undefined left out. */
function jsonValue(value) {
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((item) => (item === undefined ? null : jsonValue(item)));
  if (value !== null && typeof value === 'object') {
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      if (item !== undefined) out[key] = jsonValue(item);
    }
    return out;
  }
  return value;
}

/** The user for `context`; throws a ContextError (TARGETING_KEY_MISSING or INVALID_CONTEXT). */
export function userOf(context) {
  const { targetingKey, email, country, ...rest } = context ?? {};
  if (targetingKey !== undefined && targetingKey !== null && typeof targetingKey !== 'string') {
    throw new ContextError('INVALID_CONTEXT', `context.targetingKey: must be a string, not ${typeName(targetingKey)}`);
  }
  if (targetingKey === undefined || targetingKey === null || targetingKey === '') {
    throw new ContextError('TARGETING_KEY_MISSING', 'context.targetingKey: missing; Pennon decides flags for a user, named by targetingKey');
  }
  const user = { id: targetingKey };
  for (const [name, value] of [['email', email], ['country', country]]) {
    if (value === undefined) continue;
    if (value !== null && typeof value !== 'string') {
      throw new ContextError('INVALID_CONTEXT', `context.${name}: must be a string or null, not ${typeName(value)}`);
    }
    user[name] = value;
  }
  const attributes = {};
  let any = false;
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue;
    attributes[key] = jsonValue(value);
    any = true;
  }
  if (any) user.attributes = attributes;
  return user;
}

/** The evaluator's message about a user, in the context's words. */
export function contextMessage(message) {
  return String(message).replaceAll('user.attributes.', 'context.').replaceAll('user.attributes', 'context');
}
