// Which flags a new snapshot changes, without I/O: a flag added, removed or edited; a flag whose
// rules name a segment that was added, removed or edited; and, transitively, a flag with a
// prerequisite on any of those (its answers may change with theirs).

const byKey = (items) => new Map((items ?? []).map((item) => [item.key, JSON.stringify(item)]));

function differing(before, after) {
  const keys = new Set();
  for (const [key, json] of after) if (before.get(key) !== json) keys.add(key);
  for (const key of before.keys()) if (!after.has(key)) keys.add(key);
  return keys;
}

/** The segment keys a flag's rules name, at any depth (`segment`, `notSegment`, inside `all`). */
function segmentsOf(flag) {
  const found = new Set();
  const walk = (node) => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (node === null || typeof node !== 'object') return;
    if (typeof node.segment === 'string') found.add(node.segment);
    if (typeof node.notSegment === 'string') found.add(node.notSegment);
    if (Array.isArray(node.all)) node.all.forEach(walk);
  };
  walk(flag.rules);
  return found;
}

/** The keys of the flags whose answers may differ between snapshot `before` and `after`, sorted. */
export function changedFlags(before, after) {
  const changed = differing(byKey(before?.flags), byKey(after.flags));
  const segments = differing(byKey(before?.segments), byKey(after.segments));
  const flags = after.flags ?? [];
  if (segments.size > 0) {
    for (const flag of flags) {
      for (const segment of segmentsOf(flag)) if (segments.has(segment)) changed.add(flag.key);
    }
  }
  for (let grew = true; grew; ) {
    grew = false;
    for (const flag of flags) {
      if (changed.has(flag.key)) continue;
      if ((flag.prerequisites ?? []).some((p) => changed.has(p.flag))) {
        changed.add(flag.key);
        grew = true;
      }
    }
  }
  return [...changed].sort();
}
