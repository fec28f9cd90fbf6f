// The impact preview's worker: decides the saved and the edited flag (or the flags that name an
// edited segment) for every user of the sample with @pennon/evaluator, off the page's main thread,
// so typing in the editor never waits for it. The page sends the environment's snapshot, what is
// edited and the users once ('load'), then one 'run' per edit (debounced on its side). An edit is a
// snapshot edit: a flag or a segment in place of the saved one of its key. The saved variants are
// computed once per 'load': the edited flag's and those of every flag that needs it through
// prerequisites (transitively), or for a segment those of the flags that name it and of the flags
// that need those; a run compiles the snapshot with the edit and decides the same flags again.
//
// The evaluator is imported dynamically: its entry awaits the wasm at the top level, and a module
// worker whose static imports are still settling drops the messages that arrive meanwhile. So the
// handler is set at once, and each message waits for the evaluator, in the order they came.
import type { Evaluator as EvaluatorType, SnapshotData, User } from '@pennon/evaluator';
import { compare, reachedBy } from './impact';
import type { Reply, Request, SnapshotEdit, Subject } from './protocol';

/** A flag decided for every user: its saved variants (null: the user was refused) and the first refusal. */
interface Tracked {
  key: string;
  needs: string[];
  rules: number[];
  saved: (string | null)[];
  firstRefusal: string | null;
}

interface Loaded {
  snapshot: SnapshotData;
  subject: Subject;
  ids: string[];
  users: User[];
  /** The edited flag (none for a segment edit). */
  main: Tracked | null;
  /** The other flags the edit reaches. */
  reached: Tracked[];
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

/** The snapshot with the edited flag or segment in place of the one of the same key; exactly one must be replaced. */
export function withEdited(snapshot: SnapshotData, edit: SnapshotEdit): SnapshotData {
  let replaced = 0;
  const swap = <T extends { key: string }>(list: readonly T[], edited: T): T[] =>
    list.map((item) => {
      if (item.key !== edited.key) return item;
      replaced++;
      return edited;
    });
  const env = snapshot.environment ?? 'the environment';
  if (edit.kind === 'flag') {
    const flags = swap(snapshot.flags, edit.flag);
    if (replaced !== 1) throw new Error(`the snapshot of ${env} has no flag ${edit.flag.key}: reload the page`);
    return { ...snapshot, flags };
  }
  const segments = swap(snapshot.segments ?? [], edit.segment);
  if (replaced !== 1) throw new Error(`the snapshot of ${env} has no segment ${edit.segment.key}: reload the page`);
  return { ...snapshot, segments };
}

function handle(Evaluator: typeof EvaluatorType, msg: Request): Reply {
  if (msg.kind === 'load') {
    const evaluator = new Evaluator(msg.snapshot);
    try {
      const track = (d: { key: string; needs: string[]; rules: number[] }): Tracked => {
        const saved = decide(evaluator, d.key, msg.users);
        return { ...d, saved: saved.variants, firstRefusal: saved.firstRefusal };
      };
      const main = msg.subject.kind === 'flag' ? track({ key: msg.subject.key, needs: [], rules: [] }) : null;
      const reached = reachedBy(msg.snapshot.flags, msg.subject).map(track);
      loaded = { snapshot: msg.snapshot, subject: msg.subject, users: msg.users, ids: msg.users.map((u) => u.id), main, reached };
    } finally {
      evaluator.free();
    }
    return { kind: 'loaded', seq: msg.seq };
  }
  if (!loaded) throw new Error('no users loaded');
  if (msg.edit.kind !== loaded.subject.kind) throw new Error(`a ${msg.edit.kind} edit, but the users were loaded for a ${loaded.subject.kind}`);
  const { ids, users } = loaded;
  const start = performance.now();
  const evaluator = new Evaluator(withEdited(loaded.snapshot, msg.edit));
  try {
    let impact = null;
    if (loaded.main) {
      const { variants, firstRefusal } = decide(evaluator, loaded.main.key, users);
      // The edited flag's time alone (compiling and deciding it), as the page shows it.
      impact = compare(ids, loaded.main.saved, variants, loaded.main.firstRefusal ?? firstRefusal, performance.now() - start);
    }
    const dependents = loaded.reached.map((d) => {
      const edited = decide(evaluator, d.key, users);
      return { key: d.key, needs: d.needs, rules: d.rules, impact: compare(ids, d.saved, edited.variants, d.firstRefusal ?? edited.firstRefusal, 0) };
    });
    return { kind: 'impact', seq: msg.seq, impact, dependents, ms: performance.now() - start };
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
