// The edge worker, built to wasm and run in workerd by `wrangler dev`: the golden vectors served to it
// as snapshots, its answers and errors compared with a real origin process, and its snapshot cache
// against a scripted origin. Run by scripts/test-edge (which builds the worker and the origin first).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  admin, contextOf, expectedOfrepItem, loadInvalidRequests, loadVectors, originRevision, postEvaluate,
  postOfrep, replaceFlags, sleep, startEdge, startFakeOrigin, startOrigin, waitForEdgeRevision,
} from './harness.mjs';

const TTL_SECONDS = 1;

function assertCors(headers) {
  assert.equal(headers.get('access-control-allow-origin'), '*');
}

// Every golden vector, served to the edge as the snapshot the origin would send: the file's flags AND
// segments. Through a snapshot server rather than the origin's admin API, because some vectors
// (v2-dangling.json) hold documents the origin refuses to store: flags naming a missing flag or
// segment, which the edge must still answer as the contract says.
describe('golden vectors served to the edge as snapshots', () => {
  let fake;
  let edge;
  let revision = 100;

  before(async () => {
    fake = await startFakeOrigin({ environment: 'prod', revision, flags: [], segments: [] });
    edge = await startEdge({ originUrl: fake.url, ttlSeconds: TTL_SECONDS });
  });
  after(async () => {
    await edge?.stop();
    await fake?.stop();
  });

  for (const vector of loadVectors()) {
    test(`${vector.file}: edge bytes == expected`, async () => {
      revision += 1;
      fake.state.snapshot = {
        environment: vector.environment,
        revision,
        flags: vector.flags,
        segments: vector.segments ?? [],
      };
      await waitForEdgeRevision(edge.url, vector.environment, revision);
      for (const c of vector.cases) {
        const fromEdge = await postEvaluate(edge.url, c.request);
        assert.equal(fromEdge.status, 200, `${c.name}: edge ${fromEdge.text}`);
        assert.deepEqual(JSON.parse(fromEdge.text), c.response, `${c.name}: edge vs expected`);
        assert.equal(fromEdge.text, JSON.stringify(c.response), `${c.name}: edge bytes vs compact expected`);
        assert.equal(fromEdge.headers.get('content-type'), 'application/json');
        assert.equal(fromEdge.headers.get('x-pennon-revision'), String(revision));
        assert.equal(fromEdge.headers.get('x-pennon-snapshot'), 'fresh');
        assertCors(fromEdge.headers);
        assert.match(fromEdge.headers.get('access-control-expose-headers'), /x-pennon-snapshot/);

        // OFREP for the same user: the bulk answer is the whole environment's evaluate answer,
        // mapped; each key the case names through the single route (an unknown one is a 404).
        const body = contextOf(c.request.user);
        const all = await postEvaluate(edge.url, { environment: vector.environment, user: c.request.user });
        const results = JSON.parse(all.text).results;
        const bulk = await postOfrep(edge.url, '', body, { 'x-pennon-environment': vector.environment });
        assert.equal(bulk.status, 200, `${c.name}: OFREP bulk ${bulk.text}`);
        assert.deepEqual(JSON.parse(bulk.text), { flags: results.map(expectedOfrepItem) }, `${c.name}: OFREP bulk`);
        for (const expected of c.response.results) {
          const one = await postOfrep(edge.url, expected.flagKey, body, { 'x-pennon-environment': vector.environment });
          if (expected.reason === 'FLAG_NOT_FOUND') {
            assert.equal(one.status, 404, `${c.name} ${expected.flagKey}: ${one.text}`);
            assert.equal(JSON.parse(one.text).errorCode, 'FLAG_NOT_FOUND');
          } else {
            assert.equal(one.status, 200, `${c.name} ${expected.flagKey}: ${one.text}`);
            const fromAll = results.find((r) => r.flagKey === expected.flagKey);
            assert.deepEqual(JSON.parse(one.text), expectedOfrepItem(fromAll), `${c.name}: OFREP ${expected.flagKey}`);
          }
        }
      }
    });
  }

  test('a snapshot whose set does not compile is not served; the last good one keeps serving', async () => {
    const before = await postEvaluate(edge.url, { environment: 'prod', user: { id: 'u' } });
    revision += 1;
    fake.state.snapshot = {
      environment: 'prod',
      revision,
      flags: [],
      segments: [{ key: 'twice' }, { key: 'twice' }],
    };
    await sleep(TTL_SECONDS * 1000 + 100);
    const after = await postEvaluate(edge.url, { environment: 'prod', user: { id: 'u' } });
    assert.equal(after.status, 200, after.text);
    assert.equal(after.text, before.text);
    assert.equal(after.headers.get('x-pennon-snapshot'), 'stale');
    assert.notEqual(after.headers.get('x-pennon-revision'), String(revision));
  });
});

/**
 * The origin's bulk OFREP answer less its `eventStreams` member, which only the origin has (the
 * edge has no change stream): it is written last, so the rest must be the edge's bytes exactly.
 */
function withoutEventStreams(text) {
  const at = text.lastIndexOf(',"eventStreams":');
  if (at < 0) return text;
  assert.ok(text.endsWith('}'), text);
  assert.ok(Array.isArray(JSON.parse(text).eventStreams), text);
  return `${text.slice(0, at)}}`;
}

describe('edge against a real origin', () => {
  let origin;
  let edge;

  before(async () => {
    origin = await startOrigin();
    edge = await startEdge({ originUrl: origin.url, ttlSeconds: TTL_SECONDS });
  });
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  test('bad input: the origin\'s status and body, byte for byte', async () => {
    const cases = loadInvalidRequests().map((c) => ({ ...c, path: '/api/evaluate', method: 'POST' }));
    cases.push(
      { name: 'body over 1 MiB', body: `{"environment":"prod","user":{"id":"${'x'.repeat(1024 * 1024)}"}}`, status: 413, path: '/api/evaluate', method: 'POST' },
      { name: 'chunked body over 1 MiB, no Content-Length', chunked: true, status: 413, path: '/api/evaluate', method: 'POST' },
      { name: 'unknown path', body: '{}', status: 404, path: '/api/nope', method: 'POST' },
      { name: 'GET on evaluate', status: 405, path: '/api/evaluate', method: 'GET' },
      { name: 'POST on health', body: '{}', status: 405, path: '/health', method: 'POST' },
    );
    for (const c of cases) {
      const call = async (base) => {
        const init = { method: c.method, body: c.body, headers: { 'content-type': 'application/json' } };
        if (c.chunked) {
          // 17 chunks of 64 KiB: more than 1 MiB, sent with Transfer-Encoding: chunked.
          const chunk = new Uint8Array(64 * 1024).fill(0x20);
          let sent = 0;
          init.body = new ReadableStream({
            pull(controller) {
              if (sent++ < 17) controller.enqueue(chunk); else controller.close();
            },
          });
          init.duplex = 'half';
        }
        const res = await fetch(`${base}${c.path}`, init);
        return { status: res.status, text: await res.text(), headers: res.headers };
      };
      const [fromOrigin, fromEdge] = [await call(origin.url), await call(edge.url)];
      assert.equal(fromOrigin.status, c.status, `${c.name}: origin status (${fromOrigin.text})`);
      assert.equal(fromEdge.status, c.status, `${c.name}: edge status (${fromEdge.text})`);
      assert.equal(fromEdge.text, fromOrigin.text, `${c.name}: edge body differs from the origin's`);
      if (c.error !== undefined) assert.deepEqual(JSON.parse(fromEdge.text), { error: c.error }, c.name);
      assert.equal(typeof JSON.parse(fromEdge.text).error, 'string', c.name);
      assertCors(fromEdge.headers);
    }
  });

  test('content types: 415 unless JSON is declared, the origin\'s status and body byte for byte', async () => {
    const evaluate = JSON.stringify({ environment: 'prod', user: { id: 'u-1' } });
    const big = `{"environment":"prod","user":{"id":"${'x'.repeat(1024 * 1024)}"}}`;
    // contentType null: no header at all.
    const cases = [
      { contentType: 'text/plain', status: 415 },
      { contentType: 'text/plain;charset=UTF-8', status: 415 },
      { contentType: 'application/x-www-form-urlencoded', status: 415 },
      { contentType: null, status: 415 },
      { contentType: 'application/vnd.api+json', status: 415 },
      { contentType: 'application/json; charset=utf-8', status: 200 },
      { contentType: 'APPLICATION/JSON', status: 200 },
      // The content type is checked first: before the body's size and its JSON.
      { contentType: 'text/plain', body: big, status: 415 },
      { contentType: null, body: '{', status: 415 },
      { contentType: 'application/json; charset=utf-8', body: '{', status: 400 },
    ];
    for (const c of cases) {
      const name = `${c.contentType} ${(c.body ?? evaluate).length} bytes`;
      const call = async (base) => {
        const headers = c.contentType === null ? {} : { 'content-type': c.contentType };
        // Bytes, not a string: fetch gives a string body a text/plain content type of its own.
        const body = new TextEncoder().encode(c.body ?? evaluate);
        const res = await fetch(`${base}/api/evaluate`, { method: 'POST', headers, body });
        return { status: res.status, text: await res.text(), headers: res.headers };
      };
      const [fromOrigin, fromEdge] = [await call(origin.url), await call(edge.url)];
      assert.equal(fromOrigin.status, c.status, `${name}: origin status (${fromOrigin.text})`);
      assert.equal(fromEdge.status, c.status, `${name}: edge status (${fromEdge.text})`);
      assert.equal(fromEdge.text, fromOrigin.text, `${name}: edge body differs from the origin's`);
      if (c.status === 415) {
        assert.deepEqual(JSON.parse(fromEdge.text), { error: 'content-type: must be application/json' }, name);
      }
      assertCors(fromEdge.headers);
      assertCors(fromOrigin.headers);
    }
    // What a page's simple request sends (a string body, no headers): text/plain, so 415, readable
    // by the page thanks to the CORS headers.
    for (const base of [origin.url, edge.url]) {
      const res = await fetch(`${base}/api/evaluate`, { method: 'POST', body: evaluate });
      assert.equal(res.status, 415, base);
      assertCors(res.headers);
    }
  });

  test('CORS preflight and GET /health', async () => {
    const pre = await fetch(`${edge.url}/api/evaluate`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(pre.status, 204);
    assertCors(pre.headers);
    assert.match(pre.headers.get('access-control-allow-methods'), /POST/);
    assert.match(pre.headers.get('access-control-allow-headers'), /content-type/);
    const health = await fetch(`${edge.url}/health`);
    assert.equal(health.status, 200);
    const body = await health.json();
    assert.equal(body.status, 'ok');
    assert.equal(body.ttlSeconds, TTL_SECONDS);
    // The earlier tests of this suite evaluated prod through the edge: it holds the origin's snapshot.
    const revision = await originRevision(origin.url, 'prod');
    assert.ok(body.snapshots.some((s) => s.environment === 'prod' && s.revision === revision), JSON.stringify(body));
  });

  test('OFREP: the origin\'s statuses, bodies and ETags, byte for byte, 304 included', async () => {
    const revision = await replaceFlags(origin.url, 'staging', [
      { key: 'bool', enabled: true, rolloutPercentage: 50, rules: [{ field: 'email', operator: 'ends_with', value: '@pennon.dev' }] },
      { key: 'num', enabled: true, type: 'number', variants: { a: 100.0, b: 1e-7, c: 12345678901234567 }, offVariant: 'a',
        fallthrough: { split: [{ variant: 'b', weight: 50000 }, { variant: 'c', weight: 50000 }] } },
      { key: 'obj', enabled: false, type: 'object', variants: { x: { 'q"uote': ['\u0001', '☃'] } }, offVariant: 'x', fallthrough: 'x' },
      { key: 'str', enabled: true, type: 'string', variants: { d: 'dark', l: 'light' }, offVariant: 'l',
        rules: [{ field: 'attributes.plan', operator: 'eq', value: 'pro', serve: 'd' }], fallthrough: 'l' },
    ]);
    await waitForEdgeRevision(edge.url, 'staging', revision);
    const staging = { 'x-pennon-environment': 'staging' };
    const context = { context: { targetingKey: 'user-7', email: 'a@pennon.dev', plan: 'pro', org: { tier: 2 } } };
    const cases = [
      ['bool', context, staging, 200],
      ['num', context, staging, 200],
      ['obj', context, staging, 200],
      ['str', context, staging, 200],
      ['str', { context: { targetingKey: 'user-8', plan: 'free' } }, staging, 200],
      ['nope', context, staging, 404],
      ['str', context, {}, 404],
      ['str', '{', staging, 400],
      ['str', '[]', staging, 400],
      ['str', { context: 'u' }, staging, 400],
      ['str', { context: { targetingKey: 1 } }, staging, 400],
      ['str', { context: { targetingKey: 'u', email: 2 } }, staging, 400],
      ['str', '{"context":{"targetingKey":"u","plan":1,"plan":2}}', staging, 400],
      ['str', { context: {} }, staging, 400],
      ['str', {}, staging, 400],
      ['str', context, { 'x-pennon-environment': 'moon' }, 400],
      ['str', `{"context":{"targetingKey":"${'x'.repeat(1024 * 1024)}"}}`, staging, 413],
      ['str', context, { ...staging, 'content-type': 'text/plain' }, 415],
      ['', context, staging, 200],
      ['', context, {}, 200],
      ['', { context: { targetingKey: 'u' } }, { 'x-pennon-environment': 'dev' }, 200],
      ['', { context: 7 }, staging, 400],
      ['', '{', staging, 400],
      ['', { context: { targetingKey: '' } }, staging, 400],
      ['', context, { 'x-pennon-environment': 'moon' }, 400],
      ['', context, { ...staging, 'content-type': 'text/plain' }, 415],
    ];
    for (const [key, body, headers, status] of cases) {
      const name = `${key || 'bulk'} ${JSON.stringify(headers)} ${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 60)}`;
      const [fromOrigin, fromEdge] = [await postOfrep(origin.url, key, body, headers), await postOfrep(edge.url, key, body, headers)];
      assert.equal(fromOrigin.status, status, `${name}: origin ${fromOrigin.text}`);
      assert.equal(fromEdge.status, status, `${name}: edge ${fromEdge.text}`);
      assert.equal(fromEdge.text, withoutEventStreams(fromOrigin.text), `${name}: edge body differs from the origin's`);
      assert.equal(fromEdge.headers.get('etag'), fromOrigin.headers.get('etag'), `${name}: ETag`);
      assertCors(fromEdge.headers);
      const parsed = JSON.parse(fromEdge.text);
      if (status !== 200) {
        assert.equal(typeof parsed.errorCode, 'string', name);
        assert.equal(typeof parsed.errorDetails, 'string', name);
        assert.equal(parsed.key, key || undefined, name);
      }
    }
    // The bulk ETag of one is a 304 at the other, and a new revision is a 200 at both.
    const first = await postOfrep(origin.url, '', context, staging);
    const etag = first.headers.get('etag');
    for (const base of [origin.url, edge.url]) {
      const res = await postOfrep(base, '', context, { ...staging, 'if-none-match': etag });
      assert.equal(res.status, 304, `${base}: ${res.text}`);
      assert.equal(res.text, '');
      assert.equal(res.headers.get('etag'), etag);
      assertCors(res.headers);
    }
    const { flags: [str] } = await admin(origin.url, 'GET', '/flags?environment=staging&key=str', undefined, 200);
    await admin(origin.url, 'PUT', `/flags/${str.id}`, { enabled: false }, 200);
    await waitForEdgeRevision(edge.url, 'staging', await originRevision(origin.url, 'staging'));
    const [fromOrigin, fromEdge] = await Promise.all([origin.url, edge.url].map(
      (base) => postOfrep(base, '', context, { ...staging, 'if-none-match': etag })));
    assert.equal(fromOrigin.status, 200);
    assert.equal(fromEdge.status, 200);
    assert.equal(fromEdge.text, withoutEventStreams(fromOrigin.text));
    assert.notEqual(fromEdge.headers.get('etag'), etag);
    assert.equal(fromEdge.headers.get('etag'), fromOrigin.headers.get('etag'));
    // The preflight allows what the web provider sends, and exposes the ETag.
    const pre = await fetch(`${edge.url}/ofrep/v1/evaluate/flags`, { method: 'OPTIONS' });
    assert.equal(pre.status, 204);
    assert.match(pre.headers.get('access-control-allow-headers'), /if-none-match/);
    assert.match(pre.headers.get('access-control-expose-headers'), /etag/);
  });

  test('a change through the admin API is served by the edge after the TTL', async () => {
    await replaceFlags(origin.url, 'prod', [{ key: 'switch.me', enabled: false, rolloutPercentage: 100, rules: [] }]);
    const request = { environment: 'prod', user: { id: 'u-1' }, flags: ['switch.me'] };
    const { flags: [flag] } = await admin(origin.url, 'GET', '/flags?environment=prod&key=switch.me', undefined, 200);
    await waitForEdgeRevision(edge.url, 'prod', await originRevision(origin.url, 'prod'));
    assert.match((await postEvaluate(edge.url, request)).text, /FLAG_DISABLED/);

    await admin(origin.url, 'PUT', `/flags/${flag.id}`, { enabled: true }, 200);
    const written = performance.now();
    const fromOrigin = await postEvaluate(origin.url, request);
    assert.match(fromOrigin.text, /"enabled":true,"reason":"ROLLOUT"/);
    let fromEdge;
    do {
      fromEdge = await postEvaluate(edge.url, request);
      if (fromEdge.text === fromOrigin.text) break;
      await sleep(25);
    } while (performance.now() - written < TTL_SECONDS * 1000 + 5000);
    const elapsed = performance.now() - written;
    assert.equal(fromEdge.text, fromOrigin.text, 'the edge never served the change');
    // At most one TTL plus a revalidation round trip (and slack for a loaded machine).
    assert.ok(elapsed <= TTL_SECONDS * 1000 + 2500, `served after ${elapsed.toFixed(0)} ms, TTL ${TTL_SECONDS} s`);
  });

  test('a stored server token scoped to prod serves the edge for prod only', async () => {
    const { secret } = await admin(
      origin.url, 'POST', '/tokens', { name: 'edge prod', role: 'server', environments: ['prod'] }, 201,
    );
    const scoped = await startEdge({ originUrl: origin.url, ttlSeconds: TTL_SECONDS, edgeToken: secret });
    try {
      const request = { environment: 'prod', user: { id: 'u-1' } };
      const fromEdge = await postEvaluate(scoped.url, request);
      assert.equal(fromEdge.status, 200, fromEdge.text);
      assert.equal(fromEdge.text, (await postEvaluate(origin.url, request)).text);
      // The origin refuses this token staging's snapshot (403): a cold isolate has nothing to serve.
      const staging = await postEvaluate(scoped.url, { environment: 'staging', user: { id: 'u-1' } });
      assert.equal(staging.status, 503, staging.text);
    } finally {
      await scoped.stop();
    }
  });

  test('numbers: a rule eq x created on the origin matches x and neither neighbouring double on the edge', async () => {
    const view = new DataView(new ArrayBuffer(8));
    const fromBits = (bits) => {
      view.setBigUint64(0, BigInt.asUintN(64, bits));
      return view.getFloat64(0);
    };
    const toBits = (x) => {
      view.setFloat64(0, x);
      return view.getBigUint64(0);
    };
    let seed = 0x5eed0016; // mulberry32, seeded so that a failure can be replayed
    const random32 = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (t ^ (t >>> 14)) >>> 0;
    };
    const values = [
      Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 2.2250738585072014e-308, 1.7e308,
      1.797693134862315e308, -95.24089298036279, 0.1, 2686617455949154300, 2 ** 64,
    ];
    while (values.length < 80) {
      const x = fromBits((BigInt(random32()) << 32n) | BigInt(random32()));
      if (Number.isFinite(x)) values.push(x);
    }
    while (values.length < 150) {
      const digits = [random32(), random32()].map((n) => String(n % 1e8).padStart(8, '0')).join('');
      values.push(Number(`-${1 + (random32() % 9)}.${digits}e${(random32() % 40) - 20}`));
    }
    // Created as a JavaScript admin client sends them: JSON.stringify, the shortest round-trip text.
    const flags = values.map((x, i) => ({
      key: `n${i}`, enabled: true, rolloutPercentage: 0,
      rules: [{ field: 'attributes.n', operator: 'eq', value: x }],
    }));
    const revision = await replaceFlags(origin.url, 'dev', flags);
    await waitForEdgeRevision(edge.url, 'dev', revision);
    const reason = async (i, y) => {
      const res = await postEvaluate(edge.url, { environment: 'dev', user: { id: 'u', attributes: { n: y } }, flags: [`n${i}`] });
      assert.equal(res.status, 200, res.text);
      return JSON.parse(res.text).results[0].reason;
    };
    for (const [i, x] of values.entries()) {
      assert.equal(await reason(i, x), 'RULE_MATCH', `rule eq ${x}, attribute ${x}`);
      const bits = toBits(x);
      for (const y of [fromBits(bits + 1n), fromBits(bits - 1n)].filter((n) => Number.isFinite(n) && n !== x)) {
        assert.equal(await reason(i, y), 'NO_MATCH', `rule eq ${x}, attribute ${y}`);
      }
    }
  });

  test('origin stopped: the last snapshot keeps serving, marked stale; a fresh isolate answers 503', async () => {
    const request = { environment: 'prod', user: { id: 'u-1' } };
    const before = await postEvaluate(edge.url, request);
    assert.equal(before.status, 200);
    await origin.stop();
    await sleep(TTL_SECONDS * 1000 + 200);
    const stale = await postEvaluate(edge.url, request);
    assert.equal(stale.status, 200, stale.text);
    assert.equal(stale.text, before.text);
    assert.equal(stale.headers.get('x-pennon-snapshot'), 'stale');
    assert.equal(stale.headers.get('x-pennon-revision'), before.headers.get('x-pennon-revision'));
    // Within the back-off the stale snapshot is served without waiting on the origin again.
    const again = await postEvaluate(edge.url, request);
    assert.equal(again.headers.get('x-pennon-snapshot'), 'stale');

    const cold = await startEdge({ originUrl: origin.url, ttlSeconds: TTL_SECONDS });
    try {
      const res = await postEvaluate(cold.url, request);
      assert.equal(res.status, 503, res.text);
      assert.deepEqual(Object.keys(JSON.parse(res.text)), ['error']);
      assertCors(res.headers);
      // Bad input is still refused as such, without a snapshot.
      const bad = await postEvaluate(cold.url, '{"environment":"prod","user":{}}');
      assert.equal(bad.status, 400);
      assert.equal((await fetch(`${cold.url}/health`)).status, 200);
    } finally {
      await cold.stop();
    }
  });
});

describe('edge snapshot cache against a scripted origin', () => {
  const flags = [
    { key: 'always.on', enabled: true, rolloutPercentage: 100, rules: [] },
    { key: 'always.off', enabled: false, rolloutPercentage: 100, rules: [] },
  ];
  const request = { environment: 'prod', user: { id: 'u-7' } };
  let fake;
  let edge;

  before(async () => {
    fake = await startFakeOrigin({ environment: 'prod', revision: 5, flags });
    edge = await startEdge({ originUrl: fake.url, ttlSeconds: TTL_SECONDS });
  });
  after(async () => {
    await edge?.stop();
    await fake?.stop();
  });

  test('concurrent requests on a cold isolate share one fetch', async () => {
    fake.state.delayMs = 400;
    fake.state.requests.length = 0;
    const answers = await Promise.all(Array.from({ length: 20 }, () => postEvaluate(edge.url, request)));
    fake.state.delayMs = 0;
    for (const a of answers) {
      assert.equal(a.status, 200, a.text);
      assert.equal(a.text, answers[0].text);
      assert.equal(a.headers.get('x-pennon-revision'), '5');
    }
    assert.equal(fake.state.requests.length, 1, 'snapshot fetches');
    assert.equal(fake.state.requests[0].url, '/api/flags/snapshot?environment=prod');
    assert.equal(fake.state.requests[0].headers['if-none-match'], undefined);
  });

  test('after the TTL the edge revalidates with If-None-Match and a 304 keeps the set', async () => {
    await sleep(TTL_SECONDS * 1000 + 100);
    fake.state.requests.length = 0;
    const res = await postEvaluate(edge.url, request);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-pennon-revision'), '5');
    assert.equal(fake.state.requests.length, 1);
    assert.equal(fake.state.requests[0].headers['if-none-match'], '"5"');
    // Within the TTL: no call to the origin at all.
    await postEvaluate(edge.url, request);
    assert.equal(fake.state.requests.length, 1);
  });

  test('a new revision replaces the set', async () => {
    fake.state.snapshot = { environment: 'prod', revision: 6, flags: flags.map((f) => ({ ...f, enabled: true })) };
    await waitForEdgeRevision(edge.url, 'prod', 6);
    const res = await postEvaluate(edge.url, request);
    assert.equal(res.text, '{"results":[{"flagKey":"always.off","enabled":true,"reason":"ROLLOUT","variant":"on","value":true},{"flagKey":"always.on","enabled":true,"reason":"ROLLOUT","variant":"on","value":true}]}');
  });

  test('while one request revalidates, the others answer at once from the snapshot in hand', async () => {
    await sleep(TTL_SECONDS * 1000 + 100);
    fake.state.delayMs = 1000;
    fake.state.requests.length = 0;
    const leader = postEvaluate(edge.url, request);
    await sleep(150);
    const started = performance.now();
    const others = await Promise.all(Array.from({ length: 5 }, () => postEvaluate(edge.url, request)));
    const othersTook = performance.now() - started;
    const led = await leader;
    fake.state.delayMs = 0;
    assert.equal(led.status, 200);
    for (const o of others) {
      assert.equal(o.status, 200);
      assert.equal(o.text, led.text);
    }
    assert.ok(othersTook < 700, `the others took ${othersTook.toFixed(0)} ms behind a 1 s revalidation`);
    assert.equal(fake.state.requests.length, 1, 'snapshot fetches');
  });

  test('a slow origin is given up after the time-out and the last snapshot serves, stale', async () => {
    await sleep(TTL_SECONDS * 1000 + 100);
    fake.state.delayMs = 5000;
    const start = performance.now();
    const res = await postEvaluate(edge.url, request);
    const waited = performance.now() - start;
    fake.state.delayMs = 0;
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-pennon-snapshot'), 'stale');
    assert.equal(res.headers.get('x-pennon-revision'), '6');
    assert.ok(waited >= 1500 && waited < 4000, `waited ${waited.toFixed(0)} ms for a 2 s time-out`);
  });

  test('an origin error keeps the snapshot; recovery clears the stale mark', async () => {
    await sleep(TTL_SECONDS * 1000 + 100);
    fake.state.status = 500;
    const failing = await postEvaluate(edge.url, request);
    assert.equal(failing.status, 200);
    assert.equal(failing.headers.get('x-pennon-snapshot'), 'stale');
    fake.state.status = null;
    await sleep(TTL_SECONDS * 1000 + 100);
    const recovered = await postEvaluate(edge.url, request);
    assert.equal(recovered.headers.get('x-pennon-snapshot'), 'fresh');
  });

  test('a lower revision (the origin\'s database replaced) replaces the set after the TTL', async () => {
    fake.state.snapshot = { environment: 'prod', revision: 2, flags: [{ key: 'replaced', enabled: true, rolloutPercentage: 100, rules: [] }] };
    await sleep(TTL_SECONDS * 1000 + 100);
    // The first request after the TTL revalidates and answers from what the origin sent.
    const res = await postEvaluate(edge.url, request);
    assert.equal(res.headers.get('x-pennon-revision'), '2');
    assert.equal(res.text, '{"results":[{"flagKey":"replaced","enabled":true,"reason":"ROLLOUT","variant":"on","value":true}]}');
    assert.equal(res.headers.get('x-pennon-snapshot'), 'fresh');
  });

  test('environments are cached separately; an unknown token yields 503 on a cold one', async () => {
    // The fake origin only knows prod: a staging request gets prod's snapshot and must refuse it.
    const res = await postEvaluate(edge.url, { environment: 'staging', user: { id: 'u' } });
    assert.equal(res.status, 503, res.text);
    const wrongToken = await startEdge({ originUrl: fake.url, ttlSeconds: TTL_SECONDS, edgeToken: 'wrong' });
    try {
      const refused = await postEvaluate(wrongToken.url, request);
      assert.equal(refused.status, 503, refused.text);
    } finally {
      await wrongToken.stop();
    }
  });
});

describe('a misconfigured edge', () => {
  test('GET /health answers 503 naming the variable; an evaluation answers 500 without internals', async () => {
    const edge = await startEdge({ originUrl: 'flags.example.com' });
    try {
      const health = await fetch(`${edge.url}/health`);
      assert.equal(health.status, 503);
      assertCors(health.headers);
      assert.equal(
        await health.text(),
        '{"error":"configuration: ORIGIN_URL must be an http(s) URL such as https://flags.example.com, not \\"flags.example.com\\""}',
      );
      const res = await postEvaluate(edge.url, { environment: 'prod', user: { id: 'u' } });
      assert.equal(res.status, 500);
      assert.equal(res.text, '{"error":"internal error"}');
    } finally {
      await edge.stop();
    }
  });
});
