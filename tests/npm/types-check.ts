// Compiled with `tsc --strict --noEmit` inside the scratch project by types.test.mjs: the package's
// hand-written types must accept correct code and refuse wrong code (each @ts-expect-error must fire,
// which also proves no input or output is typed `any`).
import { Evaluator, SignatureError, evaluate, evaluateAll } from '@pennon/evaluator';
import type {
  SignatureRefusal, VerifyOptions, BooleanFlag, Condition, EvaluationResult, Flag, FlagResult, JsonObject, JsonValue, NumberFlag,
  ObjectFlag, Reason, Result, Rule, Segment, Serve, Snapshot, StringFlag, User,
} from '@pennon/evaluator';
// The README's bundler example: a JSON import, whose strings are typed `string`, not the unions.
import snapshotJson from './snapshot.json' with { type: 'json' };

// A version-1 flag, typed as before.
const rules: Rule[] = [
  { field: 'country', operator: 'in', value: ['DE', 'FR'] },
  { all: [{ field: 'attributes.org.tier', operator: 'eq', value: 2 }, { field: 'email', operator: 'ends_with', value: '@acme.com' }] },
];
const flag: Flag = { key: 'new_checkout_flow', enabled: true, rolloutPercentage: 25, rules };
const user: User = { id: 'user-123', country: 'DE', attributes: { org: { tier: 2 }, beta: true, tags: ['a', 1, null] } };

// Version 2: the four types, splits, segments, prerequisites, every family of operators.
const checkout: StringFlag = {
  key: 'checkout.layout',
  enabled: true,
  type: 'string',
  variants: { control: 'one-page', treatment: 'two-step', holdout: 'one-page' },
  offVariant: 'control',
  prerequisites: [{ flag: 'new_checkout_flow', variants: ['on'] }],
  rules: [
    { segment: 'beta-customers', serve: 'treatment' },
    { all: [{ notSegment: 'staff' }, { field: 'attributes.appVersion', operator: 'semver_gt', value: '2.0.0-rc.1' }], serve: 'holdout' },
  ],
  fallthrough: {
    split: [{ variant: 'control', weight: 50_000 }, { variant: 'treatment', weight: 50_000 }],
    bucketBy: 'attributes.companyId',
    salt: 'checkout-v2',
  },
};
const price: NumberFlag<'low' | 'high'> = {
  key: 'price',
  enabled: true,
  type: 'number',
  variants: { low: 9.99, high: 12 },
  offVariant: 'low',
  rules: [{ field: 'attributes.seats', operator: 'gte', value: 10, serve: 'high' }],
  fallthrough: 'low',
};
const limits: ObjectFlag = {
  key: 'limits',
  enabled: true,
  type: 'object',
  variants: { small: { requests: 100, burst: [1, 2] }, large: { requests: 1000, nested: { on: true } } },
  offVariant: 'small',
  rules: [{ field: 'attributes.signup', operator: 'before', value: '2026-01-01T00:00:00Z', serve: 'large' }],
  fallthrough: 'small',
};
const darkMode: BooleanFlag = {
  key: 'dark_mode',
  enabled: true,
  rules: [{ field: 'email', operator: 'contains', value: 'pennon' }, { field: 'attributes.beta', operator: 'exists', value: true, serve: 'off' }],
  fallthrough: { split: [{ variant: 'on', weight: 33_333 }, { variant: 'off', weight: 66_667 }] },
};
const beta: Segment = {
  key: 'beta-customers',
  include: ['user-123'],
  rules: [{ field: 'attributes.plan', operator: 'eq', value: 'enterprise' }, { all: [{ field: 'country', operator: 'in', value: ['DE'] }] }],
};
const viaUnion: Flag = { key: 'x', type: 'string', variants: { a: 'x' }, offVariant: 'a', fallthrough: 'a' };
const servesOn: Flag = { key: 'b', enabled: true, fallthrough: 'on' };
const serve: Serve = { split: [{ variant: 'a', weight: 100_000 }] };
const conditions: Condition[] = [{ segment: 'beta-customers' }, { notSegment: 'staff' }, { field: 'id', operator: 'lt', value: 3 }];
const snapshot: Snapshot = { environment: 'prod', revision: 4, flags: [flag, checkout, price, limits, darkMode, viaUnion, servesOn], segments: [beta] };

// Results: the value's type follows the flag's.
const one: FlagResult<boolean> = evaluate(flag, user);
const layout: string = evaluate(checkout, user).value;
const amount: number = evaluate(price, user).value;
const config: JsonObject = evaluate(limits, user).value;
const on: boolean = evaluate(darkMode, user).value;
const all: FlagResult[] = evaluateAll([flag, checkout], user);
const evaluator = new Evaluator(snapshot);
const some: EvaluationResult[] = evaluator.evaluate(user, ['new_checkout_flow', 'missing']);
const every: FlagResult[] = evaluator.evaluate(user);
const maybe: EvaluationResult[] = evaluator.evaluate(user, undefined);
const reason: Reason = evaluator.evaluateFlag('new_checkout_flow', user).reason;
const found = evaluator.evaluateFlag<StringFlag>('checkout.layout', user);
// Narrowed on the reason: a missing flag has null, a found one the flag's type.
const chosen: string | null = found.reason === 'FLAG_NOT_FOUND' ? found.value : found.value.toUpperCase();
const anyValue: JsonValue = evaluator.evaluateFlag('price', user).value;
const legacy: Result = one;
const enabled: boolean = one.enabled && all.length > 0 && some.length > 0 && every.length + maybe.length > 0 && reason !== 'FLAG_NOT_FOUND';
const size: number = new Evaluator([flag, { key: 'minimal' }]).size + new Evaluator({ flags: [], segments: [beta] }).size;
evaluator.free();
const fromJson: number = new Evaluator(snapshotJson).size + new Evaluator(snapshotJson.flags).size;

// @ts-expect-error a string flag's variants hold strings, not numbers
const numberInString: StringFlag = { key: 's', enabled: true, type: 'string', variants: { a: 'x', b: 2 }, offVariant: 'a', fallthrough: 'a' };
// @ts-expect-error the same, checked through the Flag union's `type`
const numberInStringFlag: Flag = { key: 's', type: 'string', variants: { a: 1 }, offVariant: 'a', fallthrough: 'a' };
// @ts-expect-error a number flag's variants hold numbers
const stringInNumber: Flag = { key: 'n', type: 'number', variants: { a: '1' }, offVariant: 'a', fallthrough: 'a' };
// @ts-expect-error an object flag's variants hold objects
const arrayInObject: Flag = { key: 'o', type: 'object', variants: { a: [1] }, offVariant: 'a', fallthrough: 'a' };
// @ts-expect-error a string flag needs a fallthrough
const noFallthrough: Flag = { key: 's', type: 'string', variants: { a: 'x' }, offVariant: 'a' };
// @ts-expect-error a string flag's rules must serve
const noServe: StringFlag = { key: 's', type: 'string', variants: { a: 'x' }, offVariant: 'a', fallthrough: 'a', rules: [{ segment: 'b' }] };
// @ts-expect-error variant names are checked when the flag names them
const unknownVariant: NumberFlag<'low' | 'high'> = { ...price, fallthrough: 'medium' };
// @ts-expect-error a boolean flag has rolloutPercentage or fallthrough, not both
const both: BooleanFlag = { key: 'b', rolloutPercentage: 5, fallthrough: 'on' };
// @ts-expect-error a boolean flag's variants are exactly {on: true, off: false}
const badBooleanVariants: Flag = { key: 'b', variants: { on: 'yes', off: 'no' } };
// @ts-expect-error unknown flag type
const badType: Flag = { key: 'b', type: 'json', variants: {}, offVariant: 'a', fallthrough: 'a' };
// @ts-expect-error a split share needs a weight
const badSplit: Serve = { split: [{ variant: 'a' }] };
// @ts-expect-error bucketBy is a user field
const badBucket: Serve = { split: [{ variant: 'a', weight: 100_000 }], bucketBy: 'company' };
// @ts-expect-error a segment names its key
const badSegmentCondition: Condition = { segment: 7 };
// @ts-expect-error segments' rules have no segment conditions
const nestedSegment: Segment = { key: 's', rules: [{ segment: 'other' }] };
// @ts-expect-error lt compares with a number
const badLt: Rule = { field: 'attributes.age', operator: 'lt', value: '18' };
// @ts-expect-error exists takes a boolean
const badExists: Rule = { field: 'email', operator: 'exists', value: 'yes' };
// @ts-expect-error a string flag's value is a string
const notNumber: number = evaluate(checkout, user).value;
// @ts-expect-error a found-or-missing value may be null
const notNull: string = found.value;
// @ts-expect-error rolloutPercentage is a number
const badPercent: Flag = { key: 'k', enabled: true, rolloutPercentage: '5', rules: [] };
// @ts-expect-error unknown operator
const badOperator: Rule = { field: 'id', operator: 'matches', value: 'x' };
// @ts-expect-error in takes a non-empty array
const badIn: Rule = { field: 'id', operator: 'in', value: [] };
// @ts-expect-error starts_with takes a string
const badPrefix: Rule = { field: 'email', operator: 'starts_with', value: 5 };
// @ts-expect-error unknown field
const badField: Rule = { field: 'name', operator: 'eq', value: 'x' };
// @ts-expect-error a flag needs a key
const noKey: Flag = { enabled: true };
// @ts-expect-error a user needs an id
const noId: User = { email: 'a@b.c' };
// @ts-expect-error unknown environment
const badSnapshot: Snapshot = { environment: 'qa', revision: 1, flags: [] };
// @ts-expect-error results are not strings
const notString: string = evaluate(flag, user);
// @ts-expect-error reasons are a closed set
const badReason: Reason = 'MAYBE';
// @ts-expect-error JSON values are not functions
const notJson: JsonValue = () => 1;

// Signed snapshots: an async constructor, its options and its error.
async function verifiedSize(body: Uint8Array, header: string | null): Promise<number> {
  const options: VerifyOptions = { publicKeys: ['11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo'], environment: 'prod', minVersion: 3, now: new Date() };
  try {
    const verified: Evaluator = await Evaluator.verified(body, header, options);
    return verified.size;
  } catch (err) {
    if (err instanceof SignatureError) {
      const why: SignatureRefusal = err.reason;
      return why.length;
    }
    throw err;
  }
}
// @ts-expect-error publicKeys is required
const noKeys: VerifyOptions = { environment: 'prod' };
// @ts-expect-error an environment is one of three
const badEnvironment: VerifyOptions = { publicKeys: 'k', environment: 'qa' };
// @ts-expect-error verified is async: not an Evaluator
const notAwaited: Evaluator = Evaluator.verified('{}', null, { publicKeys: 'k' });
// @ts-expect-error reasons are a closed set
const badRefusal: SignatureRefusal = 'forged';

export {
  verifiedSize, noKeys, badEnvironment, notAwaited, badRefusal,
  enabled, size, fromJson, layout, amount, config, on, chosen, anyValue, legacy, serve, conditions,
  numberInString, numberInStringFlag, stringInNumber, arrayInObject, noFallthrough, noServe, unknownVariant, both,
  badBooleanVariants, badType, badSplit, badBucket, badSegmentCondition, nestedSegment, badLt, badExists,
  notNumber, notNull, noKey, badPercent, badOperator, badIn, badPrefix, badField, noId, badSnapshot,
  notString, badReason, notJson,
};
