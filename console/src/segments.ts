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
