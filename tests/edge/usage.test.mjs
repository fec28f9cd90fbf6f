// The edge worker's evaluation counts (USAGE_REPORT_SECONDS): reported in batches to the origin's
// POST /api/usage off the requests' path, adding up exactly per flag and variant; a batch the
// origin does not take is dropped (its counts lost, never retried) and evaluations go on being
// served. Against a scripted origin (what is sent, when, the failures) and the real one (the counts
// land in the flag's `usage`). Run by scripts/test-edge after the worker and the origin are built.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  EDGE_TOKEN, admin, postEvaluate, postOfrep, sleep, startEdge, startFakeOrigin, startOrigin,
} from './harness.mjs';

const REPORT_SECONDS = 1;

const FLAGS = [
  {
    key: 'usage.layout', enabled: true, type: 'string',
    variants: { one: 'one-page', two: 'two-step' }, offVariant: 'one',
    rules: [{ field: 'country', operator: 'eq', value: 'DE', serve: 'two' }], fallthrough: 'one',
  },
  { key: 'usage.off', enabled: false, rolloutPercentage: 100, rules: [] },
];

/**
 * Evaluates through every counting route with known answers; resolves to the counts expected per
 * `flag/variant` in `prod`.
 */
async function evaluateKnownMix(edgeUrl) {
  const expected = new Map();
  const add = (key, n) => expected.set(key, (expected.get(key) ?? 0) + n);
  const ok = (res) => assert.equal(res.status, 200, res.text);
  for (let i = 0; i < 7; i++) {
    ok(await postEvaluate(edgeUrl, { environment: 'prod', user: { id: `de-${i}`, country: 'DE' } }));
  }
  add('usage.layout/two', 7);
  add('usage.off/off', 7);
  for (let i = 0; i < 5; i++) {
    ok(await postEvaluate(edgeUrl, { environment: 'prod', user: { id: `fr-${i}`, country: 'FR' } }));
  }
  add('usage.layout/one', 5);
  add('usage.off/off', 5);
  // A key the environment lacks is answered FLAG_NOT_FOUND and not counted.
  for (let i = 0; i < 3; i++) {
    ok(await postEvaluate(edgeUrl, {
      environment: 'prod', user: { id: `k-${i}`, country: 'DE' }, flags: ['usage.layout', 'usage.missing'],
    }));
  }
  add('usage.layout/two', 3);
  // OFREP: the single route twice (and once for a missing key: 404, not counted), the bulk route
  // once, and its 304 (nothing evaluated, nothing counted).
  const prod = { 'x-pennon-environment': 'prod' };
  for (let i = 0; i < 2; i++) {
    ok(await postOfrep(edgeUrl, 'usage.layout', { context: { targetingKey: `o-${i}`, country: 'DE' } }, prod));
  }
  add('usage.layout/two', 2);
  assert.equal((await postOfrep(edgeUrl, 'usage.missing', { context: { targetingKey: 'o' } }, prod)).status, 404);
  const bulk = await postOfrep(edgeUrl, '', { context: { targetingKey: 'b-1' } }, prod);
  ok(bulk);
  add('usage.layout/one', 1);
  add('usage.off/off', 1);
  const etag = bulk.headers.get('etag');
  const again = await postOfrep(edgeUrl, '', { context: { targetingKey: 'b-1' } }, { ...prod, 'if-none-match': etag });
  assert.equal(again.status, 304);
  return expected;
}

/** The counts of every batch received, summed per `flag/variant` (only `environment`'s). */
function sumReports(reports, environment = 'prod') {
  const sums = new Map();
  for (const { text } of reports) {
    const batch = JSON.parse(text);
    if (batch.environment !== environment) continue;
    for (const { flag, variant, count } of batch.counts) {
      sums.set(`${flag}/${variant}`, (sums.get(`${flag}/${variant}`) ?? 0) + count);
    }
  }
  return sums;
}

async function until(what, condition, timeoutMs = 10_000) {
  const start = performance.now();
  while (!(await condition())) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const sorted = (map) => Object.fromEntries([...map].sort());

describe('usage reports against a scripted origin', () => {
  let fake;
  let edge;

  before(async () => {
    fake = await startFakeOrigin({ environment: 'prod', revision: 3, flags: FLAGS, segments: [] });
    // A day's TTL: nothing but the reports goes to the origin after the first snapshot.
    edge = await startEdge({ originUrl: fake.url, ttlSeconds: 86_400, vars: { USAGE_REPORT_SECONDS: REPORT_SECONDS } });
  });
  after(async () => {
    await edge?.stop();
    await fake?.stop();
  });

  test('evaluations are reported per flag and variant, adding up exactly, with the edge token', async () => {
    const start = Date.now();
    const expected = await evaluateKnownMix(edge.url);
    const end = Date.now();
    const arrived = (sums) => sums.size === expected.size && [...expected].every(([key, n]) => sums.get(key) >= n);
    await until('the report', () => arrived(sumReports(fake.state.usage)));
    // Nothing more arrives: each count is sent once.
    await sleep(REPORT_SECONDS * 1000 + 500);
    assert.deepEqual(sorted(sumReports(fake.state.usage)), sorted(expected));
    for (const report of fake.state.usage) {
      assert.equal(report.headers['x-edge-token'], EDGE_TOKEN);
      assert.equal(report.headers['content-type'], 'application/json');
      const batch = JSON.parse(report.text);
      assert.deepEqual(Object.keys(batch), ['environment', 'counts']);
      for (const entry of batch.counts) {
        assert.deepEqual(Object.keys(entry), ['flag', 'variant', 'count', 'lastEvaluatedAt']);
        assert.ok(Number.isInteger(entry.count) && entry.count >= 1, report.text);
        // workerd's clock is the machine's, advanced at I/O: within the run (a second's slack).
        assert.ok(entry.lastEvaluatedAt >= start - 1000 && entry.lastEvaluatedAt <= end + 1000, report.text);
      }
    }
    // Batches at most once per interval (the requests took well under a second or two).
    assert.ok(fake.state.usage.length <= Math.ceil((end - start) / 1000 / REPORT_SECONDS) + 1, fake.state.usage.length);
  });

  test('a request never waits on a report, even when the origin is slow to take it', async () => {
    fake.state.usage.length = 0;
    fake.state.usageDelayMs = 1500;
    try {
      let slowest = 0;
      const until = performance.now() + 3 * REPORT_SECONDS * 1000;
      let n = 0;
      while (performance.now() < until) {
        const t = performance.now();
        const res = await postEvaluate(edge.url, { environment: 'prod', user: { id: `s-${n++}` } });
        assert.equal(res.status, 200, res.text);
        slowest = Math.max(slowest, performance.now() - t);
        await sleep(50);
      }
      assert.ok(fake.state.usage.length >= 2, `reports sent meanwhile: ${fake.state.usage.length}`);
      assert.ok(slowest < 1000, `slowest evaluation ${slowest.toFixed(0)} ms with reports taking 1.5 s`);
      await sleep(REPORT_SECONDS * 1000 + 2000);
      assert.equal(sumReports(fake.state.usage).get('usage.off/off'), n);
    } finally {
      fake.state.usageDelayMs = 0;
    }
  });

  test('a batch the origin refuses is dropped, not retried; the next one holds only newer counts', async () => {
    fake.state.usage.length = 0;
    fake.state.usageStatus = 503;
    for (let i = 0; i < 4; i++) {
      assert.equal((await postEvaluate(edge.url, { environment: 'prod', user: { id: `r-${i}` } })).status, 200);
    }
    await until('the refused report', () => fake.state.usage.length >= 1);
    fake.state.usageStatus = 202;
    await sleep(REPORT_SECONDS * 1000 + 1000);
    assert.equal(fake.state.usage.length, 1, 'no retry');
    assert.equal(sumReports(fake.state.usage).get('usage.off/off'), 4);
    for (let i = 0; i < 3; i++) {
      assert.equal((await postEvaluate(edge.url, { environment: 'prod', user: { id: `r2-${i}` } })).status, 200);
    }
    await until('the next report', () => fake.state.usage.length >= 2);
    await sleep(REPORT_SECONDS * 1000 + 500);
    assert.deepEqual(fake.state.usage.map((r) => r.status), [503, 202]);
    assert.equal(sumReports(fake.state.usage.slice(1)).get('usage.off/off'), 3);
    assert.match(edge.output(), /usage report of prod \(\d+ series\) dropped: the origin answered 503/);
  });
});

describe('usage reports against a real origin', () => {
  let origin;
  let edge;
  const ids = new Map();

  before(async () => {
    // The origin writes the usage it gathers (the edge's reports too) to its store every
    // USAGE_FLUSH_SECONDS; the admin API reads it from there.
    origin = await startOrigin({ USAGE_FLUSH_SECONDS: '1' });
    for (const flag of FLAGS) {
      const created = await admin(origin.url, 'POST', '/flags', { ...flag, environment: 'prod' }, 201);
      ids.set(flag.key, created.flag.id);
    }
    edge = await startEdge({ originUrl: origin.url, ttlSeconds: 1, vars: { USAGE_REPORT_SECONDS: REPORT_SECONDS } });
  });
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  /** `usage.last24h` of every test flag, as `flag/variant` → count. */
  async function originUsage() {
    const sums = new Map();
    for (const [key, id] of ids) {
      const { usage } = await admin(origin.url, 'GET', `/flags/${id}`, undefined, 200);
      for (const [variant, count] of Object.entries(usage?.last24h ?? {})) {
        if (count > 0) sums.set(`${key}/${variant}`, count);
      }
    }
    return sums;
  }

  test("the counts reported land in the flags' usage, exactly", async () => {
    const start = Date.now();
    const expected = await evaluateKnownMix(edge.url);
    const arrived = (sums) => sums.size === expected.size && [...expected].every(([key, n]) => sums.get(key) >= n);
    await until("the origin's usage", async () => arrived(await originUsage()), 20_000);
    await sleep(REPORT_SECONDS * 1000 + 500);
    assert.deepEqual(sorted(await originUsage()), sorted(expected));
    const { usage } = await admin(origin.url, 'GET', `/flags/${ids.get('usage.layout')}`, undefined, 200);
    const last = Date.parse(usage.lastEvaluatedAt);
    assert.ok(last >= start - 1000 && last <= Date.now(), usage.lastEvaluatedAt);
  });

  test('with the origin unreachable, evaluations are served and the edge stays healthy', async () => {
    const request = { environment: 'prod', user: { id: 'u-down', country: 'DE' } };
    const first = await postEvaluate(edge.url, request);
    assert.equal(first.status, 200, first.text);
    await origin.stop();
    // Several report intervals and snapshot TTLs with the origin gone: every evaluation answers
    // (stale), none waits on a report, and the isolate keeps going.
    const until = performance.now() + 4 * REPORT_SECONDS * 1000;
    let n = 0;
    while (performance.now() < until) {
      const t = performance.now();
      const res = await postEvaluate(edge.url, request);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.text, first.text);
      assert.ok(performance.now() - t < 2500, 'at most the snapshot time-out');
      n++;
      await sleep(20);
    }
    assert.ok(n > 20, `${n} evaluations`);
    const health = await fetch(`${edge.url}/health`);
    assert.equal(health.status, 200);
    const body = await health.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.snapshots.find((s) => s.environment === 'prod')?.stale, true);
    assert.match(edge.output(), /usage report of prod \(\d+ series\) dropped/);
  });
});
