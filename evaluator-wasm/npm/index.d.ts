// Types of @pennon/evaluator, written by hand from Pennon's contract (flag model and
// evaluation). They describe what the evaluator accepts; it still checks every value at run time
// and throws an Error naming the field when one breaks the contract.

/** The environments a flag can live in. */
export type Environment = 'dev' | 'staging' | 'prod';

/** A value a condition compares with. */
export type Scalar = string | number | boolean;

/** A user field: `id`, `email`, `country`, or `attributes.<path>` (dot-separated, non-empty keys). */
export type Field = 'id' | 'email' | 'country' | `attributes.${string}`;

/** `eq`/`neq`: same JSON type and equal (numbers by value, strings case-sensitive). */
export interface EqualityCondition {
  field: Field;
  operator: 'eq' | 'neq';
  value: Scalar;
}

/** `in`/`not_in`: equal to one of a non-empty list. */
export interface MembershipCondition {
  field: Field;
  operator: 'in' | 'not_in';
  value: readonly [Scalar, ...Scalar[]];
}

/** `starts_with`/`ends_with`: the field is a string with that prefix / suffix. */
export interface AffixCondition {
  field: Field;
  operator: 'starts_with' | 'ends_with';
  value: string;
}

export type Condition = EqualityCondition | MembershipCondition | AffixCondition;

/** Matches when every condition matches (1 to 20 conditions, no deeper nesting). */
export interface ConditionGroup {
  all: readonly Condition[];
}

/** Rules are alternatives: the first that matches enables the flag. */
export type Rule = Condition | ConditionGroup;

/** A flag as the origin's admin API and snapshot return it; only `key` is needed to evaluate. */
export interface Flag {
  /** UUID assigned by the origin; not needed to evaluate. */
  id?: string;
  /** 1 to 128 characters of `[A-Za-z0-9_.-]`. */
  key: string;
  environment?: Environment;
  description?: string;
  /** The kill switch: `false` overrides everything. Default `false`. */
  enabled?: boolean;
  /** Integer from 0 to 100. Default 0. */
  rolloutPercentage?: number;
  /** At most 100, checked in order. Default none. */
  rules?: readonly Rule[];
  version?: number;
  createdAt?: string;
  updatedAt?: string;
}

/** A JSON value held in a user's attributes. */
export type AttributeValue =
  | string
  | number
  | boolean
  | null
  | readonly AttributeValue[]
  | { readonly [key: string]: AttributeValue };

/** The user a flag is decided for, as in the body of `POST /api/evaluate`. */
export interface User {
  /** Non-empty; also what the rollout bucket hashes. */
  id: string;
  email?: string | null;
  country?: string | null;
  attributes?: { readonly [key: string]: AttributeValue };
}

/** Why a flag is on or off. */
export type Reason = 'FLAG_DISABLED' | 'RULE_MATCH' | 'ROLLOUT' | 'NO_MATCH' | 'FLAG_NOT_FOUND';

/** One answer, the same object as in the HTTP API's `results`. */
export interface Result {
  flagKey: string;
  enabled: boolean;
  reason: Reason;
}

/** The snapshot of one environment, as `GET /api/flags/snapshot` returns it. */
export interface Snapshot {
  environment: Environment;
  /** Non-negative integer that grows with every write to the environment. */
  revision: number;
  flags: readonly Flag[];
}

/**
 * A flag as JSON data whose types TypeScript only knows loosely: a JSON import types `operator` or
 * `environment` as plain `string`. Checked at run time like everything else.
 */
export type FlagData = { readonly key: string; readonly [field: string]: unknown };

/** A snapshot as JSON data (a JSON import of the origin's snapshot); checked at run time. */
export interface SnapshotData {
  environment: string;
  revision: number;
  flags: readonly FlagData[];
}

/** Evaluates one flag for one user. Throws an Error naming the field on bad input. */
export function evaluate(flag: Flag, user: User): Result;

/** Evaluates every flag of a list for one user, sorted by flagKey. Duplicate keys throw. */
export function evaluateAll(flags: readonly Flag[], user: User): Result[];

/** A flag set compiled once in wasm memory; evaluating a user is then one call. */
export class Evaluator {
  /**
   * Compiles a list of flags or a snapshot, typed (`Flag`, `Snapshot`) or as JSON data (a JSON import:
   * `FlagData`, `SnapshotData`). Throws an Error naming the field on bad input.
   */
  constructor(flagsOrSnapshot: readonly Flag[] | Snapshot | readonly FlagData[] | SnapshotData);
  /**
   * Every flag for `user`, sorted by flagKey; with `keys`, only those (sorted, deduplicated), an
   * unknown key answering `{enabled: false, reason: 'FLAG_NOT_FOUND'}`.
   */
  evaluate(user: User, keys?: readonly string[]): Result[];
  /** One flag for `user`; an unknown key answers `FLAG_NOT_FOUND`. */
  evaluateFlag(key: string, user: User): Result;
  /** How many flags the set holds. */
  readonly size: number;
  /** The snapshot's environment; undefined when built from a list of flags. */
  readonly environment: Environment | undefined;
  /** The snapshot's revision; undefined when built from a list of flags. */
  readonly revision: number | undefined;
  /** Releases the wasm memory now (otherwise at garbage collection); any later call throws. */
  free(): void;
}
