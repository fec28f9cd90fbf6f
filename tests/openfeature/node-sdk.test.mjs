// The real OpenFeature Node SDK (@openfeature/server-sdk) with the real OFREP provider
// (@openfeature/ofrep-provider), both from npm (versions pinned in package-lock.json), against a
// real origin process and against the edge worker in workerd: every golden vector through the
// SDK's typed get…Details calls (value, variant, reason, error code), a flag that does not exist,
// a type mismatch, a missing targeting key, and a 429 honoured. Run by scripts/test-edge, which
// builds the origin and the worker and installs these packages first.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OpenFeature } from '@openfeature/server-sdk';

import {
  admin, contextOf, loadVectors, openFeatureReason, startEdge, startFakeOrigin, startOrigin,
  waitForEdgeRevision,
} from '../edge/harness.mjs';

let domains = 0;

/** An SDK client whose provider is OFREP at `baseUrl`, evaluating in `environment`. */
async function clientFor(baseUrl, environment, headers = {}) {
  domains += 1;
  const domain = `pennon-${domains}`;
  const provider = new OFREPProvider({ baseUrl, headers: { 'x-pennon-environment': environment, ...headers } });
  await OpenFeature.setProviderAndWait(domain, provider);
  return OpenFeature.getClient(domain);
}

/** The SDK's typed call for a value of this JavaScript type (booleans for a missing flag). */
function details(client, key, value, context) {
  switch (typeof value) {
    case 'string': return client.getStringDetails(key, '', context);
    case 'number': return client.getNumberDetails(key, 0, context);
    case 'object': return value === null
      ? client.getBooleanDetails(key, false, context)
      : client.getObjectDetails(key, {}, context);
    default: return client.getBooleanDetails(key, false, context);
  }
}

/** The OpenFeature context of a vector's user. */
function openFeatureContext(user) {
  return contextOf(user).context;
}

/** Every case of `vector` through `client`; returns how many SDK calls were checked. */
async function checkVector(client, vector) {
  let calls = 0;
  for (const c of vector.cases) {
    const context = openFeatureContext(c.request.user);
    for (const expected of c.response.results) {
      const what = `${vector.file} / ${c.name} / ${expected.flagKey}`;
      const got = await details(client, expected.flagKey, expected.value, context);
      if (expected.reason === 'FLAG_NOT_FOUND') {
        assert.equal(got.errorCode, 'FLAG_NOT_FOUND', what);
        assert.equal(got.reason, 'ERROR', what);
        assert.equal(got.value, false, what);
      } else {
        assert.equal(got.errorCode, undefined, `${what}: ${got.errorMessage}`);
        assert.deepEqual(got.value, expected.value, what);
        assert.equal(got.variant, expected.variant, what);
        assert.equal(got.reason, openFeatureReason(expected.reason), what);
        assert.deepEqual(got.flagMetadata, { pennonReason: expected.reason }, what);
      }
      calls += 1;
    }
  }
  return calls;
}

/** A flag that does not exist, a type mismatch, a missing targeting key. */
async function checkErrors(client, booleanKey) {
  const context = { targetingKey: 'user-1' };
  const missing = await client.getStringDetails('no.such.flag', 'fallback', context);
  assert.equal(missing.errorCode, 'FLAG_NOT_FOUND');
  assert.equal(missing.value, 'fallback');
  assert.equal(missing.reason, 'ERROR');
  const mismatch = await client.getStringDetails(booleanKey, 'fallback', context);
  assert.equal(mismatch.errorCode, 'TYPE_MISMATCH');
  assert.equal(mismatch.value, 'fallback');
  const number = await client.getNumberDetails(booleanKey, 7, context);
  assert.equal(number.errorCode, 'TYPE_MISMATCH');
  const noKey = await client.getBooleanDetails(booleanKey, true, { plan: 'pro' });
  assert.equal(noKey.errorCode, 'TARGETING_KEY_MISSING');
  assert.equal(noKey.value, true);
  assert.match(noKey.errorMessage, /context\.targetingKey/);
  const invalid = await client.getBooleanDetails(booleanKey, true, { targetingKey: 'u', email: 5 });
  assert.equal(invalid.errorCode, 'INVALID_CONTEXT');
}

const vectors = loadVectors();
const DANGLING = 'v2-dangling.json';

describe('the OpenFeature Node SDK against the origin', () => {
  after(async () => {
    await OpenFeature.close();
  });

  // A fresh origin per file: files reuse keys (and the origin refuses the dangling file's flags).
  for (const vector of vectors.filter((v) => v.file !== DANGLING)) {
    test(`${vector.file}: every case through get…Details`, async () => {
      const origin = await startOrigin();
      try {
        for (const segment of vector.segments ?? []) {
          await admin(origin.url, 'POST', '/segments', { ...segment, environment: vector.environment }, 201);
        }
        for (const flag of vector.flags) {
          await admin(origin.url, 'POST', '/flags', { ...flag, environment: vector.environment }, 201);
        }
        const client = await clientFor(origin.url, vector.environment);
        assert.ok((await checkVector(client, vector)) > 0);
        const boolean = vector.flags.find((f) => (f.type ?? 'boolean') === 'boolean');
        if (boolean) await checkErrors(client, boolean.key);
      } finally {
        await origin.stop();
      }
    });
  }

  test('a 429 is honoured: the provider pauses until Retry-After, then evaluates again', async () => {
    const origin = await startOrigin({ RATE_LIMIT_EVALUATE: '2/s' });
    try {
      await admin(origin.url, 'POST', '/flags', { key: 'on', environment: 'prod', enabled: true, rolloutPercentage: 100 }, 201);
      const client = await clientFor(origin.url, 'prod');
      const context = { targetingKey: 'u' };
      const answers = [];
      for (let i = 0; i < 4; i++) answers.push(await client.getBooleanDetails('on', false, context));
      assert.deepEqual(answers.slice(0, 2).map((a) => a.value), [true, true]);
      assert.equal(answers[2].errorCode, 'GENERAL');
      // Paused by the provider itself (Retry-After: 1): no request reached the origin.
      assert.equal(answers[3].errorCode, 'GENERAL');
      assert.match(answers[3].errorMessage, /paused due to TooManyRequests/);
      await new Promise((r) => setTimeout(r, 1100));
      const again = await client.getBooleanDetails('on', false, context);
      assert.equal(again.value, true, again.errorMessage);
    } finally {
      await origin.stop();
    }
  });

  test('a token in X-API-Key selects its environment', async () => {
    const origin = await startOrigin();
    try {
      await admin(origin.url, 'POST', '/flags', { key: 'on', environment: 'dev', enabled: true, rolloutPercentage: 100 }, 201);
      const { secret } = await admin(origin.url, 'POST', '/tokens', { name: 'web', role: 'client', environments: ['dev'] }, 201);
      domains += 1;
      const provider = new OFREPProvider({ baseUrl: origin.url, headers: { 'X-API-Key': secret } });
      await OpenFeature.setProviderAndWait(`pennon-${domains}`, provider);
      const client = OpenFeature.getClient(`pennon-${domains}`);
      const on = await client.getBooleanDetails('on', false, { targetingKey: 'u' });
      assert.equal(on.value, true, on.errorMessage);
      assert.equal(on.reason, 'SPLIT');
      const wrong = await clientFor(origin.url, 'prod', { 'X-API-Key': secret });
      const refused = await wrong.getBooleanDetails('on', false, { targetingKey: 'u' });
      assert.equal(refused.errorCode, 'GENERAL');
    } finally {
      await origin.stop();
    }
  });
});

// The edge is given each file as the snapshot the origin would send (the dangling file too, which
// the edge must answer as the contract says), as in tests/edge/edge.test.mjs.
describe('the OpenFeature Node SDK against the edge in workerd', () => {
  let fake;
  let edge;
  let revision = 500;

  before(async () => {
    fake = await startFakeOrigin({ environment: 'prod', revision, flags: [], segments: [] });
    edge = await startEdge({ originUrl: fake.url, ttlSeconds: 1 });
  });
  after(async () => {
    await edge?.stop();
    await fake?.stop();
    await OpenFeature.close();
  });

  for (const vector of vectors) {
    test(`${vector.file}: every case through get…Details`, async () => {
      revision += 1;
      fake.state.snapshot = {
        environment: vector.environment, revision, flags: vector.flags, segments: vector.segments ?? [],
      };
      await waitForEdgeRevision(edge.url, vector.environment, revision);
      const client = await clientFor(edge.url, vector.environment);
      assert.ok((await checkVector(client, vector)) > 0);
      const boolean = vector.flags.find((f) => (f.type ?? 'boolean') === 'boolean' && f.enabled);
      if (boolean) await checkErrors(client, boolean.key);
    });
  }
});
