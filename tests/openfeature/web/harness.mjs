// Drives @openfeature/web-sdk + @openfeature/ofrep-web-provider in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) against any OFREP base URL: the origin here, the
// edge worker later (`webHarness().open(baseUrl)`, nothing origin-specific in it).
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { contextOf, OPENFEATURE_REASON, typedCall } from '../harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

/** Bundles web/page.js (esbuild, from tests/openfeature/node_modules) into one script. */
async function bundle() {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(HERE, 'page.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    write: false,
    logLevel: 'error',
  });
  return result.outputFiles[0].text;
}

/** Serves the page on 127.0.0.1 (another origin than the API: CORS is exercised). */
async function servePage(script) {
  const html = '<!doctype html><meta charset="utf-8"><title>pennon web</title><script type="module" src="/page.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' });
      res.end(script);
    } else {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(html);
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) };
}

/** Starts Chromium with the bundled page; `open()` gives a page driving the SDK. */
export async function webHarness() {
  const { chromium } = await import('playwright-core');
  const script = await bundle();
  const site = await servePage(script);
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  const errors = [];
  return {
    version: browser.version(),
    errors,
    /**
     * A page with a provider on `baseUrl` (options: token, environment; pollIntervalMs: poll
     * instead of following the advertised stream) for `context`.
     */
    async open(baseUrl, { token, environment, context, pollIntervalMs }) {
      const page = await browser.newPage();
      const requests = [];
      const responses = [];
      page.on('pageerror', (err) => errors.push(String(err)));
      page.on('request', (req) => requests.push(req.url()));
      page.on('response', (res) => responses.push({ url: res.url(), status: res.status() }));
      await page.goto(site.url);
      await page.waitForFunction(() => window.pennonWebReady === true);
      await page.evaluate((args) => window.pennonWeb.start(args), { baseUrl, token, environment, context, pollIntervalMs });
      return {
        page,
        /** Every URL the page requested, in order (the stream's included). */
        requests,
        /** Every response the page received: { url, status }. */
        responses,
        setContext: (ctx) => page.evaluate((c) => window.pennonWeb.setContext(c), ctx),
        details: (calls) => page.evaluate((c) => window.pennonWeb.details(c), calls),
        arm: (key, value) => page.evaluate(([k, v]) => window.pennonWeb.arm(k, v), [key, value]),
        waitArmed: (ms) => page.evaluate((t) => window.pennonWeb.waitArmed(t), ms),
        close: () => page.close(),
      };
    },
    async close() {
      await browser.close();
      await site.close();
    },
  };
}

/**
 * Each golden vector case through the page's SDK, as a subtest of `t`: every result's value,
 * variant, OpenFeature reason and `pennonReason`, or `FLAG_NOT_FOUND` for a key the set lacks.
 */
export async function checkVectorCases(t, page, cases) {
  for (const c of cases) {
    await t.test(c.name, async () => {
      await page.setContext(contextOf(c.request.user));
      const calls = c.response.results.map((r) =>
        r.reason === 'FLAG_NOT_FOUND' ? ['Boolean', r.flagKey, true] : [typedCall(r.value)[0], r.flagKey, typedCall(r.value)[1]]);
      const got = await page.details(calls);
      c.response.results.forEach((expected, i) => {
        const d = got[i];
        if (expected.reason === 'FLAG_NOT_FOUND') {
          assert.equal(d.errorCode, 'FLAG_NOT_FOUND', expected.flagKey);
          return;
        }
        assert.equal(d.errorCode, undefined, expected.flagKey);
        assert.deepEqual(
          { value: d.value, variant: d.variant, reason: d.reason, pennonReason: d.flagMetadata.pennonReason },
          { value: expected.value, variant: expected.variant, reason: OPENFEATURE_REASON[expected.reason], pennonReason: expected.reason },
          expected.flagKey,
        );
      });
    });
  }
}
