// What the segment screens compute: which flags name a segment, and an include list read from
// pasted text.
import type { Flag, Json } from './api';

/** True when `value` holds a `{"segment": key}` or `{"notSegment": key}` condition, at any depth
 * (a rule, or a condition of an `{"all": [...]}` group). */
function names(value: Json | undefined, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => names(v, key));
  if (value === null || typeof value !== 'object') return false;
  if (value.segment === key || value.notSegment === key) return true;
  return Object.values(value).some((v) => names(v, key));
}

/** The flags (of one environment's list) whose rules name the segment `key`, sorted by key. */
export function flagsUsing(flags: readonly Flag[], key: string): Flag[] {
  return flags.filter((f) => names(f.rules, key)).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Which rules of a flag (1-based) name the segment `key`, as a rule or inside its group. */
export function rulesNaming(rules: unknown, key: string): number[] {
  if (!Array.isArray(rules)) return [];
  const out: number[] = [];
  (rules as Json[]).forEach((rule, i) => {
    if (names(rule, key)) out.push(i + 1);
  });
  return out;
}

/** `rule 2`, `rules 1 and 3`, `rules 1, 2 and 4`. */
export function ruleNumbers(numbers: readonly number[]): string {
  if (numbers.length === 1) return `rule ${numbers[0]}`;
  return `rules ${numbers.slice(0, -1).join(', ')} and ${numbers[numbers.length - 1]}`;
}

export interface PastedIds {
  /** The distinct non-empty ids, trimmed, in the order they first appear. */
  ids: string[];
  /** Ids given again after their first appearance. */
  duplicates: number;
  /** Empty entries: blank lines, `,,`, a trailing comma. */
  blanks: number;
}

/** Reads ids one per line or separated by commas (or both), trimming each. */
export function parseIds(text: string): PastedIds {
  const seen = new Set<string>();
  let duplicates = 0;
  let blanks = 0;
  const parts = text.split(/[\n,]/);
  // A text that ends with a newline (as pasted lists do) has no blank entry at its end.
  if (parts.length > 1 && parts[parts.length - 1]!.trim() === '' && /\n\s*$/.test(text)) parts.pop();
  if (text.trim() === '') return { ids: [], duplicates: 0, blanks: 0 };
  for (const part of parts) {
    const id = part.trim();
    if (id === '') blanks++;
    else if (seen.has(id)) duplicates++;
    else seen.add(id);
  }
  return { ids: [...seen], duplicates, blanks };
}

/** What saving `next` in place of `saved` does to the include list. */
export function includeChange(saved: readonly string[], next: readonly string[]): { added: string[]; removed: string[] } {
  const before = new Set(saved);
  const after = new Set(next);
  return { added: next.filter((id) => !before.has(id)), removed: saved.filter((id) => !after.has(id)) };
}

/** `1 id`, `3 ids`. */
export function ids(n: number): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? 'id' : 'ids'}`;
}

export interface FileIds {
  /** The distinct non-empty ids, trimmed, in the order they first appear. */
  ids: string[];
  /** Ids given again after their first appearance. */
  duplicates: number;
  /** Lines with no id (empty, spaces only, or an empty first column). */
  blanks: number;
}

/**
 * Reads an uploaded file of ids: one per line, or CSV whose first column is the id (the rest of
 * the line is ignored; a first column in double quotes may hold commas, `""` is a quote). Each id
 * is trimmed; empty lines are skipped and repeated ids dropped, the order of first appearance kept.
 * Throws on an id holding a comma: the include list's text box would read it as two ids.
 */
export function parseIdFile(text: string): FileIds {
  const seen = new Set<string>();
  let duplicates = 0;
  let blanks = 0;
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n|\r/);
  // A file that ends with a newline has no blank line after it.
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  for (const [n, line] of lines.entries()) {
    const id = firstColumn(line).trim();
    if (id.includes(',')) throw new Error(`line ${n + 1}: the id ${JSON.stringify(id)} holds a comma, which the include list cannot keep (commas separate ids)`);
    if (id === '') blanks++;
    else if (seen.has(id)) duplicates++;
    else seen.add(id);
  }
  return { ids: [...seen], duplicates, blanks };
}

function firstColumn(line: string): string {
  const start = line.trimStart();
  if (!start.startsWith('"')) {
    const comma = line.indexOf(',');
    return comma === -1 ? line : line.slice(0, comma);
  }
  let out = '';
  for (let i = 1; i < start.length; i++) {
    const c = start[i];
    if (c === '"') {
      if (start[i + 1] === '"') {
        out += '"';
        i++;
      } else return out;
    } else out += c;
  }
  return out;
}

/** The ids of `list` that hold `query` (case-insensitive), the first `limit` of them, and how many. */
export function searchIds(list: readonly string[], query: string, limit: number): { shown: string[]; matches: number } {
  const q = query.trim().toLowerCase();
  if (q === '') return { shown: [], matches: 0 };
  const shown: string[] = [];
  let matches = 0;
  for (const id of list) {
    if (!id.toLowerCase().includes(q)) continue;
    matches++;
    if (shown.length < limit) shown.push(id);
  }
  return { shown, matches };
}
