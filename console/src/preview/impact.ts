// What an edit changes for a set of users: given the variant each user gets from the saved flag
// and from the edited one, the users who change, grouped by transition (from → to), with a count
// and a few example ids each. Pure, so the worker and the tests share it.
import { rulesNaming } from '../segments';
import type { Subject } from './protocol';

/** How many example ids a transition keeps. */
export const EXAMPLES = 5;

export interface Transition {
  from: string;
  to: string;
  count: number;
  examples: string[];
}

export interface Impact {
  /** Users decided (those the evaluator refused are in `refused`). */
  total: number;
  changed: number;
  /** Largest count first, then by from and to. */
  transitions: Transition[];
  /** Users per variant, saved and edited. */
  before: Record<string, number>;
  after: Record<string, number>;
  refused: number;
  /** The evaluator's message for the first refused user, with its id. */
  firstRefusal: string | null;
  /** Milliseconds spent deciding the edited flag for every user (the saved one is cached). */
  ms: number;
}

/**
 * A flag the edit reaches and its impact: one that takes the edited flag as a prerequisite,
 * directly or through others; for a segment edit, also one whose rules name the segment.
 */
export interface Dependent {
  key: string;
  /** Its prerequisites that are the edited flag or another dependent (what it needs in the chain). */
  needs: string[];
  /** Its rules (1-based) that name the edited segment; empty when it is reached by prerequisites. */
  rules: number[];
  impact: Impact;
}

type Flagish = { key: string; prerequisites?: readonly { flag: string }[]; rules?: unknown };

/** The flags of `flags` that need `keys` through prerequisites, transitively: nearest first, then by key. */
export function dependentsOf(flags: readonly Flagish[], keys: string | readonly string[]): { key: string; needs: string[] }[] {
  const order: string[] = [];
  const chain = new Set(typeof keys === 'string' ? [keys] : keys);
  let frontier = new Set(chain);
  while (frontier.size > 0) {
    const level = flags
      .filter((f) => !chain.has(f.key) && (f.prerequisites ?? []).some((p) => frontier.has(p.flag)))
      .map((f) => f.key)
      .sort();
    frontier = new Set(level);
    for (const k of level) chain.add(k);
    order.push(...level);
  }
  return order.map((k) => ({
    key: k,
    needs: [...new Set((flags.find((f) => f.key === k)?.prerequisites ?? []).map((p) => p.flag).filter((p) => chain.has(p)))],
  }));
}

/**
 * The flags an edit of `subject` can change, besides an edited flag itself: a flag's dependents;
 * a segment's users (the flags whose rules name it, by key, with those rules), then their dependents.
 */
export function reachedBy(flags: readonly Flagish[], subject: Subject): { key: string; needs: string[]; rules: number[] }[] {
  if (subject.kind === 'flag') return dependentsOf(flags, subject.key).map((d) => ({ ...d, rules: [] }));
  const direct = flags
    .map((f) => ({ key: f.key, needs: [] as string[], rules: rulesNaming(f.rules, subject.key) }))
    .filter((f) => f.rules.length > 0)
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return [...direct, ...dependentsOf(flags, direct.map((d) => d.key)).map((d) => ({ ...d, rules: [] }))];
}

/** `null` in either list marks a user the evaluator refused (`refusals` says why). */
export function compare(
  ids: readonly string[],
  saved: readonly (string | null)[],
  edited: readonly (string | null)[],
  firstRefusal: string | null,
  ms: number,
): Impact {
  const byPair = new Map<string, Transition>();
  const before: Record<string, number> = {};
  const after: Record<string, number> = {};
  let total = 0;
  let changed = 0;
  let refused = 0;
  for (let i = 0; i < ids.length; i++) {
    const from = saved[i];
    const to = edited[i];
    if (from == null || to == null) {
      refused++;
      continue;
    }
    total++;
    before[from] = (before[from] ?? 0) + 1;
    after[to] = (after[to] ?? 0) + 1;
    if (from === to) continue;
    changed++;
    const pair = `${from}\u0000${to}`;
    let t = byPair.get(pair);
    if (!t) {
      t = { from, to, count: 0, examples: [] };
      byPair.set(pair, t);
    }
    t.count++;
    if (t.examples.length < EXAMPLES) t.examples.push(ids[i] ?? '');
  }
  const transitions = [...byPair.values()].sort(
    (a, b) => b.count - a.count || a.from.localeCompare(b.from) || a.to.localeCompare(b.to),
  );
  return { total, changed, transitions, before, after, refused, firstRefusal, ms };
}

/**
 * The headline: "312 of 10,000 sampled users flip from off to on; 0 flip the other way" when the
 * changes are between two variants, else "… change variant".
 */
export function headline(impact: Impact, count: (n: number) => string): string {
  const of = `${count(impact.changed)} of ${count(impact.total)} sampled users`;
  const [first, second] = impact.transitions;
  if (!first) return `${of} change variant: the edit serves every one of them what they get now.`;
  const pair = impact.transitions.every(
    (t) => (t.from === first.from && t.to === first.to) || (t.from === first.to && t.to === first.from),
  );
  if (pair) {
    const back = second?.count ?? 0;
    return `${of} flip from ${first.from} to ${first.to}; ${count(back)} flip the other way.`;
  }
  return `${of} change variant, in ${impact.transitions.length} ways.`;
}

/**
 * One flag's line in the preview of a segment edit: every transition with its count, e.g.
 * "12 of 166 sampled users change variant: 9 off → on, 3 on → off".
 */
export function changesLine(impact: Impact, count: (n: number) => string): string {
  const of = `${count(impact.changed)} of ${count(impact.total)} sampled users change variant`;
  if (impact.transitions.length === 0) return `${of}.`;
  return `${of}: ${impact.transitions.map((t) => `${count(t.count)} ${t.from} → ${t.to}`).join(', ')}.`;
}
