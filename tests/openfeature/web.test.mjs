// OFREP from a browser: @openfeature/web-sdk + @openfeature/ofrep-web-provider (the real packages,
// pinned), bundled by esbuild into a page that headless Chromium loads, against a real origin with a
// client token: golden vectors through the SDK's typed get…Details (value, variant, reason), and a
// change made through the admin API reaching the page through the change stream the bulk answer
// advertises (EventSource on a ticket), timed. OFREP_BASE_URL is not used: the harness takes the
// base URL per page, so the same checks can run against the edge worker.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  admin, contextOf, createToken, loadVectorIntoOrigin, loadVectors, ms, originProcess, sleep, stats,
} from './harness.mjs';
import { checkVectorCases, webHarness } from './web/harness.mjs';

const WEB_VECTORS = ['docs-examples.json', 'v2-variants.json', 'v2-splits.json', 'v2-segments.json', 'flags-filter.json'];

let web;
before(async () => {
  web = await webHarness();
});
after(async () => {
  await web?.close();
});

describe('golden vectors through the web SDK and the OFREP web provider', () => {
  for (const vector of loadVectors().filter((v) => WEB_VECTORS.includes(v.file))) {
    test(vector.file, async (t) => {
      const origin = await originProcess().start();
      try {
        await loadVectorIntoOrigin(origin.url, vector);
        const token = await createToken(origin.url, 'client', [vector.environment]);
        const cases = vector.cases.filter((c) => contextOf(c.request.user) !== undefined);
        const page = await web.open(origin.url, { token, context: contextOf(cases[0].request.user) });
        try {
          await checkVectorCases(t, page, cases);
        } finally {
          await page.close();
        }
      } finally {
        await origin.kill();
      }
    });
  }
  test('no page error', () => assert.deepEqual(web.errors, []));
});

describe('a change made through the admin API reaches the page through the stream', () => {
  test('10 writes, timed from the admin answer to the page serving the value', async (t) => {
    const origin = await originProcess().start();
    try {
      const { flag } = await admin(origin.url, 'POST', '/flags', { key: 'web.flag', environment: 'prod', enabled: false, rolloutPercentage: 100 }, 201);
      const token = await createToken(origin.url, 'client', ['prod']);
      const page = await web.open(origin.url, { token, context: { targetingKey: 'user-1' } });
      try {
        const [first] = await page.details([['Boolean', 'web.flag', true]]);
        assert.equal(first.value, false);
        const latencies = [];
        for (let i = 1; i <= 10; i++) {
          const value = i % 2 === 1;
          await page.arm('web.flag', value);
          await admin(origin.url, 'PUT', `/flags/${flag.id}`, { enabled: value }, 200);
          const answered = performance.timeOrigin + performance.now();
          const seen = await page.waitArmed(5000);
          assert.notEqual(seen, null, `write ${i} did not reach the page in 5 s`);
          latencies.push(Math.max(0, seen - answered));
          await sleep(50);
        }
        const streams = page.requests.map((u) => new URL(u)).filter((u) => u.pathname === '/api/stream');
        assert.ok(streams.length >= 1, 'the page opened the advertised stream');
        assert.equal(streams[0].searchParams.get('environment'), 'prod');
        assert.match(streams[0].searchParams.get('ticket') ?? '', /^[0-9a-f-]+\.prod\.\d+\.[0-9a-f]{64}$/, 'on a ticket, not the token');
        const s = stats(latencies);
        const line = `web provider (Chromium ${web.version}): 10 writes; from the answer: median ${ms(s.median)}, max ${ms(s.max)}`;
        t.diagnostic(line);
        console.log(`# latency ${line}`);
        assert.ok(s.max <= 1000, `max ${s.max} ms > 1 s`);
      } finally {
        await page.close();
      }
    } finally {
      await origin.kill();
    }
  });
});
