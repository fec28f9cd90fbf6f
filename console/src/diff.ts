// A line diff of two JSON documents (pretty-printed, keys as the server ordered them): the longest
// common subsequence of their lines, with long unchanged runs folded.
import type { Json } from './api';

export type DiffLine = { kind: 'same' | 'added' | 'removed'; text: string } | { kind: 'fold'; count: number };

function lines(value: Json | undefined): string[] {
  return value === undefined || value === null ? [] : JSON.stringify(value, null, 2).split('\n');
}

export function diffJson(before: Json | undefined, after: Json | undefined, context = 2): DiffLine[] {
  const a = lines(before);
  const b = lines(after);
  // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--) {
    const row = lcs[i]!;
    const below = lcs[i + 1]!;
    for (let j = b.length - 1; j >= 0; j--) {
      row[j] = a[i] === b[j] ? below[j + 1]! + 1 : Math.max(below[j]!, row[j + 1]!);
    }
  }
  const out: { kind: 'same' | 'added' | 'removed'; text: string }[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push({ kind: 'same', text: a[i]! });
      i++;
      j++;
    } else if (i < a.length && (j === b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      // What was removed is listed before what replaced it.
      out.push({ kind: 'removed', text: a[i]! });
      i++;
    } else {
      out.push({ kind: 'added', text: b[j]! });
      j++;
    }
  }
  // Fold the unchanged lines further than `context` from any change.
  const near = out.map((_, k) =>
    out.slice(Math.max(0, k - context), k + context + 1).some((l) => l.kind !== 'same'),
  );
  const folded: DiffLine[] = [];
  for (let k = 0; k < out.length; k++) {
    if (near[k]) {
      folded.push(out[k]!);
      continue;
    }
    const last = folded[folded.length - 1];
    if (last?.kind === 'fold') last.count++;
    else folded.push({ kind: 'fold', count: 1 });
  }
  return folded;
}
