// Drives @openfeature/web-sdk + @openfeature/ofrep-web-provider in headless Chromium (Debian's
// /usr/bin/chromium through playwright-core) against any OFREP base URL: the origin here, the
// edge worker later (`webHarness().open(baseUrl)`, nothing origin-specific in it).
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
