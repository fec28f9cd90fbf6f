// The messages between the page and the impact preview's worker (worker.ts).
import type { FlagData, SnapshotData, User } from '@pennon/evaluator';
import type { Dependent, Impact } from './impact';

export type Request =
  /** The environment's snapshot (the saved flags) and the users; the saved variants are computed now. */
  | { kind: 'load'; seq: number; snapshot: SnapshotData; key: string; users: User[] }
  /** The edited flag, decided for every loaded user in the snapshot with it in place of the saved one. */
  | { kind: 'run'; seq: number; edited: FlagData };

export type Reply =
  | { kind: 'loaded'; seq: number }
  /** The edited flag's impact, and that of every flag that needs it (transitively), nearest first. */
  | { kind: 'impact'; seq: number; impact: Impact; dependents: Dependent[] }
  /** The evaluator's message: a snapshot or an edited flag it refuses. */
  | { kind: 'error'; seq: number; message: string };
