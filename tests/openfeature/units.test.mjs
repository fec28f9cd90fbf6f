// The provider's pure parts, straight from the source (no I/O, no SDK): the SSE reader, which flags
// a new snapshot changes, and the context → user mapping.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from '../../openfeature-provider/sse.js';
import { changedFlags } from '../../openfeature-provider/changes.js';
import { ContextError, contextMessage, userOf } from '../../openfeature-provider/context.js';

describe('SseParser', () => {
  test('the origin\'s stream, split at every byte, with CRLF, CR and LF line ends', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const text = ['retry: 2417', '', ': heartbeat', 'id: 7', 'data: {"type":"refetchEvaluation","revision":7}', '', 'id: 8', 'data: a', 'data: b', '', ''].join(eol);
      const parser = new SseParser();
      const events = [];
      for (const ch of text) events.push(...parser.push(ch));
      assert.deepEqual(events, [
        { type: 'message', data: '{"type":"refetchEvaluation","revision":7}', id: '7' },
        { type: 'message', data: 'a\nb', id: '8' },
      ], JSON.stringify(eol));
      assert.equal(parser.retryMs, 2417);
      assert.equal(parser.lastEventId, '8');
    }
  });
  test('comments, empty events, named events, a field without a colon, a bad retry', () => {
    const parser = new SseParser();
    const events = parser.push(': only a comment\n\nevent: other\ndata\n\nretry: 12x\ndata:x\n\n');
    assert.deepEqual(events, [{ type: 'other', data: '', id: undefined }, { type: 'message', data: 'x', id: undefined }]);
    assert.equal(parser.retryMs, undefined);
  });
  test('an event is not dispatched before its blank line', () => {
    const parser = new SseParser();
    assert.deepEqual(parser.push('data: half'), []);
    assert.deepEqual(parser.push('\n'), []);
    assert.deepEqual(parser.push('\n'), [{ type: 'message', data: 'half', id: undefined }]);
  });
});

describe('changedFlags', () => {
  const flag = (key, extra = {}) => ({ key, enabled: true, rules: [], prerequisites: [], ...extra });
  test('added, removed and edited flags', () => {
    const before = { flags: [flag('a'), flag('b'), flag('c')] };
    const after = { flags: [flag('a'), flag('b', { enabled: false }), flag('d')] };
    assert.deepEqual(changedFlags(before, after), ['b', 'c', 'd']);
  });
  test('a flag using an edited segment, in a group too; and dependents through prerequisites, transitively', () => {
    const flags = [
      flag('uses', { rules: [{ all: [{ field: 'id', operator: 'eq', value: 'x' }, { notSegment: 'beta' }] }] }),
      flag('needs-uses', { prerequisites: [{ flag: 'uses', variants: ['on'] }] }),
      flag('needs-needs', { prerequisites: [{ flag: 'needs-uses', variants: ['on'] }] }),
      flag('other', { rules: [{ segment: 'alpha' }] }),
    ];
    const before = { flags, segments: [{ key: 'beta', include: ['a'] }, { key: 'alpha', include: [] }] };
    const after = { flags, segments: [{ key: 'beta', include: ['a', 'b'] }, { key: 'alpha', include: [] }] };
    assert.deepEqual(changedFlags(before, after), ['needs-needs', 'needs-uses', 'uses']);
  });
  test('nothing changed: nothing', () => {
    const snapshot = { flags: [flag('a')], segments: [{ key: 's' }] };
    assert.deepEqual(changedFlags(snapshot, structuredClone(snapshot)), []);
  });
});

describe('userOf (context → user, as OFREP reads it)', () => {
  test('targetingKey, email, country; everything else into attributes, Dates as ISO strings', () => {
    assert.deepEqual(userOf({ targetingKey: 'u', email: 'a@b.c', country: null, plan: 'pro', n: 1, org: { tier: [1, 2] }, at: new Date(0), gone: undefined }), {
      id: 'u', email: 'a@b.c', country: null, attributes: { plan: 'pro', n: 1, org: { tier: [1, 2] }, at: '1970-01-01T00:00:00.000Z' },
    });
    assert.deepEqual(userOf({ targetingKey: 'u' }), { id: 'u' });
  });
  test('errors with OpenFeature codes, in OFREP\'s order', () => {
    const code = (ctx) => {
      try { userOf(ctx); } catch (err) { assert.ok(err instanceof ContextError); return [err.code, err.message.split(':')[0]]; }
      return undefined;
    };
    assert.deepEqual(code(undefined), ['TARGETING_KEY_MISSING', 'context.targetingKey']);
    assert.deepEqual(code({ targetingKey: '' }), ['TARGETING_KEY_MISSING', 'context.targetingKey']);
    assert.deepEqual(code({ targetingKey: 5, email: 5 }), ['INVALID_CONTEXT', 'context.targetingKey']);
    assert.deepEqual(code({ email: 5 }), ['TARGETING_KEY_MISSING', 'context.targetingKey']);
    assert.deepEqual(code({ targetingKey: 'u', email: 5, country: 5 }), ['INVALID_CONTEXT', 'context.email']);
    assert.deepEqual(code({ targetingKey: 'u', country: [] }), ['INVALID_CONTEXT', 'context.country']);
  });
  test("the evaluator's messages name the context", () => {
    assert.equal(contextMessage('user.attributes.a.b: nested too deep'), 'context.a.b: nested too deep');
  });
});
