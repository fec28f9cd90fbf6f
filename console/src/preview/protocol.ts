// The messages between the page and the impact preview's worker (worker.ts).
import type { FlagData, SegmentData, SnapshotData, User } from '@pennon/evaluator';
import type { Dependent, Impact } from './impact';

/** What is edited: one flag, or one segment (whose effect is on the flags that name it). */
export type Subject = { kind: 'flag'; key: string } | { kind: 'segment'; key: string };

/** The edited flag or segment, put in the snapshot in place of the saved one of the same key. */
export type SnapshotEdit = { kind: 'flag'; flag: FlagData } | { kind: 'segment'; segment: SegmentData };

export type Request =
  /** The environment's snapshot (the saved flags and segments) and the users; the saved variants are computed now. */
  | { kind: 'load'; seq: number; snapshot: SnapshotData; subject: Subject; users: User[] }
  /** The edit, decided for every loaded user in the snapshot with it in place of the saved flag or segment. */
  | { kind: 'run'; seq: number; edit: SnapshotEdit };

export type Reply =
  | { kind: 'loaded'; seq: number }
  /**
   * The edited flag's impact (null for a segment), and that of every flag the edit reaches: for a
   * flag, those that need it (transitively), nearest first; for a segment, the flags that name it,
   * then those that need them. `ms`: the whole run.
   */
  | { kind: 'impact'; seq: number; impact: Impact | null; dependents: Dependent[]; ms: number }
  /** The evaluator's message: a snapshot or an edit it refuses. */
  | { kind: 'error'; seq: number; message: string };
