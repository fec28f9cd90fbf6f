// Compiled with `tsc --strict --noEmit` inside the scratch project by types.test.mjs: the package's
// hand-written types must accept correct code and refuse wrong code (each @ts-expect-error must fire,
// which also proves no input or output is typed `any`).
import { Evaluator, evaluate, evaluateAll } from '@pennon/evaluator';
import type { Flag, Reason, Result, Rule, Snapshot, User } from '@pennon/evaluator';
// The README's bundler example: a JSON import, whose strings are typed `string`, not the unions.
import snapshotJson from './snapshot.json' with { type: 'json' };

const rules: Rule[] = [
  { field: 'country', operator: 'in', value: ['DE', 'FR'] },
  { all: [{ field: 'attributes.org.tier', operator: 'eq', value: 2 }, { field: 'email', operator: 'ends_with', value: '@acme.com' }] },
];
const flag: Flag = { key: 'new_checkout_flow', enabled: true, rolloutPercentage: 25, rules };
const snapshot: Snapshot = { environment: 'prod', revision: 4, flags: [flag] };
const user: User = { id: 'user-123', country: 'DE', attributes: { org: { tier: 2 }, beta: true, tags: ['a', 1, null] } };

const one: Result = evaluate(flag, user);
const all: Result[] = evaluateAll([flag], user);
const evaluator = new Evaluator(snapshot);
const some: Result[] = evaluator.evaluate(user, ['new_checkout_flow', 'missing']);
const reason: Reason = evaluator.evaluateFlag('new_checkout_flow', user).reason;
const enabled: boolean = one.enabled && all.length > 0 && some.length > 0 && reason !== 'FLAG_NOT_FOUND';
const size: number = new Evaluator([flag, { key: 'minimal' }]).size;
evaluator.free();
const fromJson: number = new Evaluator(snapshotJson).size + new Evaluator(snapshotJson.flags).size;

// @ts-expect-error rolloutPercentage is a number
const badPercent: Flag = { key: 'k', enabled: true, rolloutPercentage: '5', rules: [] };
// @ts-expect-error unknown operator
const badOperator: Rule = { field: 'id', operator: 'contains', value: 'x' };
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

export { enabled, size, fromJson, noKey, badPercent, badOperator, badIn, badPrefix, badField, noId, badSnapshot, notString, badReason };
