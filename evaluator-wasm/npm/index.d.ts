// Types of @pennon/evaluator, written by hand from Pennon's flag model and its evaluation. They
// describe what the evaluator accepts; it still checks every value at run time and throws an Error
// naming the field when one breaks the model (an unknown variant name, weights that do not sum to
// 100000, a SemVer or date that does not parse...).

/** The environments a flag can live in. */
export type Environment = 'dev' | 'staging' | 'prod';

/** Any JSON value. */
export type JsonValue = string | number | boolean | null | readonly JsonValue[] | JsonObject;

/** A JSON object: the value of an object flag's variant. */
export type JsonObject = { readonly [key: string]: JsonValue };

/** A value a condition compares with. */
export type Scalar = string | number | boolean;

/** A user field: `id`, `email`, `country`, or `attributes.<path>` (dot-separated, non-empty keys). */
export type Field = 'id' | 'email' | 'country' | `attributes.${string}`;

/** `eq`/`neq`: same JSON type and equal (numbers by value, strings case-sensitive). */
export type EqualityOperator = 'eq' | 'neq';
/** `in`/`not_in`: equal to one of a non-empty list. */
export type MembershipOperator = 'in' | 'not_in';
/** The field is a string with that prefix / suffix / substring (case-sensitive). */
export type StringOperator = 'starts_with' | 'ends_with' | 'contains';
/** The field is a number, compared by value. */
export type NumberOperator = 'lt' | 'lte' | 'gt' | 'gte';
/** The field is a SemVer 2.0.0 string, compared by precedence. */
export type SemVerOperator = 'semver_eq' | 'semver_lt' | 'semver_gt';
/** The field is an RFC 3339 date-time, strictly earlier / later than the value. */
export type DateOperator = 'before' | 'after';
/** Every operator of a comparison. */
export type Operator =
  | EqualityOperator
  | MembershipOperator
  | StringOperator
  | NumberOperator
  | SemVerOperator
  | DateOperator
  | 'exists';

export interface EqualityCondition {
  field: Field;
  operator: EqualityOperator;
  value: Scalar;
}

export interface MembershipCondition {
  field: Field;
  operator: MembershipOperator;
  /** 1 to 10,000 values. */
  value: readonly [Scalar, ...Scalar[]];
}

export interface StringCondition {
  field: Field;
  operator: StringOperator;
  value: string;
}

/** @deprecated the name from before `contains`: use {@link StringCondition}. */
export type AffixCondition = StringCondition;

export interface NumberCondition {
  field: Field;
  operator: NumberOperator;
  /** Finite. */
  value: number;
}

export interface SemVerCondition {
  field: Field;
  operator: SemVerOperator;
  /** A SemVer 2.0.0 version such as `"1.2.3"` or `"2.0.0-rc.1+build.5"` (no leading `v`). */
  value: string;
}

export interface DateCondition {
  field: Field;
  operator: DateOperator;
  /** An RFC 3339 date-time such as `"2026-12-01T00:00:00Z"` (no leap second). */
  value: string;
}

/** `exists: true`: the field is present and not null; `exists: false`: absent or null. */
export interface ExistsCondition {
  field: Field;
  operator: 'exists';
  value: boolean;
}

/** A condition on one field of the user. */
export type Comparison =
  | EqualityCondition
  | MembershipCondition
  | StringCondition
  | NumberCondition
  | SemVerCondition
  | DateCondition
  | ExistsCondition;

/** The user is a member of the segment with this key. */
export interface SegmentCondition {
  segment: string;
}

/** The user is not a member of the segment with this key. */
export interface NotSegmentCondition {
  notSegment: string;
}

/** A condition of a flag's rule. */
export type Condition = Comparison | SegmentCondition | NotSegmentCondition;

/** Matches when every condition matches (1 to 20 conditions, no deeper nesting). */
export interface ConditionGroup<C = Condition> {
  all: readonly [C, ...C[]];
}

/** One share of a split: `weight` in thousandths of a percent (0 to 100000). */
export interface SplitShare<N extends string = string> {
  variant: N;
  weight: number;
}

/**
 * Serves each user one variant of the list, by `murmur3(salt + "/" + user[bucketBy]) % 100000`.
 * Weights sum to exactly 100000; `bucketBy` defaults to `"id"`, `salt` to the flag's key. A user
 * whose `bucketBy` field is missing or not a string cannot be placed.
 */
export interface Split<N extends string = string> {
  split: readonly SplitShare<N>[];
  bucketBy?: Field;
  salt?: string;
}

/** What a rule or a fallthrough serves: a variant name, or a split between variants. */
export type Serve<N extends string = string> = N | Split<N>;

/** What a rule matches: one condition or a group. */
export type Targeting = Condition | ConditionGroup;

/**
 * A rule of a flag: rules are alternatives, checked in order, and the first that matches serves
 * its `serve` (a rule whose split cannot place the user does not match). `serve` defaults to `"on"`
 * on a boolean flag and is required on the others (see {@link ServingRule}).
 */
export type Rule<N extends string = string> = Targeting & { serve?: Serve<N> };

/** A rule of a string, number or object flag: `serve` is required. */
export type ServingRule<N extends string = string> = Targeting & { serve: Serve<N> };

/** The named flag must serve one of `variants` to the same user, or this flag serves its offVariant. */
export interface Prerequisite {
  flag: string;
  /** 1 to 50 variant names of that flag. */
  variants: readonly [string, ...string[]];
}

/** The fields every flag has, whatever its type. */
export interface FlagBase {
  /** UUID assigned by the origin; not needed to evaluate. */
  id?: string;
  /** 1 to 128 characters of `[A-Za-z0-9_.-]`. */
  key: string;
  environment?: Environment;
  description?: string;
  /** The kill switch: `false` serves the offVariant whatever else is set. Default `false`. */
  enabled?: boolean;
  /** At most 10, checked in order before the rules. Default none. */
  prerequisites?: readonly Prerequisite[];
  version?: number;
  createdAt?: string;
  updatedAt?: string;
}

/** A boolean flag's variant names. */
export type BooleanVariant = 'on' | 'off';

/**
 * An on/off flag, the default type: variants `{on: true, off: false}`, `enabled` is the value served.
 * After the rules, either `rolloutPercentage` (murmur3(id + key) % 100 below it: "on") or a
 * `fallthrough`, not both.
 */
export type BooleanFlag = FlagBase & {
  type?: 'boolean';
  variants?: { readonly on: true; readonly off: false };
  offVariant?: 'off';
  /** At most 100; `serve` defaults to `"on"`. */
  rules?: readonly Rule[];
} & (
    | {
        /** Integer from 0 to 100. Default 0. */
        rolloutPercentage?: number;
        fallthrough?: never;
      }
    | {
        rolloutPercentage?: never;
        fallthrough: Serve<BooleanVariant>;
      }
  );

/** The fields of a flag whose variants hold values of type `V`, named `N`. */
export interface TypedFlag<T extends 'string' | 'number' | 'object', V, N extends string = string>
  extends FlagBase {
  type: T;
  /** 1 to 50 variants; names of 1 to 64 characters of `[A-Za-z0-9_.-]`. */
  variants: { readonly [name in N]: V };
  /** Served when the flag is disabled, a prerequisite fails, or a fallthrough split cannot place the user. */
  offVariant: N;
  /** At most 100, checked in order. */
  rules?: readonly ServingRule<N>[];
  /** What a user whom no rule matches gets. */
  fallthrough: Serve<N>;
  rolloutPercentage?: never;
}

/** A flag serving strings (`value` of its results is a `string`). */
export type StringFlag<N extends string = string> = TypedFlag<'string', string, N>;
/** A flag serving finite numbers. */
export type NumberFlag<N extends string = string> = TypedFlag<'number', number, N>;
/** A flag serving JSON objects (at most 32 KiB as JSON each). */
export type ObjectFlag<N extends string = string> = TypedFlag<'object', JsonObject, N>;

/** A flag as the origin's admin API and snapshot return it; a discriminated union on `type`. */
export type Flag = BooleanFlag | StringFlag | NumberFlag | ObjectFlag;

/** What a flag of type `F` serves. */
export type ValueOf<F extends Flag> = F extends StringFlag
  ? string
  : F extends NumberFlag
    ? number
    : F extends ObjectFlag
      ? JsonObject
      : boolean;

/** A named audience: users listed in `include`, or matched by any of `rules`. */
export interface Segment {
  id?: string;
  /** 1 to 128 characters of `[A-Za-z0-9_.-]`, unique per environment. */
  key: string;
  environment?: Environment;
  description?: string;
  /** At most 10,000 distinct user ids that always belong. */
  include?: readonly string[];
  /** At most 100; no `serve`, no segment conditions. */
  rules?: readonly (Comparison | ConditionGroup<Comparison>)[];
  version?: number;
  createdAt?: string;
  updatedAt?: string;
}

/** A JSON value held in a user's attributes. */
export type AttributeValue = JsonValue;

/** The user a flag is decided for, as in the body of `POST /api/evaluate`. */
export interface User {
  /** Non-empty; what the rollout hashes, and splits by default. */
  id: string;
  email?: string | null;
  country?: string | null;
  attributes?: { readonly [key: string]: AttributeValue };
}

/** Why a flag serves what it serves. */
export type Reason =
  | 'FLAG_DISABLED'
  | 'PREREQUISITE_FAILED'
  | 'RULE_MATCH'
  | 'ROLLOUT'
  | 'NO_MATCH'
  | 'FLAG_NOT_FOUND';

/** The answer for a flag that exists: the variant served and its value. */
export interface FlagResult<V extends JsonValue = JsonValue> {
  flagKey: string;
  /**
   * A boolean flag's value; for the other types, false exactly when the reason is `FLAG_DISABLED`
   * or `PREREQUISITE_FAILED`.
   */
  enabled: boolean;
  reason: Exclude<Reason, 'FLAG_NOT_FOUND'>;
  variant: string;
  value: V;
}

/** The answer for a key the set does not have. */
export interface NotFoundResult {
  flagKey: string;
  enabled: false;
  reason: 'FLAG_NOT_FOUND';
  variant: null;
  value: null;
}

/**
 * One answer, the same object as in the HTTP API's `results`; narrow on `reason` to tell a missing
 * flag apart. `V` is the type of the values served (a string flag's: `string`).
 */
export type EvaluationResult<V extends JsonValue = JsonValue> = FlagResult<V> | NotFoundResult;

/** @deprecated the name from before typed values: use {@link EvaluationResult}. */
export type Result = EvaluationResult;

/**
 * The snapshot of one environment, as `GET /api/flags/snapshot` returns it; only `flags` is needed
 * (`segments` defaults to none).
 */
export interface Snapshot {
  environment?: Environment;
  /** Non-negative integer that grows with every write to the environment. */
  revision?: number;
  flags: readonly Flag[];
  segments?: readonly Segment[];
}

/**
 * A flag as JSON data whose types TypeScript only knows loosely: a JSON import types `operator` or
 * `environment` as plain `string`. Checked at run time like everything else.
 */
export type FlagData = { readonly key: string; readonly [field: string]: unknown };

/** A segment as JSON data; checked at run time. */
export type SegmentData = { readonly key: string; readonly [field: string]: unknown };

/** A snapshot as JSON data (a JSON import of the origin's snapshot); checked at run time. */
export interface SnapshotData {
  environment?: string;
  revision?: number;
  flags: readonly FlagData[];
  segments?: readonly SegmentData[];
}

/**
 * Evaluates one flag for one user, on its own: a prerequisite finds no flag (so it fails) and a
 * segment condition no segment (no members); use an {@link Evaluator} for those. Throws an Error
 * naming the field on bad input.
 */
export function evaluate<F extends Flag>(flag: F, user: User): FlagResult<ValueOf<F>>;

/**
 * Evaluates every flag of a list for one user, sorted by flagKey. The flags are decided among
 * themselves: a prerequisite on another flag of the list works, one on a flag not in it fails.
 * Duplicate keys and prerequisite cycles throw.
 */
export function evaluateAll(flags: readonly Flag[], user: User): FlagResult<ValueOf<Flag>>[];

/** Why {@link Evaluator.verified} refused a snapshot (docs/signing.md lists the messages). */
export type SignatureRefusal =
  | 'unsigned'
  | 'malformed'
  | 'unknown-key'
  | 'bad-signature'
  | 'other-environment'
  | 'lower-version'
  | 'expired'
  | 'version-mismatch';

/** The Error that {@link Evaluator.verified} rejects with when it refuses a snapshot. */
export class SignatureError extends Error {
  readonly name: 'SignatureError';
  /** Why: a bad signature, an unknown key, a lower version, an expired signature, … */
  readonly reason: SignatureRefusal;
}

/** An Ed25519 public key as a JSON Web Key (what `GET /api/flags/signing-keys` lists). */
export interface Ed25519Jwk {
  kty?: 'OKP';
  crv?: 'Ed25519';
  kid?: string;
  /** The 32-byte public key, base64url. */
  x: string;
}

/** How {@link Evaluator.verified} decides. */
export interface VerifyOptions {
  /**
   * The accepted public keys: 32 bytes each in base64url (or base64), as a list or one
   * comma-separated string, JWKs, or a JWK set `{keys}`. Two during a key rotation.
   */
  publicKeys: string | readonly (string | Ed25519Jwk)[] | { keys: readonly Ed25519Jwk[] };
  /** The environment expected; another one is refused ('other-environment'). */
  environment?: Environment;
  /** The version already held: a lower one is refused ('lower-version'), an equal one accepted. */
  minVersion?: number;
  /** The clock for the expiry: a Date or milliseconds since the epoch; default now. */
  now?: Date | number;
}

/** A flag set and its segments compiled once in wasm memory; evaluating a user is then one call. */
export class Evaluator {
  /**
   * Verifies a snapshot's body (the exact bytes of `GET /api/flags/snapshot`'s answer, or its
   * text) against its `Pennon-Signature` header with Web Crypto's Ed25519, then compiles it.
   * Rejects with a {@link SignatureError} naming the reason (a bad signature, an unknown key, a
   * lower version, an expired signature, another environment), or a TypeError for unusable
   * options.
   */
  static verified(
    body: string | ArrayBuffer | ArrayBufferView,
    signatureHeader: string | null | undefined,
    options: VerifyOptions,
  ): Promise<Evaluator>;
  /**
   * Compiles a list of flags or a snapshot `{flags, segments?}`, typed (`Flag`, `Snapshot`) or as
   * JSON data (a JSON import: `FlagData`, `SnapshotData`). Throws an Error naming the field on bad
   * input, and on duplicate keys and prerequisite cycles.
   */
  constructor(flagsOrSnapshot: readonly Flag[] | Snapshot | readonly FlagData[] | SnapshotData);
  /** Every flag for `user`, sorted by flagKey. */
  evaluate(user: User): FlagResult<ValueOf<Flag>>[];
  /**
   * Only the flags named in `keys` (sorted, deduplicated), an unknown key answering
   * `{enabled: false, reason: 'FLAG_NOT_FOUND', variant: null, value: null}`.
   */
  evaluate(user: User, keys: readonly string[]): EvaluationResult<ValueOf<Flag>>[];
  /** Every flag when `keys` is undefined or null, else only those. */
  evaluate(user: User, keys?: readonly string[] | null): EvaluationResult<ValueOf<Flag>>[];
  /**
   * One flag for `user`; an unknown key answers `FLAG_NOT_FOUND`. Name the flag's type to type the
   * value: `evaluateFlag<StringFlag>('theme', user).value` is a `string` (or `null` when not found).
   */
  evaluateFlag<F extends Flag = Flag>(key: string, user: User): EvaluationResult<ValueOf<F>>;
  /** How many flags the set holds. */
  readonly size: number;
  /** The snapshot's environment; undefined when built from a list of flags or a snapshot without one. */
  readonly environment: Environment | undefined;
  /** The snapshot's revision; undefined when built from a list of flags or a snapshot without one. */
  readonly revision: number | undefined;
  /** Releases the wasm memory now (otherwise at garbage collection); any later call throws. */
  free(): void;
}
