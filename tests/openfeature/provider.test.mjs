// @pennon/openfeature-provider, installed from its packed tarball with the real
// @openfeature/server-sdk (pinned in package-lock.json), against real origin processes: every golden
// vector through the SDK's typed get…Details calls, the error codes, a change reaching the provider
// through the change stream (timed over 50 writes, on the same origin and on a second origin over one
// PostgreSQL database), and an origin killed and restarted under a live provider.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  admin, contextOf, createPgDatabase, createToken, EDGE_TOKEN, freePort, installScratch, loadVectorIntoOrigin,
  loadVectors, ms, OPENFEATURE_REASON, originProcess, sleep, stats, typedCall,
} from './harness.mjs';

const scratch = installScratch();
const { PennonProvider, OpenFeature, ProviderEvents, ErrorCode } = await scratch.import();

let domains = 0;
/** A provider bound to a fresh domain of the SDK; resolves to {provider, client}. */
async function connect(options) {
  const provider = new PennonProvider({ maxReconnectDelayMs: 1000, ...options });
  const domain = `d${++domains}`;
  await OpenFeature.setProviderAndWait(domain, provider);
  return { provider, client: OpenFeature.getClient(domain), domain };
}

/** Resolves with the first event of `type` on `client` (its details and the time it came). */
function nextEvent(client, type, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.removeHandler(type, handler);
      reject(new Error(`no ${type} within ${timeoutMs} ms`));
    }, timeoutMs);
    function handler(details) {
      const at = performance.now();
      clearTimeout(timer);
      client.removeHandler(type, handler);
      resolve({ details, at });
    }
    client.addHandler(type, handler);
  });
}

after(async () => {
  await OpenFeature.close();
});

describe('every golden vector through the SDK', () => {
  for (const vector of loadVectors()) {
    test(vector.file, async (t) => {
      const origin = await originProcess().start();
      try {
        await loadVectorIntoOrigin(origin.url, vector);
        const token = await createToken(origin.url, 'server', [vector.environment]);
        const { client } = await connect({ url: origin.url, token, environment: vector.environment });
        let checks = 0;
        for (const c of vector.cases) {
          const context = contextOf(c.request.user);
          if (context === undefined) continue;
          await t.test(c.name, async () => {
            for (const expected of c.response.results) {
              const key = expected.flagKey;
              if (expected.reason === 'FLAG_NOT_FOUND') {
                const details = await client.getBooleanDetails(key, true, context);
                assert.equal(details.errorCode, ErrorCode.FLAG_NOT_FOUND, key);
                assert.equal(details.value, true);
                assert.equal(details.reason, 'ERROR');
              } else {
                const [type, fallback] = typedCall(expected.value);
                const details = await client[`get${type}Details`](key, fallback, context);
                assert.equal(details.errorCode, undefined, `${key}: ${details.errorMessage}`);
                assert.deepEqual(details.value, expected.value, key);
                assert.equal(details.variant, expected.variant, key);
                assert.equal(details.reason, OPENFEATURE_REASON[expected.reason], key);
                assert.deepEqual({ ...details.flagMetadata }, { pennonReason: expected.reason }, key);
              }
              checks += 1;
            }
          });
        }
        t.diagnostic(`${checks} flag answers checked`);
      } finally {
        await origin.kill();
      }
    });
  }
});

describe('errors as OpenFeature defines them', () => {
  let origin;
  let client;
  before(async () => {
    origin = await originProcess().start();
    await admin(origin.url, 'POST', '/flags', { key: 'bool', environment: 'prod', enabled: true, rolloutPercentage: 100 }, 201);
    await admin(origin.url, 'POST', '/flags', {
      key: 'theme', environment: 'prod', enabled: true, type: 'string',
      variants: { dark: 'dark', light: 'light' }, offVariant: 'light', fallthrough: 'dark',
    }, 201);
    await admin(origin.url, 'POST', '/flags', {
      key: 'nested', environment: 'prod', enabled: true, rules: [{ field: 'attributes.org.plan', operator: 'eq', value: 'pro' }],
    }, 201);
    ({ client } = await connect({ url: origin.url, token: EDGE_TOKEN, tokenHeader: 'x-edge-token' }));
  });
  after(() => origin.kill());

  const ctx = { targetingKey: 'user-1' };
  test('a flag that does not exist: FLAG_NOT_FOUND, the default', async () => {
    const details = await client.getStringDetails('nope', 'fallback', ctx);
    assert.equal(details.errorCode, ErrorCode.FLAG_NOT_FOUND);
    assert.equal(details.value, 'fallback');
    assert.equal(details.reason, 'ERROR');
    assert.match(details.errorMessage, /no flag "nope" in prod/);
  });
  test('a type mismatch: TYPE_MISMATCH, the default', async () => {
    const asNumber = await client.getNumberDetails('theme', 7, ctx);
    assert.equal(asNumber.errorCode, ErrorCode.TYPE_MISMATCH);
    assert.equal(asNumber.value, 7);
    assert.match(asNumber.errorMessage, /of type string, not number/);
    const asObject = await client.getObjectDetails('bool', { a: 1 }, ctx);
    assert.equal(asObject.errorCode, ErrorCode.TYPE_MISMATCH);
    assert.deepEqual(asObject.value, { a: 1 });
    const asBoolean = await client.getBooleanDetails('theme', false, ctx);
    assert.equal(asBoolean.errorCode, ErrorCode.TYPE_MISMATCH);
  });
  test('a missing targeting key (absent, null, ""): TARGETING_KEY_MISSING', async () => {
    for (const context of [{}, { targetingKey: null }, { targetingKey: '' }, { plan: 'pro' }]) {
      const details = await client.getBooleanDetails('bool', false, context);
      assert.equal(details.errorCode, ErrorCode.TARGETING_KEY_MISSING, JSON.stringify(context));
      assert.equal(details.value, false);
    }
  });
  test('a context OFREP refuses: INVALID_CONTEXT naming the field', async () => {
    const cases = [
      [{ targetingKey: 'u', email: 5 }, /context\.email/],
      [{ targetingKey: 'u', country: true }, /context\.country/],
    ];
    for (const [context, message] of cases) {
      const details = await client.getBooleanDetails('bool', false, context);
      assert.equal(details.errorCode, ErrorCode.INVALID_CONTEXT, JSON.stringify(context));
      assert.match(details.errorMessage, message);
    }
  });
  test('the context is mapped like OFREP: nested attributes, email, Dates as ISO strings', async () => {
    const hit = await client.getBooleanDetails('nested', false, { targetingKey: 'u', org: { plan: 'pro' }, since: new Date(0) });
    assert.equal(hit.value, true);
    assert.equal(hit.reason, 'TARGETING_MATCH');
    const miss = await client.getBooleanDetails('nested', true, { targetingKey: 'u', org: { plan: 'free' } });
    assert.equal(miss.value, false);
    assert.equal(miss.reason, 'DEFAULT');
    assert.equal(miss.variant, 'off');
  });
  test('a rollout of 100 % is a SPLIT with Pennon\'s reason in flagMetadata', async () => {
    const details = await client.getBooleanDetails('bool', false, ctx);
    assert.deepEqual(
      { value: details.value, variant: details.variant, reason: details.reason, meta: { ...details.flagMetadata } },
      { value: true, variant: 'on', reason: 'SPLIT', meta: { pennonReason: 'ROLLOUT' } },
    );
  });
});

describe('readiness', () => {
  test('no origin yet: initialize rejects, PROVIDER_NOT_READY; the origin comes up: Ready', async () => {
    const port = await freePort();
    const provider = new PennonProvider({
      url: `http://127.0.0.1:${port}`, token: EDGE_TOKEN, initTimeoutMs: 300, minReconnectDelayMs: 100, maxReconnectDelayMs: 200,
    });
    const domain = `d${++domains}`;
    const client = OpenFeature.getClient(domain);
    const errored = nextEvent(client, ProviderEvents.Error, 5000);
    await assert.rejects(OpenFeature.setProviderAndWait(domain, provider), /no snapshot of prod/);
    await errored;
    const early = await client.getBooleanDetails('bool', false, { targetingKey: 'u' });
    assert.equal(early.errorCode, ErrorCode.PROVIDER_NOT_READY);
    const origin = originProcess({ port });
    const ready = nextEvent(client, ProviderEvents.Ready, 30_000);
    await origin.start();
    try {
      await admin(origin.url, 'POST', '/flags', { key: 'bool', environment: 'prod', enabled: true, rolloutPercentage: 100 }, 201);
      await ready;
      // Ready may follow the empty set: wait for the flag itself.
      for (let i = 0; i < 100 && (await client.getBooleanValue('bool', false, { targetingKey: 'u' })) !== true; i++) await sleep(50);
      assert.equal(await client.getBooleanValue('bool', false, { targetingKey: 'u' }), true);
    } finally {
      await origin.kill();
    }
  });
  test('a token the origin refuses: initialize rejects at once with its answer', async () => {
    const origin = await originProcess().start();
    try {
      const started = performance.now();
      const provider = new PennonProvider({ url: origin.url, token: 'not-a-token', initTimeoutMs: 5000 });
      const domain = `d${++domains}`;
      await assert.rejects(OpenFeature.setProviderAndWait(domain, provider), /refused the snapshot of prod: snapshot: 401 invalid token/);
      assert.ok(performance.now() - started < 4000);
    } finally {
      await origin.kill();
    }
  });
});

/** One write: the flag's `enabled` set to `value`; resolves to when it was sent and answered. */
async function write(originUrl, id, value) {
  const sent = performance.now();
  await admin(originUrl, 'PUT', `/flags/${id}`, { enabled: value }, 200);
  return { sent, answered: performance.now() };
}

describe('a change made through the admin API reaches the provider through the stream', () => {
  test('50 writes: to the same origin, and to a provider of a second origin over PostgreSQL', async (t) => {
    const databaseUrl = createPgDatabase();
    // Periodic revalidation pushed out of the way: what is timed is the change message and the stream.
    const env = { REVALIDATE_INTERVAL_MS: '600000' };
    const a = await originProcess({ databaseUrl, env }).start();
    const b = await originProcess({ databaseUrl, env }).start();
    try {
      const { flag } = await admin(a.url, 'POST', '/flags', { key: 'latency.flag', environment: 'prod', enabled: false, rolloutPercentage: 100 }, 201);
      const token = await createToken(a.url, 'server', ['prod']);
      const same = await connect({ url: a.url, token });
      const other = await connect({ url: b.url, token });
      const ctx = { targetingKey: 'user-1' };
      assert.equal(await same.client.getBooleanValue('latency.flag', true, ctx), false);
      assert.equal(await other.client.getBooleanValue('latency.flag', true, ctx), false);
      const fromAnswer = { same: [], other: [] };
      const fromSent = { same: [], other: [] };
      let early = 0;
      for (let i = 1; i <= 50; i++) {
        const value = i % 2 === 1;
        const seen = { same: nextEvent(same.client, ProviderEvents.ConfigurationChanged), other: nextEvent(other.client, ProviderEvents.ConfigurationChanged) };
        const { sent, answered } = await write(a.url, flag.id, value);
        for (const [name, conn] of [['same', same], ['other', other]]) {
          const { details, at } = await seen[name];
          assert.deepEqual(details.flagsChanged, ['latency.flag']);
          assert.equal(await conn.client.getBooleanValue('latency.flag', !value, ctx), value, `${name}, write ${i}`);
          if (at < answered) early += 1;
          fromAnswer[name].push(Math.max(0, at - answered));
          fromSent[name].push(at - sent);
        }
        await sleep(20);
      }
      const line = (name) => {
        const s = stats(fromAnswer[name]);
        const w = stats(fromSent[name]);
        return `${name === 'same' ? 'same origin  ' : 'other origin '}: 50 writes; from the answer: median ${ms(s.median)}, p90 ${ms(s.p90)}, max ${ms(s.max)}; from the write sent: median ${ms(w.median)}, max ${ms(w.max)}`;
      };
      t.diagnostic(line('same'));
      t.diagnostic(line('other'));
      t.diagnostic(`${early} of 100 events came before the write's answer (counted as 0 ms)`);
      console.log(`# latency ${line('same')}\n# latency ${line('other')}`);
      for (const name of ['same', 'other']) {
        const s = stats(fromAnswer[name]);
        assert.ok(s.median <= 50, `${name}: median ${s.median} ms > 50 ms`);
        assert.ok(s.max <= 1000, `${name}: max ${s.max} ms > 1 s`);
      }
    } finally {
      await a.kill();
      await b.kill();
    }
  });
});

describe('an origin restart survived', () => {
  test('killed: the last snapshot keeps serving (Stale); back on the same port and store: Ready, and a change reaches it', async () => {
    const origin = await originProcess().start();
    try {
      const { flag } = await admin(origin.url, 'POST', '/flags', {
        key: 'survivor', environment: 'prod', enabled: true, type: 'string',
        variants: { a: 'before', b: 'after' }, offVariant: 'a', fallthrough: 'a',
      }, 201);
      const token = await createToken(origin.url, 'server', ['prod']);
      const { client, provider } = await connect({ url: origin.url, token, pollIntervalMs: 200, minReconnectDelayMs: 100, maxReconnectDelayMs: 300 });
      const ctx = { targetingKey: 'user-1' };
      assert.equal(await client.getStringValue('survivor', 'x', ctx), 'before');
      for (let i = 0; i < 250 && !provider.streaming; i++) await sleep(20);
      assert.equal(provider.streaming, true, 'the stream opens after the first snapshot');

      const stale = nextEvent(client, ProviderEvents.Stale);
      await origin.kill();
      const { details } = await stale;
      assert.match(details.message, /serving revision \d+: cannot reach the origin/);
      for (let i = 0; i < 5; i++) {
        const served = await client.getStringDetails('survivor', 'x', ctx);
        assert.deepEqual([served.value, served.variant, served.reason, served.errorCode], ['before', 'a', 'DEFAULT', undefined]);
        await sleep(100);
      }

      const ready = nextEvent(client, ProviderEvents.Ready, 15_000);
      await origin.start();
      await ready;
      for (let i = 0; i < 100 && !provider.streaming; i++) await sleep(50);
      assert.equal(provider.streaming, true, 'the stream is open again');
      const changed = nextEvent(client, ProviderEvents.ConfigurationChanged);
      const { answered } = await write(origin.url, flag.id, false);
      const { details: change, at } = await changed;
      assert.deepEqual(change.flagsChanged, ['survivor']);
      const after = await client.getStringDetails('survivor', 'x', ctx);
      assert.deepEqual([after.value, after.reason], ['before', 'DISABLED']);
      // And a real value change:
      const again = nextEvent(client, ProviderEvents.ConfigurationChanged);
      await admin(origin.url, 'PUT', `/flags/${flag.id}`, { enabled: true, fallthrough: 'b' }, 200);
      await again;
      assert.equal(await client.getStringValue('survivor', 'x', ctx), 'after');
      console.log(`# restart: the first change after the restart reached the provider ${ms(Math.max(0, at - answered))} after its answer`);
    } finally {
      await origin.kill();
    }
  });
});

describe('without the stream', () => {
  test('streams refused by the origin (MAX_STREAMS=0, 503): revalidation with If-None-Match carries changes, no Stale', async () => {
    const origin = await originProcess({ env: { MAX_STREAMS: '0' } }).start();
    try {
      const { flag } = await admin(origin.url, 'POST', '/flags', { key: 'polled', environment: 'prod', enabled: false, rolloutPercentage: 100 }, 201);
      const { client, provider } = await connect({ url: origin.url, token: EDGE_TOKEN, tokenHeader: 'x-edge-token', pollIntervalMs: 100 });
      let stale = 0;
      client.addHandler(ProviderEvents.Stale, () => { stale += 1; });
      client.addHandler(ProviderEvents.Error, () => { stale += 1; });
      await sleep(300);
      assert.equal(provider.streaming, false);
      const changed = nextEvent(client, ProviderEvents.ConfigurationChanged, 3000);
      const { answered } = await write(origin.url, flag.id, true);
      const { at, details } = await changed;
      assert.deepEqual(details.flagsChanged, ['polled']);
      assert.equal(await client.getBooleanValue('polled', false, { targetingKey: 'u' }), true);
      assert.ok(at - answered < 1000, `${at - answered} ms`);
      assert.equal(stale, 0, 'a refused stream is not a stale provider');
    } finally {
      await origin.kill();
    }
  });
  test('stream: false polls on the interval', async () => {
    const origin = await originProcess().start();
    try {
      const { flag } = await admin(origin.url, 'POST', '/flags', { key: 'polled', environment: 'prod', enabled: false, rolloutPercentage: 100 }, 201);
      const { client, provider } = await connect({ url: origin.url, token: EDGE_TOKEN, tokenHeader: 'x-edge-token', stream: false, pollIntervalMs: 100 });
      const changed = nextEvent(client, ProviderEvents.ConfigurationChanged, 3000);
      await write(origin.url, flag.id, true);
      await changed;
      assert.equal(provider.streaming, false);
      assert.equal(await client.getBooleanValue('polled', false, { targetingKey: 'u' }), true);
    } finally {
      await origin.kill();
    }
  });
  test('its token revoked: the stream ends, Error naming the revocation, the last snapshot keeps serving', async () => {
    const origin = await originProcess({ env: { STREAM_HEARTBEAT_SECONDS: '1' } }).start();
    try {
      await admin(origin.url, 'POST', '/flags', { key: 'kept', environment: 'prod', enabled: true, rolloutPercentage: 100 }, 201);
      const { token, secret } = await admin(origin.url, 'POST', '/tokens', { name: 'to revoke', role: 'server', environments: ['prod'] }, 201);
      const { client, provider } = await connect({ url: origin.url, token: secret, pollIntervalMs: 200 });
      for (let i = 0; i < 250 && !provider.streaming; i++) await sleep(20);
      const errored = nextEvent(client, ProviderEvents.Error, 10_000);
      await admin(origin.url, 'DELETE', `/tokens/${token.id}`, undefined, 204);
      const { details } = await errored;
      assert.match(details.message, /401 this token was revoked/);
      const served = await client.getBooleanDetails('kept', false, { targetingKey: 'u' });
      assert.deepEqual([served.value, served.reason, served.errorCode], [true, 'SPLIT', undefined]);
    } finally {
      await origin.kill();
    }
  });
});

describe('closing', () => {
  test('OpenFeature.close() ends the open stream: a process with nothing else to do exits', async () => {
    const origin = await originProcess().start();
    try {
      const file = join(scratch.dir, 'close.mjs');
      writeFileSync(file, [
        "import { OpenFeature, PennonProvider } from './entry.mjs';",
        `const provider = new PennonProvider({ url: ${JSON.stringify(origin.url)}, token: ${JSON.stringify(EDGE_TOKEN)}, tokenHeader: 'x-edge-token' });`,
        'await OpenFeature.setProviderAndWait(provider);',
        'while (!provider.streaming) await new Promise((r) => setTimeout(r, 10));',
        'await OpenFeature.close();',
        "console.log('closed', provider.streaming);",
        '',
      ].join('\n'));
      const started = performance.now();
      const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd: scratch.dir, timeout: 10_000 });
      assert.equal(stdout.trim(), 'closed false');
      assert.ok(performance.now() - started < 5000, 'exited at once, not at the idle timeout');
    } finally {
      await origin.kill();
    }
  });
});

describe("the README's example", () => {
  test('runs as written against the origin and prints what its comments say', async () => {
    const origin = await originProcess().start();
    try {
      await admin(origin.url, 'POST', '/flags', {
        key: 'new-checkout', environment: 'prod', enabled: true,
        rules: [{ field: 'country', operator: 'in', value: ['DE', 'AT'] }],
      }, 201);
      const token = await createToken(origin.url, 'server', ['prod']);
      const readme = readFileSync(join(scratch.dir, 'node_modules', '@pennon', 'openfeature-provider', 'README.md'), 'utf8');
      const code = /^## Quick start[^\n]*\n[\s\S]*?```js\n([\s\S]*?)```/m.exec(readme)?.[1];
      assert.ok(code, 'the README has a ```js block under "## Quick start"');
      assert.ok(code.includes('http://127.0.0.1:3000'));
      const expected = code.split('\n').filter((line) => /^\/\/ \{/.test(line)).map((line) => line.slice(3));
      assert.ok(expected.length >= 2, 'the example shows its output');
      const file = join(scratch.dir, 'readme.mjs');
      writeFileSync(file, code.replaceAll('http://127.0.0.1:3000', origin.url));
      const { stdout } = await promisify(execFile)(process.execPath, [file], {
        cwd: scratch.dir, env: { ...process.env, PENNON_SERVER_TOKEN: token }, timeout: 30_000,
      });
      assert.deepEqual(stdout.trimEnd().split('\n'), expected);
    } finally {
      await origin.kill();
    }
  });
});

describe('types', () => {
  test('index.d.ts compiles under tsc --strict with the real SDK', { skip: process.env.TSC ? false : 'TSC not set' }, async () => {
    const { copyFileSync } = await import('node:fs');
    copyFileSync(new URL('./types-check.ts', import.meta.url), join(scratch.dir, 'types-check.ts'));
    await promisify(execFile)(process.env.TSC, [
      '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', 'types-check.ts',
    ], { cwd: scratch.dir }).catch((err) => assert.fail(`${err.stdout}${err.stderr}`));
  });
});
