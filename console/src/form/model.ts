// The structured flag editor's model, free of Preact: a flag's definition (docs/evaluation.md)
// read into form state and written back, the checks the form makes before anything is sent, and
// where a server's 400 (`rules[1].value: …`) belongs. Every part keeps the fields it does not know
// (`extra`), so a definition read and written back loses nothing.
import type { Json, JsonObject } from '../api';

export type FlagType = 'boolean' | 'string' | 'number' | 'object';
export const TYPES: readonly FlagType[] = ['boolean', 'string', 'number', 'object'];

/** The operators of docs/evaluation.md, in its order. */
export const OPERATORS = [
  'eq', 'neq', 'in', 'not_in', 'starts_with', 'ends_with', 'contains', 'lt', 'lte', 'gt', 'gte',
  'semver_eq', 'semver_lt', 'semver_gt', 'before', 'after', 'exists',
] as const;

/** How an operator's value is entered. */
export type ValueKind = 'scalar' | 'list' | 'string' | 'number' | 'semver' | 'date' | 'exists';
export function valueKind(operator: string): ValueKind {
  switch (operator) {
    case 'eq': case 'neq': return 'scalar';
    case 'in': case 'not_in': return 'list';
    case 'lt': case 'lte': case 'gt': case 'gte': return 'number';
    case 'semver_eq': case 'semver_lt': case 'semver_gt': return 'semver';
    case 'before': case 'after': return 'date';
    case 'exists': return 'exists';
    default: return 'string';
  }
}

/** The JSON type of an `eq`/`neq` value or of every element of an `in`/`not_in` list. */
export type ScalarType = 'string' | 'number' | 'boolean';

export interface VariantRow { name: string; text: string }
export interface FieldCondition {
  kind: 'field';
  field: string;
  operator: string;
  scalar: ScalarType;
  /** The value as typed: a list is one element per line. */
  text: string;
  extra: JsonObject;
}
export interface SegmentCondition { kind: 'segment'; negate: boolean; segment: string; extra: JsonObject }
export type Condition = FieldCondition | SegmentCondition;
export interface SplitRow { variant: string; percent: string; extra: JsonObject }
export type Serve =
  | { kind: 'variant'; variant: string }
  | { kind: 'split'; rows: SplitRow[]; bucketBy: string; salt: string; extra: JsonObject };
/** A rule's conditions: one condition, or an `{"all": [...]}` group (`grouped`); a segment's rule is just this. */
export interface RuleBody { conditions: Condition[]; grouped: boolean; extra: JsonObject }
export interface Rule extends RuleBody { serve: Serve }
export interface Prerequisite { flag: string; variants: string[]; extra: JsonObject }
export interface FormState {
  type: FlagType;
  variants: VariantRow[];
  offVariant: string;
  prerequisites: Prerequisite[];
  rules: Rule[];
  /** Boolean flags: the v1 rollout (`rolloutPercentage`) or a serve (`fallthrough`). */
  mode: 'rollout' | 'serve';
  rollout: string;
  fallthrough: Serve;
  extra: JsonObject;
}

const KNOWN = ['type', 'variants', 'offVariant', 'prerequisites', 'rules', 'rolloutPercentage', 'fallthrough'];

// ---- weights: the API's thousandths of a percent (0..100000), entered as percentages ----

export const SPLIT_TOTAL = 100000;

/** "33.333" → 33333, exactly (read as text, never through a float); null if not 0..100 with ≤ 3 decimals. */
export function parsePercent(text: string): number | null {
  const m = /^(\d{1,3})(?:\.(\d{1,3}))?$/.exec(text.trim());
  if (!m) return null;
  const value = Number(m[1]) * 1000 + Number((m[2] ?? '').padEnd(3, '0'));
  return value <= SPLIT_TOTAL ? value : null;
}

/** 33333 → "33.333", 34000 → "34". */
export function percentText(weight: number): string {
  const whole = Math.floor(weight / 1000);
  const part = weight % 1000;
  return part === 0 ? String(whole) : `${whole}.${String(part).padStart(3, '0').replace(/0+$/, '')}`;
}

/** The sum of a split's weights, or null while one of them is not a percentage. */
export function splitSum(rows: readonly SplitRow[]): number | null {
  let sum = 0;
  for (const row of rows) {
    const w = parsePercent(row.percent);
    if (w === null) return null;
    sum += w;
  }
  return sum;
}

// ---- reading a definition ----

class Unshowable extends Error {}
const refuse = (path: string, why: string): never => {
  throw new Unshowable(`${path}: ${why}; edit it as JSON`);
};

const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);
function rest(obj: JsonObject, known: readonly string[]): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(obj)) if (!known.includes(k)) out[k] = v;
  return out;
}
function str(v: Json | undefined, path: string): string {
  if (v === undefined) return '';
  return typeof v === 'string' ? v : refuse(path, 'the form shows a string here');
}

function variantText(type: FlagType, value: Json, path: string): string {
  if (type === 'string') return typeof value === 'string' ? value : refuse(path, 'not a string');
  if (type === 'number') return typeof value === 'number' ? String(value) : refuse(path, 'not a number');
  return JSON.stringify(value, null, 2);
}

function scalarOf(v: Json, path: string): ScalarType {
  if (typeof v === 'string') return 'string';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'boolean') return 'boolean';
  return refuse(path, 'the form shows a string, number or boolean here');
}

function readCondition(c: Json, path: string): Condition {
  if (!isObject(c)) return refuse(path, 'not an object');
  if ('segment' in c || 'notSegment' in c) {
    const negate = !('segment' in c);
    const name = negate ? 'notSegment' : 'segment';
    return { kind: 'segment', negate, segment: str(c[name], `${path}.${name}`), extra: rest(c, [name]) };
  }
  const operator = str(c.operator, `${path}.operator`);
  const value = c.value;
  let scalar: ScalarType = 'string';
  let text = '';
  const kind = valueKind(operator);
  if (value === undefined) {
    // nothing typed yet
  } else if (kind === 'list') {
    if (!Array.isArray(value) || value.length === 0) return refuse(`${path}.value`, 'not a list');
    scalar = scalarOf(value[0]!, `${path}.value[0]`);
    text = value
      .map((v, k) => {
        if (scalarOf(v, `${path}.value[${k}]`) !== scalar) refuse(`${path}.value`, 'a list of mixed types');
        const t = String(v);
        if (t === '' || t.includes('\n')) refuse(`${path}.value[${k}]`, 'empty or several lines');
        return t;
      })
      .join('\n');
  } else if (kind === 'scalar') {
    scalar = scalarOf(value, `${path}.value`);
    text = String(value);
  } else if (kind === 'number') {
    if (typeof value !== 'number') return refuse(`${path}.value`, 'not a number');
    scalar = 'number';
    text = String(value);
  } else if (kind === 'exists') {
    if (typeof value !== 'boolean') return refuse(`${path}.value`, 'not true or false');
    scalar = 'boolean';
    text = String(value);
  } else {
    text = str(value, `${path}.value`);
  }
  return { kind: 'field', field: str(c.field, `${path}.field`), operator, scalar, text, extra: rest(c, ['field', 'operator', 'value']) };
}

function readServe(s: Json | undefined, path: string): Serve {
  if (s === undefined) return { kind: 'variant', variant: '' };
  if (typeof s === 'string') return { kind: 'variant', variant: s };
  if (!isObject(s) || !Array.isArray(s.split)) return refuse(path, 'neither a variant nor a split');
  const rows = s.split.map((r, k): SplitRow => {
    const at = `${path}.split[${k}]`;
    if (!isObject(r)) return refuse(at, 'not an object');
    const w = r.weight;
    if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > SPLIT_TOTAL) return refuse(`${at}.weight`, 'not a weight');
    return { variant: str(r.variant, `${at}.variant`), percent: percentText(w), extra: rest(r, ['variant', 'weight']) };
  });
  return { kind: 'split', rows, bucketBy: str(s.bucketBy, `${path}.bucketBy`), salt: str(s.salt, `${path}.salt`), extra: rest(s, ['split', 'bucketBy', 'salt']) };
}

/** A rule without its `serve`: a condition, or an `{"all": [...]}` group with the fields beside it. */
function readBody(r: JsonObject, path: string): RuleBody {
  if ('all' in r) {
    if (!Array.isArray(r.all)) return refuse(`${path}.all`, 'not a list');
    const all = r.all;
    return { grouped: true, conditions: all.map((c, k) => readCondition(c, `${path}.all[${k}]`)), extra: rest(r, ['all']) };
  }
  return { grouped: false, conditions: [readCondition(r, path)], extra: {} };
}

function readRule(r: Json, path: string, type: FlagType): Rule {
  if (!isObject(r)) return refuse(path, 'not an object');
  const serve = r.serve === undefined && type === 'boolean' ? ({ kind: 'variant', variant: 'on' } as Serve) : readServe(r.serve, `${path}.serve`);
  return { ...readBody(rest(r, ['serve']), path), serve };
}

/** A definition (the writable fields but description and enabled) as form state, or why the form cannot show it. */
export function fromJson(def: JsonObject): FormState | string {
  try {
    const type = (def.type ?? 'boolean') as FlagType;
    if (!TYPES.includes(type)) refuse('type', 'not a type the form knows');
    const extra = rest(def, KNOWN);
    let variants: VariantRow[] = [];
    let offVariant = '';
    if (type === 'boolean') {
      // Fixed ({"on": true, "off": false}, "off"): kept as given, not edited.
      if (def.variants !== undefined) extra.variants = def.variants;
      if (def.offVariant !== undefined) extra.offVariant = def.offVariant;
    } else {
      if (def.variants !== undefined && !isObject(def.variants)) refuse('variants', 'not an object');
      variants = Object.entries((def.variants as JsonObject | undefined) ?? {}).map(([name, value]) => ({ name, text: variantText(type, value, `variants.${name}`) }));
      offVariant = str(def.offVariant, 'offVariant');
    }
    const prereqs = def.prerequisites ?? [];
    if (!Array.isArray(prereqs)) return refuse('prerequisites', 'not a list');
    const prerequisites = prereqs.map((p, k): Prerequisite => {
      const at = `prerequisites[${k}]`;
      if (!isObject(p)) return refuse(at, 'not an object');
      const names = p.variants ?? [];
      if (!Array.isArray(names)) return refuse(`${at}.variants`, 'not a list');
      return { flag: str(p.flag, `${at}.flag`), variants: names.map((v, j) => str(v, `${at}.variants[${j}]`)), extra: rest(p, ['flag', 'variants']) };
    });
    const rules = def.rules ?? [];
    if (!Array.isArray(rules)) return refuse('rules', 'not a list');
    const rollout = def.rolloutPercentage;
    if (rollout !== undefined && typeof rollout !== 'number') refuse('rolloutPercentage', 'not a number');
    const mode = type === 'boolean' && def.fallthrough === undefined ? 'rollout' : 'serve';
    return {
      type,
      variants,
      offVariant,
      prerequisites,
      rules: rules.map((r, k) => readRule(r, `rules[${k}]`, type)),
      mode,
      rollout: String(rollout ?? 0),
      fallthrough: type === 'boolean' && def.fallthrough === undefined ? { kind: 'variant', variant: 'on' } : readServe(def.fallthrough, 'fallthrough'),
      extra,
    };
  } catch (err) {
    if (err instanceof Unshowable) return `The form cannot show ${err.message}`;
    throw err;
  }
}

// ---- writing it back ----

/** A number typed in the form, or null. */
export function parseNumber(text: string): number | null {
  if (text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

function variantValue(type: FlagType, text: string): Json {
  if (type === 'string') return text;
  if (type === 'number') return parseNumber(text) ?? text; // left as typed: the form says why
  try {
    return JSON.parse(text) as Json;
  } catch {
    return text;
  }
}

function scalarValue(scalar: ScalarType, text: string): Json {
  if (scalar === 'number') return parseNumber(text) ?? text;
  if (scalar === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

export function listItems(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

function writeCondition(c: Condition): JsonObject {
  if (c.kind === 'segment') return { [c.negate ? 'notSegment' : 'segment']: c.segment, ...c.extra };
  const out: JsonObject = { field: c.field, operator: c.operator };
  const kind = valueKind(c.operator);
  if (kind === 'list') out.value = listItems(c.text).map((t) => scalarValue(c.scalar, t));
  else if (kind === 'scalar') out.value = scalarValue(c.scalar, c.text);
  else if (kind === 'number') out.value = parseNumber(c.text) ?? c.text;
  else if (kind === 'exists') out.value = c.text !== 'false';
  else out.value = c.text;
  return { ...out, ...c.extra };
}

export function writeServe(s: Serve): Json {
  if (s.kind === 'variant') return s.variant;
  const out: JsonObject = {
    split: s.rows.map((r) => ({ variant: r.variant, weight: parsePercent(r.percent) ?? r.percent, ...r.extra })),
  };
  if (s.bucketBy !== '') out.bucketBy = s.bucketBy;
  if (s.salt !== '') out.salt = s.salt;
  return { ...out, ...s.extra };
}

function writeBody(r: RuleBody): JsonObject {
  return r.grouped || r.conditions.length !== 1 ? { all: r.conditions.map(writeCondition), ...r.extra } : writeCondition(r.conditions[0]!);
}

function writeRule(r: Rule, type: FlagType): JsonObject {
  const body = writeBody(r);
  // A boolean flag's rule serving "on" says nothing, as the origin writes it back.
  if (!(type === 'boolean' && r.serve.kind === 'variant' && r.serve.variant === 'on')) body.serve = writeServe(r.serve);
  return body;
}

/** The form state as a definition; values the form finds wrong are written as typed (validate() says why). */
export function toJson(f: FormState): JsonObject {
  const out: JsonObject = { type: f.type };
  if (f.type !== 'boolean') {
    const variants: JsonObject = {};
    for (const v of f.variants) variants[v.name] = variantValue(f.type, v.text);
    out.variants = variants;
    out.offVariant = f.offVariant;
  }
  out.prerequisites = f.prerequisites.map((p) => ({ flag: p.flag, variants: p.variants, ...p.extra }));
  out.rules = f.rules.map((r) => writeRule(r, f.type));
  if (f.type === 'boolean' && f.mode === 'rollout') {
    const n = parseNumber(f.rollout);
    out.rolloutPercentage = n ?? f.rollout;
  } else if (!(f.fallthrough.kind === 'variant' && f.fallthrough.variant === '')) {
    out.fallthrough = writeServe(f.fallthrough);
  }
  return { ...out, ...f.extra };
}

// ---- where each part is: the paths the server names ----

/** The path of a rule's condition: `rules[1]` for a lone one, `rules[1].all[0]` in a group. */
export function conditionPath(rule: RuleBody, ruleIndex: number, k: number): string {
  return rule.grouped || rule.conditions.length !== 1 ? `rules[${ruleIndex}].all[${k}]` : `rules[${ruleIndex}]`;
}

function servePaths(s: Serve, path: string): string[] {
  if (s.kind === 'variant') return [path];
  return [path, `${path}.split`, `${path}.bucketBy`, `${path}.salt`, ...s.rows.flatMap((_, k) => [`${path}.split[${k}].variant`, `${path}.split[${k}].weight`])];
}

/** Every path the form shows a message at. */
export function paths(f: FormState): string[] {
  const out = ['type', 'variants', 'offVariant', 'prerequisites', 'rules', 'rolloutPercentage', 'fallthrough'];
  for (const v of f.variants) out.push(`variants.${v.name}`);
  f.prerequisites.forEach((_, k) => out.push(`prerequisites[${k}]`, `prerequisites[${k}].flag`, `prerequisites[${k}].variants`));
  f.rules.forEach((r, i) => out.push(...bodyPaths(r, i), ...servePaths(r.serve, `rules[${i}].serve`)));
  if (!(f.type === 'boolean' && f.mode === 'rollout')) out.push(...servePaths(f.fallthrough, 'fallthrough'));
  return out;
}

/** The paths of rule `i`'s conditions. */
function bodyPaths(r: RuleBody, i: number): string[] {
  const out = [`rules[${i}]`, `rules[${i}].all`];
  r.conditions.forEach((c, k) => {
    const at = conditionPath(r, i, k);
    out.push(at);
    if (c.kind === 'segment') out.push(`${at}.${c.negate ? 'notSegment' : 'segment'}`);
    else out.push(`${at}.field`, `${at}.operator`, `${at}.value`);
  });
  return out;
}

/** Where a server message naming `field` goes: the longest path of the form it lies under, or null (the top of the form). */
export function placeError(field: string | null, known: readonly string[]): string | null {
  if (field === null) return null;
  let best: string | null = null;
  for (const p of known) {
    const under = field === p || field.startsWith(`${p}.`) || field.startsWith(`${p}[`);
    if (under && (best === null || p.length > best.length)) best = p;
  }
  return best;
}

// ---- what the form checks before anything is sent ----

function checkServe(s: Serve, path: string, names: readonly string[] | null, out: Map<string, string>) {
  if (s.kind === 'variant') return;
  s.rows.forEach((r, k) => {
    if (parsePercent(r.percent) === null) out.set(`${path}.split[${k}].weight`, 'a percentage from 0 to 100, at most 3 decimals (33.333)');
    if (names && r.variant !== '' && !names.includes(r.variant)) out.set(`${path}.split[${k}].variant`, `no variant named "${r.variant}"`);
  });
  const sum = splitSum(s.rows);
  if (sum !== null && sum !== SPLIT_TOTAL) out.set(`${path}.split`, `weights sum to ${percentText(sum)} % — they must sum to 100 %`);
}

/** The values of rule `i`'s conditions that their operator cannot take. */
function checkBody(r: RuleBody, i: number, out: Map<string, string>) {
  r.conditions.forEach((c, k) => {
    if (c.kind !== 'field') return;
    const at = `${conditionPath(r, i, k)}.value`;
    const kind = valueKind(c.operator);
    const numbers = kind === 'number' || ((kind === 'scalar' || kind === 'list') && c.scalar === 'number');
    const items = kind === 'list' ? listItems(c.text) : [c.text];
    if (numbers && items.some((t) => parseNumber(t) === null)) out.set(at, kind === 'list' ? 'every line must be a number' : 'must be a number');
    const booleans = (kind === 'scalar' || kind === 'list') && c.scalar === 'boolean';
    if (booleans && items.some((t) => t !== 'true' && t !== 'false')) out.set(at, kind === 'list' ? 'every line must be true or false' : 'must be true or false');
  });
}

/** The form's own messages by path; Save waits until there are none. */
export function validate(f: FormState): Map<string, string> {
  const out = new Map<string, string>();
  const seen = new Set<string>();
  for (const v of f.variants) {
    const at = `variants.${v.name}`;
    if (seen.has(v.name)) out.set(at, `two variants are named "${v.name}"`);
    seen.add(v.name);
    if (f.type === 'number' && parseNumber(v.text) === null) out.set(at, 'must be a finite number');
    if (f.type === 'object') {
      try {
        const parsed = JSON.parse(v.text) as Json;
        if (!isObject(parsed)) out.set(at, 'must be a JSON object');
      } catch (err) {
        out.set(at, `not JSON: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  const names = f.type === 'boolean' ? ['on', 'off'] : f.variants.map((v) => v.name);
  f.rules.forEach((r, i) => {
    checkBody(r, i, out);
    checkServe(r.serve, `rules[${i}].serve`, names, out);
  });
  if (f.type === 'boolean' && f.mode === 'rollout') {
    const n = parseNumber(f.rollout);
    if (n === null || !Number.isInteger(n) || n < 0 || n > 100) out.set('rolloutPercentage', 'a whole number from 0 to 100');
  } else {
    checkServe(f.fallthrough, 'fallthrough', names, out);
  }
  return out;
}

// ---- edits that touch several parts ----

/** Renames a variant and every reference to it in this flag (offVariant, serves). */
export function renameVariant(f: FormState, index: number, name: string): FormState {
  const old = f.variants[index]?.name;
  const swap = (v: string) => (v === old ? name : v);
  const serve = (s: Serve): Serve =>
    s.kind === 'variant' ? { kind: 'variant', variant: swap(s.variant) } : { ...s, rows: s.rows.map((r) => ({ ...r, variant: swap(r.variant) })) };
  return {
    ...f,
    variants: f.variants.map((v, k) => (k === index ? { ...v, name } : v)),
    offVariant: swap(f.offVariant),
    rules: f.rules.map((r) => ({ ...r, serve: serve(r.serve) })),
    fallthrough: serve(f.fallthrough),
  };
}

const DEFAULT_VARIANTS: Record<Exclude<FlagType, 'boolean'>, VariantRow[]> = {
  string: [{ name: 'control', text: 'control' }, { name: 'treatment', text: 'treatment' }],
  number: [{ name: 'low', text: '0' }, { name: 'high', text: '1' }],
  object: [{ name: 'standard', text: '{}' }, { name: 'tuned', text: '{}' }],
};

/** Another type: its own variants (a boolean flag's are fixed), rules' serves kept as they are. */
export function changeType(f: FormState, type: FlagType): FormState {
  if (type === f.type) return f;
  const extra = rest(f.extra, ['variants', 'offVariant']);
  if (type === 'boolean') return { ...f, type, variants: [], offVariant: '', mode: 'rollout', rollout: '0', fallthrough: { kind: 'variant', variant: 'on' }, extra };
  const variants = DEFAULT_VARIANTS[type];
  return { ...f, type, variants, offVariant: variants[0]!.name, mode: 'serve', fallthrough: { kind: 'variant', variant: variants[0]!.name }, extra };
}

export function move<T>(list: readonly T[], from: number, to: number): T[] {
  const out = list.slice();
  const [item] = out.splice(from, 1);
  out.splice(to, 0, item!);
  return out;
}

// ---- a segment's rules: the same conditions and groups, without serve or segment conditions ----

/** A segment's `rules` as form state, or why the form cannot show them. */
export function segmentRulesFromJson(rules: Json | undefined): RuleBody[] | string {
  try {
    const list = rules ?? [];
    if (!Array.isArray(list)) return refuse('rules', 'not a list');
    return list.map((r, i) => {
      const path = `rules[${i}]`;
      if (!isObject(r)) return refuse(path, 'not an object');
      const body = readBody(r, path);
      body.conditions.forEach((c, k) => {
        if (c.kind === 'segment') refuse(conditionPath(body, i, k), "a segment condition (a segment's rules cannot name segments)");
      });
      return body;
    });
  } catch (err) {
    if (err instanceof Unshowable) return `The form cannot show ${err.message}`;
    throw err;
  }
}

/** A segment's rules written back; values the form finds wrong are written as typed. */
export function segmentRulesToJson(rules: readonly RuleBody[]): JsonObject[] {
  return rules.map(writeBody);
}

/** Every path a segment's rules form shows a message at. */
export function segmentRulePaths(rules: readonly RuleBody[]): string[] {
  return ['rules', ...rules.flatMap((r, i) => bodyPaths(r, i))];
}

/** The segment rules form's own messages by path. */
export function validateSegmentRules(rules: readonly RuleBody[]): Map<string, string> {
  const out = new Map<string, string>();
  rules.forEach((r, i) => checkBody(r, i, out));
  return out;
}
