// The OFREP web provider in headless Chromium against the edge worker in workerd (run by
// scripts/test-edge, which builds the worker): golden vectors through @openfeature/web-sdk's typed
// get…Details, then a change made through the origin's admin API reaching the page by polling (the
// edge has no change stream: its clients revalidate the bulk answer with If-None-Match, and an
// unchanged one is a 304).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startEdge } from '../edge/harness.mjs';
import {
  admin, contextOf, EDGE_TOKEN, loadVectorIntoOrigin, loadVectors, ms, originProcess, sleep, stats,
} from './harness.mjs';
import { checkVectorCases, webHarness } from './web/harness.mjs';

const EDGE_VECTORS = ['docs-examples.json', 'v2-variants.json'];
const POLL_MS = 250;

/**
 * `startEdge`, again when workerd could not bind: the harness picks a free port and workerd binds it
 * a moment later, and Chromium's connections can take it in between ("Address already in use").
 */
async function edgeOn(originUrl, ttlSeconds) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startEdge({ originUrl, ttlSeconds, edgeToken: EDGE_TOKEN });
    } catch (err) {
      if (attempt === 3 || !/Address already in use/.test(String(err?.message ?? err))) throw err;
    }
  }
}

let web;
before(async () => {
  web = await webHarness();
});
after(async () => {
  await web?.close();
});

describe('golden vectors through the web SDK and the OFREP web provider, at the edge', () => {
  for (const vector of loadVectors().filter((v) => EDGE_VECTORS.includes(v.file))) {
    test(vector.file, async (t) => {
      const origin = await originProcess().start();
      let edge;
      try {
        await loadVectorIntoOrigin(origin.url, vector);
        edge = await edgeOn(origin.url, 1);
        const cases = vector.cases.filter((c) => contextOf(c.request.user) !== undefined);
        const page = await web.open(edge.url, {
          environment: vector.environment, context: contextOf(cases[0].request.user), pollIntervalMs: 60_000,
        });
        try {
          await checkVectorCases(t, page, cases);
        } finally {
          await page.close();
        }
      } finally {
        await edge?.stop();
        await origin.kill();
      }
    });
  }
});

describe('a change made through the admin API reaches a page on the edge by polling', () => {
  test('5 writes, timed from the admin answer to the page serving the value; unchanged polls are 304', async (t) => {
    const origin = await originProcess().start();
    let edge;
    try {
      const { flag } = await admin(origin.url, 'POST', '/flags', { key: 'web.flag', environment: 'prod', enabled: false, rolloutPercentage: 100 }, 201);
      edge = await edgeOn(origin.url, 1);
      const page = await web.open(edge.url, { environment: 'prod', context: { targetingKey: 'user-1' }, pollIntervalMs: POLL_MS });
      try {
        const [first] = await page.details([['Boolean', 'web.flag', true]]);
        assert.equal(first.value, false);
        // Nothing changes for a while: the polls are answered 304 by the edge.
        await sleep(POLL_MS * 4);
        const bulk = (r) => new URL(r.url).pathname === '/ofrep/v1/evaluate/flags';
        assert.ok(page.responses.filter(bulk).some((r) => r.status === 304), JSON.stringify(page.responses));
        const latencies = [];
        for (let i = 1; i <= 5; i++) {
          const value = i % 2 === 1;
          await page.arm('web.flag', value);
          await admin(origin.url, 'PUT', `/flags/${flag.id}`, { enabled: value }, 200);
          const answered = performance.timeOrigin + performance.now();
          const seen = await page.waitArmed(10_000);
          assert.notEqual(seen, null, `write ${i} did not reach the page in 10 s`);
          latencies.push(Math.max(0, seen - answered));
        }
        assert.ok(!page.requests.some((u) => new URL(u).pathname === '/api/stream'), 'no stream at the edge');
        const s = stats(latencies);
        const line = `web provider at the edge (Chromium ${web.version}, poll ${POLL_MS} ms, edge TTL 1 s): 5 writes; from the answer: median ${ms(s.median)}, max ${ms(s.max)}`;
        t.diagnostic(line);
        console.log(`# latency ${line}`);
        // The edge's TTL plus one poll, with slack for a loaded machine.
        assert.ok(s.max <= 1000 + POLL_MS + 2500, `max ${s.max} ms`);
      } finally {
        await page.close();
      }
    } finally {
      await edge?.stop();
      await origin.kill();
    }
  });
  test('no page error', () => assert.deepEqual(web.errors, []));
});
