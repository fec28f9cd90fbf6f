// Signed snapshots at the edge (docs/signing.md): with SNAPSHOT_PUBLIC_KEYS set, the worker in
// workerd installs a snapshot from a real signing origin, and refuses — keeping the snapshot it
// holds, saying why in /health — a tampered one (another body, another key's signature), a replayed
// older one, an expired one, one of another environment and an unsigned one, from a scripted
// upstream that signs with node:crypto's Ed25519 and the documented message layout.
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';

import { admin, EDGE_TOKEN, postEvaluate, sleep, startEdge, startOrigin, waitForEdgeRevision } from './harness.mjs';

const TTL_SECONDS = 1;

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x;
  const kid = createHash('sha256').update(Buffer.from(x, 'base64url')).digest('hex').slice(0, 16);
  return { privateKey, x, kid };
}

/** The header of `body`, signed as the origin signs (the layout written out here). */
function signed(key, { environment = 'prod', version, issued = Date.now(), ttlMs = 3_600_000, kid = key.kid }, body) {
  const expires = issued + ttlMs;
  const message = Buffer.concat([
    Buffer.from(`pennon-snapshot-v1\n${environment}\n${version}\n${issued}\n${expires}\n`),
    Buffer.from(body),
  ]);
  const sig = sign(null, message, key.privateKey).toString('base64url');
  return `v1; key=${kid}; env=${environment}; version=${version}; issued=${issued}; expires=${expires}; sig=${sig}`;
}

function snapshotBody(revision, enabled, environment = 'prod') {
  return JSON.stringify({
    environment,
    revision,
    flags: [{ key: 'signed.flag', enabled, rolloutPercentage: 100, rules: [] }],
    segments: [],
  });
}

/** An upstream whose every snapshot answer is `state.answer` = { body, headers } (no 304s). */
async function scriptedUpstream() {
  const state = { answer: null, requests: 0 };
  const server = createServer((req, res) => {
    state.requests += 1;
    if (req.headers['x-edge-token'] !== EDGE_TOKEN) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad edge token"}');
      return;
    }
    const { body, headers } = state.answer;
    res.writeHead(200, { 'content-type': 'application/json', ...headers }).end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const stop = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
  return { url, state, stop };
}

async function health(edgeUrl) {
  const res = await fetch(`${edgeUrl}/health`);
  assert.equal(res.status, 200);
  return res.json();
}

/** The prod entry of health's `signatures`. */
async function prodSignature(edgeUrl) {
  return (await health(edgeUrl)).signatures?.find((s) => s.environment === 'prod');
}

describe('signed snapshots from a real origin', () => {
  let origin;
  let edge;
  let key;

  before(async () => {
    origin = await startOrigin({ SNAPSHOT_SIGNING_KEY: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb' });
    [key] = (await (await fetch(`${origin.url}/api/flags/signing-keys`)).json()).keys;
    // Two keys, as during a rotation: the origin's and another.
    edge = await startEdge({
      originUrl: origin.url,
      ttlSeconds: TTL_SECONDS,
      vars: { SNAPSHOT_PUBLIC_KEYS: `${keyPair().x},${key.x}` },
    });
  });
  after(async () => {
    await edge?.stop();
    await origin?.stop();
  });

  test('a signed snapshot verifies, serves, and health names the key and version', async () => {
    await admin(origin.url, 'POST', '/flags', { key: 'from.origin', environment: 'prod', enabled: true, rolloutPercentage: 100 }, 201);
    const res = await postEvaluate(edge.url, { environment: 'prod', user: { id: 'u' }, flags: ['from.origin'] });
    assert.equal(res.status, 200, res.text);
    assert.equal(JSON.parse(res.text).results[0].enabled, true);
    assert.equal(res.headers.get('x-pennon-snapshot'), 'fresh');
    const entry = await prodSignature(edge.url);
    assert.equal(entry.verified.keyId, key.kid);
    assert.equal(entry.verified.version, Number(res.headers.get('x-pennon-revision')));
    assert.equal(entry.refused, undefined);
    // A write is picked up, signed at its new version.
    await admin(origin.url, 'POST', '/flags', { key: 'second', environment: 'prod' }, 201);
    await waitForEdgeRevision(edge.url, 'prod', entry.verified.version + 1);
    assert.equal((await prodSignature(edge.url)).verified.version, entry.verified.version + 1);
  });
});

describe('signed snapshots refused at the edge (scripted upstream)', () => {
  const key = keyPair();
  const other = keyPair();
  const request = { environment: 'prod', user: { id: 'u-1' } };
  let upstream;
  let edge;

  before(async () => {
    upstream = await scriptedUpstream();
    const body = snapshotBody(5, true);
    upstream.state.answer = { body, headers: { 'pennon-signature': signed(key, { version: 5 }, body) } };
    edge = await startEdge({ originUrl: upstream.url, ttlSeconds: TTL_SECONDS, vars: { SNAPSHOT_PUBLIC_KEYS: key.x } });
  });
  after(async () => {
    await edge?.stop();
    await upstream?.stop();
  });

  /**
   * Answers `answer` from now on, waits for the edge to fetch it (after its TTL) and returns the
   * evaluation then: the held snapshot (revision 5, on) keeps serving, marked stale, and health
   * shows `reason`.
   */
  async function refusedWith(answer, reason) {
    upstream.state.answer = answer;
    const deadline = Date.now() + 15_000;
    for (;;) {
      await sleep(TTL_SECONDS * 1000 + 100);
      const res = await postEvaluate(edge.url, request);
      assert.equal(res.status, 200, res.text);
      assert.equal(res.headers.get('x-pennon-revision'), '5', 'the held snapshot keeps serving');
      assert.equal(JSON.parse(res.text).results[0].enabled, true);
      const entry = await prodSignature(edge.url);
      if (entry?.refused?.reason.startsWith(reason)) {
        assert.ok(entry.refused.secondsAgo <= 2, JSON.stringify(entry));
        assert.equal(entry.verified.version, 5);
        assert.equal(res.headers.get('x-pennon-snapshot'), 'stale');
        return;
      }
      if (Date.now() > deadline) assert.fail(`no refusal "${reason}" in health: ${JSON.stringify(entry)}`);
    }
  }

  test('a validly signed snapshot installs', async () => {
    const res = await postEvaluate(edge.url, request);
    assert.equal(res.status, 200, res.text);
    assert.equal(res.headers.get('x-pennon-revision'), '5');
    assert.equal((await prodSignature(edge.url)).verified.keyId, key.kid);
  });

  test('a tampered body is refused: bad signature', async () => {
    const signedBody = snapshotBody(6, true);
    const tampered = snapshotBody(6, false);
    await refusedWith({ body: tampered, headers: { 'pennon-signature': signed(key, { version: 6 }, signedBody) } },
      'bad signature: it does not verify over the body with its key');
  });

  test("another key's signature under the configured key's id is refused: bad signature", async () => {
    const body = snapshotBody(7, false);
    // First something else, so that the refusal seen is this one's.
    await refusedWith({ body, headers: {} }, 'unsigned snapshot: no pennon-signature header');
    await refusedWith({ body, headers: { 'pennon-signature': signed(other, { version: 7, kid: key.kid }, body) } },
      'bad signature:');
  });

  test('a replayed older snapshot is refused: lower version', async () => {
    const body = snapshotBody(4, false);
    await refusedWith({ body, headers: { 'pennon-signature': signed(key, { version: 4 }, body) } },
      'lower version: signed version 4 is below version 5 already held');
  });

  test('an expired signature is refused: expired', async () => {
    const body = snapshotBody(8, false);
    const header = signed(key, { version: 8, issued: Date.now() - 120_000, ttlMs: 60_000 }, body);
    await refusedWith({ body, headers: { 'pennon-signature': header } }, 'expired: the signature expired at');
  });

  test('a snapshot of another environment is refused, and an unknown key', async () => {
    const dev = snapshotBody(9, false, 'dev');
    await refusedWith({ body: dev, headers: { 'pennon-signature': signed(key, { version: 9, environment: 'dev' }, dev) } },
      'other environment: signed for dev, expected prod');
    const body = snapshotBody(9, false);
    await refusedWith({ body, headers: { 'pennon-signature': signed(other, { version: 9 }, body) } },
      `unknown key: ${other.kid} is not a configured key`);
  });

  test('a valid newer snapshot installs again; a cold isolate refuses an expired one and answers 503', async () => {
    const body = snapshotBody(10, false);
    upstream.state.answer = { body, headers: { 'pennon-signature': signed(key, { version: 10 }, body) } };
    await waitForEdgeRevision(edge.url, 'prod', 10);
    const res = await postEvaluate(edge.url, request);
    assert.equal(res.headers.get('x-pennon-snapshot'), 'fresh');
    assert.equal(JSON.parse(res.text).results[0].enabled, false);
    assert.equal((await prodSignature(edge.url)).verified.version, 10);

    const expired = signed(key, { version: 10, issued: Date.now() - 120_000, ttlMs: 60_000 }, body);
    upstream.state.answer = { body, headers: { 'pennon-signature': expired } };
    const cold = await startEdge({ originUrl: upstream.url, ttlSeconds: TTL_SECONDS, vars: { SNAPSHOT_PUBLIC_KEYS: key.x } });
    try {
      const answer = await postEvaluate(cold.url, request);
      assert.equal(answer.status, 503, answer.text);
      const entry = await prodSignature(cold.url);
      assert.match(entry.refused.reason, /^expired: /);
      assert.equal(entry.verified, undefined);
    } finally {
      await cold.stop();
    }
  });
});

describe('a misconfigured key', () => {
  test('GET /health answers 503 naming SNAPSHOT_PUBLIC_KEYS, never the value', async () => {
    const edge = await startEdge({ originUrl: 'http://127.0.0.1:9', vars: { SNAPSHOT_PUBLIC_KEYS: 'not-a-key' } });
    try {
      const res = await fetch(`${edge.url}/health`);
      assert.equal(res.status, 503);
      const text = await res.text();
      assert.match(text, /SNAPSHOT_PUBLIC_KEYS: key 1 is not a 32-byte Ed25519 public key/);
      assert.doesNotMatch(text, /not-a-key/);
    } finally {
      await edge.stop();
    }
  });
});
