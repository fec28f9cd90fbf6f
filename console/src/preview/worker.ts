// The impact preview's worker: decides the saved and the edited flag for every user of the sample
// with @pennon/evaluator, off the page's main thread, so typing in the editor never waits for it.
// The page sends the environment's snapshot and the users once ('load'), then one 'run' per edit
// (debounced on its side). The saved flag's variants are computed once per 'load', with those of
// every flag that needs it through prerequisites (transitively); a run compiles the snapshot with
// the edited flag in place of the saved one and decides that flag and those dependents again.
//
// The evaluator is imported dynamically: its entry awaits the wasm at the top level, and a module
// worker whose static imports are still settling drops the messages that arrive meanwhile. So the
// handler is set at once, and each message waits for the evaluator, in the order they came.
import type { Evaluator as EvaluatorType, FlagData, SnapshotData, User } from '@pennon/evaluator';
import { compare, dependentsOf } from './impact';
import type { Reply, Request } from './protocol';

interface Loaded {
  snapshot: SnapshotData;
  key: string;
  ids: string[];
  users: User[];
  saved: (string | null)[];
  firstRefusal: string | null;
  /** The flags that need `key` (transitively), with each user's saved variant of them. */
  dependents: { key: string; needs: string[]; saved: (string | null)[]; firstRefusal: string | null }[];
}

let loaded: Loaded | null = null;
const evaluatorModule = import('@pennon/evaluator');
let queue: Promise<void> = Promise.resolve();

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(reply: Reply): void;
};

/** Each user's variant of `key` (null when the evaluator refuses the user), and the first refusal. */
function decide(evaluator: EvaluatorType, key: string, users: readonly User[]): { variants: (string | null)[]; firstRefusal: string | null } {
  const variants: (string | null)[] = new Array<string | null>(users.length);
  let firstRefusal: string | null = null;
  for (let i = 0; i < users.length; i++) {
    const user = users[i] as User;
    try {
      variants[i] = evaluator.evaluateFlag(key, user).variant;
    } catch (err) {
      variants[i] = null;
      firstRefusal ??= `user ${JSON.stringify(user.id)}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
  return { variants, firstRefusal };
}

/** The snapshot with `edited` in place of the flag of the same key; exactly one must be replaced. */
export function withEdited(snapshot: SnapshotData, edited: FlagData): SnapshotData {
  let replaced = 0;
  const flags = snapshot.flags.map((f) => {
    if (f.key !== edited.key) return f;
    replaced++;
    return edited;
  });
  if (replaced !== 1) throw new Error(`the snapshot of ${snapshot.environment ?? 'the environment'} has no flag ${edited.key}: reload the page`);
  return { ...snapshot, flags };
}

function handle(Evaluator: typeof EvaluatorType, msg: Request): Reply {
  if (msg.kind === 'load') {
    const evaluator = new Evaluator(msg.snapshot);
    try {
      const { variants, firstRefusal } = decide(evaluator, msg.key, msg.users);
      const dependents = dependentsOf(msg.snapshot.flags, msg.key).map((d) => {
        const saved = decide(evaluator, d.key, msg.users);
        return { ...d, saved: saved.variants, firstRefusal: saved.firstRefusal };
      });
      loaded = { snapshot: msg.snapshot, key: msg.key, users: msg.users, ids: msg.users.map((u) => u.id), saved: variants, firstRefusal, dependents };
    } finally {
      evaluator.free();
    }
    return { kind: 'loaded', seq: msg.seq };
  }
  if (!loaded) throw new Error('no users loaded');
  const start = performance.now();
  const evaluator = new Evaluator(withEdited(loaded.snapshot, msg.edited));
  try {
    const { variants, firstRefusal } = decide(evaluator, loaded.key, loaded.users);
    const ms = performance.now() - start;
    const ids = loaded.ids;
    const dependents = loaded.dependents.map((d) => {
      const edited = decide(evaluator, d.key, loaded!.users);
      return { key: d.key, needs: d.needs, impact: compare(ids, d.saved, edited.variants, d.firstRefusal ?? edited.firstRefusal, 0) };
    });
    return {
      kind: 'impact',
      seq: msg.seq,
      impact: compare(ids, loaded.saved, variants, loaded.firstRefusal ?? firstRefusal, ms),
      dependents,
    };
  } finally {
    evaluator.free();
  }
}

scope.onmessage = (e) => {
  queue = queue.then(async () => {
    let reply: Reply;
    try {
      reply = handle((await evaluatorModule).Evaluator, e.data);
    } catch (err) {
      reply = { kind: 'error', seq: e.data.seq, message: err instanceof Error ? err.message : String(err) };
    }
    scope.postMessage(reply);
  });
};
