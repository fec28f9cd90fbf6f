// Freshness at the edge with the hub (edge-worker/src/hub.rs, edge-worker/README.md#freshness-the-hub):
// the built worker in workerd with its SNAPSHOT_HUB Durable Object, against a real origin that
// pushes each write (EDGE_PUSH_URL). Each write through the admin API is timed from its answer to
// the first edge response that serves its revision (the edge polled every few ms): with the push
// (the default), with the alarm only (no EDGE_PUSH_URL), and with the origin stopped (the last
// snapshot keeps serving, marked stale, never an older one). The hub's load from isolates at
// steady state is read from its counters, with the per-location pointer (the default) and without
// it. Figures are printed (`freshness:` lines); `scripts/bench-edge freshness` runs this file with
// more writes. tests/edge/pointer.test.mjs tests the pointer's invalidation and purge.
//
// workerd here is one location with one isolate: what this proves and what it does not is in
// edge-worker/README.md.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  admin, EDGE_TOKEN, freePort, hubStatus, originRevision, postEvaluate, servedRevision, sleep, startEdge, startOrigin,
} from './harness.mjs';

const WRITES = Number(process.env.FRESHNESS_WRITES ?? 50);
const ALARM_ONLY_WRITES = Number(process.env.FRESHNESS_ALARM_WRITES ?? 10);
const POLL_MS = 5;
const PROBE = { environment: 'prod', user: { id: 'freshness-probe' }, flags: [] };

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(waits) {
  const sorted = [...waits].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
}

function print(label, s) {
  const ms = (v) => `${Math.round(v)} ms`;
  console.log(`freshness: ${label}: ${s.n} writes, p50 ${ms(s.p50)}, p99 ${ms(s.p99)}, max ${ms(s.max)}`);
}

/**
 * `count` writes (a flag toggled), each timed from the write's answer to the first edge answer at
 * its revision or later; a random pause before each samples the hub's alarm period evenly.
 */
async function timeWrites(origin, edgeUrl, count, { pauseMs = 0 } = {}) {
  const { flags: [flag] } = await admin(origin.url, 'GET', '/flags?environment=prod&key=fresh.flag', undefined, 200);
  const served = servedRevision(edgeUrl, PROBE);
  const waits = [];
  for (let i = 0; i < count; i++) {
    if (pauseMs) await sleep(Math.random() * pauseMs);
    await admin(origin.url, 'PUT', `/flags/${flag.id}`, { enabled: i % 2 === 0 }, 200);
    const written = performance.now();
    const want = await originRevision(origin.url, 'prod');
    for (;;) {
      if ((await served()).revision >= want) break;
      if (performance.now() - written > 20_000) throw new Error(`write ${i}: the edge never served ${want}`);
      await sleep(POLL_MS);
    }
    waits.push(performance.now() - written);
  }
  return summary(waits);
}

/**
 * Steady traffic (a request every ~10 ms) for `seconds` with no writes; the requests that reached
 * the hub from isolates, per second, from its counters.
 */
async function hubLoad(edgeUrl, label, seconds = 5) {
  const served = servedRevision(edgeUrl, PROBE);
  await served();
  const before = await hubStatus(edgeUrl);
  const end = performance.now() + seconds * 1000;
  let requests = 0;
  while (performance.now() < end) {
    await served();
    requests += 1;
    await sleep(10);
  }
  const after = await hubStatus(edgeUrl);
  const elapsed = (after.nowMs - before.nowMs) / 1000;
  const perSecond = (after.counts.isolateRequests - before.counts.isolateRequests) / elapsed;
  const edgeRps = requests / elapsed;
  console.log(`freshness: hub load at steady state, ${label}: ${perSecond.toFixed(2)} isolate requests/s at the hub `
    + `(${edgeRps.toFixed(0)} edge requests/s for ${elapsed.toFixed(1)} s, one location, `
    + `${after.counts.snapshotsSent - before.counts.snapshotsSent} snapshots sent)`);
  assert.equal(after.counts.snapshotsSent, before.counts.snapshotsSent);
  return { perSecond, edgeRps };
}

async function setUp({ push, vars = {} }) {
  const port = await freePort();
  const origin = await startOrigin(push ? { EDGE_PUSH_URL: `http://127.0.0.1:${port}` } : {});
  await admin(origin.url, 'POST', '/flags', { key: 'fresh.flag', environment: 'prod', enabled: false }, 201);
  // The TTL is the fallback's, unused with a hub: a day, so nothing but the hub brings news.
  const edge = await startEdge({ originUrl: origin.url, ttlSeconds: 86_400, hub: true, port, vars });
  const first = await postEvaluate(edge.url, PROBE);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.headers.get('x-pennon-revision'), String(await originRevision(origin.url, 'prod')));
  return { origin, edge };
}

describe('freshness with the hub: push (default configuration)', () => {
  let origin;
  let edge;
  before(async () => ({ origin, edge } = await setUp({ push: true })));
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  test(`${WRITES} writes: served at the edge within 1 s at p99`, async () => {
    // A random pause before each write samples the isolate's check period (250 ms) evenly.
    const s = await timeWrites(origin, edge.url, WRITES, { pauseMs: 300 });
    print('push + hub (default)', s);
    assert.ok(s.p99 <= 1_000, JSON.stringify(s));
    const status = await hubStatus(edge.url);
    assert.equal(status.version, await originRevision(origin.url, 'prod'));
    assert.ok(status.counts.pushesInstalled >= WRITES - 1, JSON.stringify(status));
  });

  test('requests reaching the hub at steady state, per location, with the pointer (max-age 1 s)', async () => {
    const leasesBefore = (await (await fetch(`${edge.url}/health`)).json()).hub.leases;
    const hubBefore = await hubStatus(edge.url);
    const load = await hubLoad(edge.url, 'pointer on, POINTER_MAX_AGE_SECONDS 1');
    // The isolate checks every 250 ms, but asks the hub only when the location's pointer has
    // expired: about once per max-age (1 s), plus rounding.
    assert.ok(load.perSecond <= 1.5, `${load.perSecond}/s`);
    const health = await (await fetch(`${edge.url}/health`)).json();
    const hubAfter = await hubStatus(edge.url);
    const { leases, ...hub } = health.hub;
    assert.deepEqual(hub, { checkMs: 250, pointerMaxAgeSeconds: 1, pointerPurge: 'local' });
    assert.equal(health.ttlSeconds, undefined);
    // The refresh lease (one isolate here, so no herd): a warm isolate takes one before each
    // request to the hub, and never finds another's (its own is replaced by the hub's answer
    // within the same check).
    const taken = leases.taken - leasesBefore.taken;
    const asked = hubAfter.counts.isolateRequests - hubBefore.counts.isolateRequests;
    console.log(`freshness: leases taken ${taken}, checks deferred ${leases.deferred - leasesBefore.deferred}, requests at the hub ${asked}`);
    assert.ok(taken >= 1 && Math.abs(taken - asked) <= 1, JSON.stringify({ leases, taken, asked }));
    assert.equal(leases.deferred, leasesBefore.deferred);
  });

  test('the push route needs the edge token; a push of an older version changes nothing', async () => {
    const snapshot = await fetch(`${origin.url}/api/flags/snapshot?environment=prod`, { headers: { 'x-edge-token': EDGE_TOKEN } });
    const body = await snapshot.text();
    const push = (token) => fetch(`${edge.url}/api/edge/push?environment=prod`, {
      method: 'POST',
      headers: token === null ? {} : { 'x-edge-token': token },
      body,
    });
    for (const token of [null, 'nope', `${EDGE_TOKEN}x`]) {
      const res = await push(token);
      assert.equal(res.status, 401, await res.text());
    }
    const held = (await hubStatus(edge.url)).version;
    const again = await push(EDGE_TOKEN);
    assert.equal(again.status, 200);
    assert.deepEqual(await again.json(), { installed: false, version: held, held });
    // An older snapshot (a replay, or a late push): the hub stays where it is.
    const older = JSON.stringify({ ...JSON.parse(body), revision: held - 1 });
    const late = await fetch(`${edge.url}/api/edge/push?environment=prod`, {
      method: 'POST', headers: { 'x-edge-token': EDGE_TOKEN }, body: older,
    });
    assert.deepEqual(await late.json(), { installed: false, version: held - 1, held });
    const bad = await fetch(`${edge.url}/api/edge/push?environment=prod`, {
      method: 'POST', headers: { 'x-edge-token': EDGE_TOKEN }, body: '{"environment":"dev","revision":1,"flags":[]}',
    });
    const refusal = await bad.text();
    assert.equal(bad.status, 422, refusal);
    assert.match(JSON.parse(refusal).error, /asked for prod, got a snapshot of dev/);
    assert.equal(Number((await postEvaluate(edge.url, PROBE)).headers.get('x-pennon-revision')), held);
  });

  test('origin down: the hub and the isolate keep serving, marked stale, never an older version', async () => {
    const served = servedRevision(edge.url, PROBE);
    const last = (await served()).revision;
    await origin.stop();
    // The hub's alarm (5 s) finds the origin gone; the isolate hears it on its next check.
    const start = performance.now();
    let stale = false;
    while (performance.now() - start < 12_000) {
      const now = await served();
      assert.equal(now.revision, last);
      if (now.stale) {
        stale = true;
        break;
      }
      await sleep(50);
    }
    console.log(`freshness: origin down: revision ${last} kept serving; stale said after ${Math.round(performance.now() - start)} ms`);
    assert.ok(stale, 'never marked stale');
    const status = await hubStatus(edge.url);
    assert.equal(status.stale, true);
    assert.ok(status.counts.revalidationsFailed >= 1);
  });
});

describe('the hub\'s load without the pointer (POINTER_MAX_AGE_SECONDS=0)', () => {
  let origin;
  let edge;
  before(async () => ({ origin, edge } = await setUp({ push: true, vars: { POINTER_MAX_AGE_SECONDS: 0 } })));
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  test('every check of the isolate reaches the hub: about 4 a second', async () => {
    const load = await hubLoad(edge.url, 'pointer off, POINTER_MAX_AGE_SECONDS 0');
    // One isolate checks at most every HUB_CHECK_MS (250 ms): at most 4 a second, plus rounding;
    // with steady traffic, at least 2 (the pointer's bound above is 1.5).
    assert.ok(load.perSecond <= 4.5 && load.perSecond >= 2, `${load.perSecond}/s`);
    const health = await (await fetch(`${edge.url}/health`)).json();
    assert.equal(health.hub.pointerPurge, 'off');
    // A write is still served within the check period.
    const s = await timeWrites(origin, edge.url, 5, { pauseMs: 300 });
    assert.ok(s.max <= 1_000, JSON.stringify(s));
  });
});

describe('freshness with the hub: alarm only (no EDGE_PUSH_URL)', () => {
  let origin;
  let edge;
  before(async () => ({ origin, edge } = await setUp({ push: false })));
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  test(`${ALARM_ONLY_WRITES} writes: served within the hub's alarm period (5 s) and a check`, async () => {
    // A random pause before each write samples the alarm's period (5 s) evenly.
    const s = await timeWrites(origin, edge.url, ALARM_ONLY_WRITES, { pauseMs: 5_000 });
    print('alarm only (HUB_REVALIDATE_SECONDS 5, no push)', s);
    assert.ok(s.max <= 5_000 + 1_500, JSON.stringify(s));
  });
});

describe('cold isolates when the origin is down', () => {
  let origin;
  let edge;
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  test('a restarted edge serves the hub\'s stored snapshot, then the location\'s cached copy', async () => {
    ({ origin, edge } = await setUp({ push: true }));
    const { flags: [flag] } = await admin(origin.url, 'GET', '/flags?environment=prod&key=fresh.flag', undefined, 200);
    await admin(origin.url, 'PUT', `/flags/${flag.id}`, { enabled: true }, 200);
    const want = await originRevision(origin.url, 'prod');
    const served = servedRevision(edge.url, PROBE);
    while ((await served()).revision < want) await sleep(20);
    const { dir } = edge;
    await edge.stop();
    await origin.stop();

    // The hub restores the snapshot from its storage; its alarm finds the origin gone.
    edge = await startEdge({ originUrl: origin.url, ttlSeconds: 86_400, hub: true, dir });
    const fromHub = await postEvaluate(edge.url, PROBE);
    assert.equal(fromHub.status, 200, fromHub.text);
    assert.equal(Number(fromHub.headers.get('x-pennon-revision')), want);
    await edge.stop();

    // The hub lost its storage and cannot reach the origin (it answers 503): the cold isolate
    // installs the location's last good copy from the Cache API, marked stale.
    const hubStorage = join(dir, '.wrangler', 'state', 'v3', 'do');
    assert.ok(readdirSync(hubStorage).length > 0, 'the hubs\' local storage is where expected');
    rmSync(hubStorage, { recursive: true, force: true });
    edge = await startEdge({ originUrl: origin.url, ttlSeconds: 86_400, hub: true, dir });
    const fromCache = await postEvaluate(edge.url, PROBE);
    assert.equal(fromCache.status, 200, fromCache.text);
    assert.equal(Number(fromCache.headers.get('x-pennon-revision')), want);
    assert.equal(fromCache.headers.get('x-pennon-snapshot'), 'stale');
    // Neither the hub (it holds nothing) nor the origin (stopped) gave it: the Cache API did.
    assert.equal((await hubStatus(edge.url)).version, null);
    console.log(`freshness: cold isolate, origin down: revision ${want} from the hub's storage, then from the Cache API (stale)`);
  });
});

describe('signed snapshots through the hub (SNAPSHOT_PUBLIC_KEYS)', () => {
  let origin;
  let edge;
  before(async () => {
    const port = await freePort();
    origin = await startOrigin({
      EDGE_PUSH_URL: `http://127.0.0.1:${port}`,
      SNAPSHOT_SIGNING_KEY: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    });
    const [key] = (await (await fetch(`${origin.url}/api/flags/signing-keys`)).json()).keys;
    edge = await startEdge({ originUrl: origin.url, ttlSeconds: 86_400, hub: true, port, vars: { SNAPSHOT_PUBLIC_KEYS: key.x } });
  });
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  test('a pushed signed snapshot is verified by the hub and the isolate; a tampered or unsigned push is refused', async () => {
    await admin(origin.url, 'POST', '/flags', { key: 'signed.hub', environment: 'prod', enabled: true, rolloutPercentage: 100 }, 201);
    const first = await postEvaluate(edge.url, PROBE);
    assert.equal(first.status, 200, first.text);
    await admin(origin.url, 'POST', '/flags', { key: 'signed.hub.2', environment: 'prod' }, 201);
    const want = await originRevision(origin.url, 'prod');
    const served = servedRevision(edge.url, PROBE);
    const start = performance.now();
    while ((await served()).revision < want) {
      assert.ok(performance.now() - start < 3_000, 'the signed push was not served');
      await sleep(POLL_MS);
    }
    const health = await (await fetch(`${edge.url}/health`)).json();
    const prod = health.signatures.find((entry) => entry.environment === 'prod');
    assert.equal(prod.verified.version, want);

    const snapshot = await fetch(`${origin.url}/api/flags/snapshot?environment=prod`, { headers: { 'x-edge-token': EDGE_TOKEN } });
    const signature = snapshot.headers.get('pennon-signature');
    const body = await snapshot.text();
    const push = async (headers, text) => {
      const res = await fetch(`${edge.url}/api/edge/push?environment=prod`, {
        method: 'POST', headers: { 'x-edge-token': EDGE_TOKEN, ...headers }, body: text,
      });
      return { status: res.status, body: await res.json() };
    };
    const tampered = JSON.stringify({ ...JSON.parse(body), revision: want + 1 });
    const cases = [
      [{ 'pennon-signature': signature }, tampered, /bad signature/],
      [{}, JSON.stringify({ ...JSON.parse(body), revision: want + 1 }), /unsigned/],
    ];
    for (const [headers, text, reason] of cases) {
      const res = await push(headers, text);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(res.body.error, reason);
    }
    const status = await hubStatus(edge.url);
    assert.equal(status.version, want);
    assert.equal(status.counts.pushesRefused, 2);
  });
});

describe('no hub binding: the push route says so, the TTL behaviour is unchanged', () => {
  test('503 naming the binding', async () => {
    const origin = await startOrigin();
    const edge = await startEdge({ originUrl: origin.url, ttlSeconds: 1 });
    try {
      const res = await fetch(`${edge.url}/api/edge/push?environment=prod`, {
        method: 'POST', headers: { 'x-edge-token': EDGE_TOKEN }, body: '{}',
      });
      assert.equal(res.status, 503);
      assert.match((await res.json()).error, /SNAPSHOT_HUB/);
      const evaluated = await postEvaluate(edge.url, PROBE);
      assert.equal(evaluated.status, 200);
    } finally {
      await edge.stop();
      await origin.stop();
    }
  });
});
