// Plumbing of the browser suites: a static server on 127.0.0.1 and headless Chromium driven over
// WebDriver (chromedriver, spoken to with fetch), which loads a page and reads what it reported in
// `window.__pennon` ({fatal} or {userAgent, results: [{name, ok, error}]}).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const CHROMEDRIVER = process.env.CHROMEDRIVER_BIN ?? '/usr/bin/chromedriver';
const PAGE_TIMEOUT_MS = 120_000;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

const notFound = () => Object.assign(new Error('not found'), { code: 'ENOENT' });

/** Reads `relative` inside `dir`, refusing any path that climbs out of it. */
export async function fileIn(dir, relative) {
  const file = normalize(join(dir, relative));
  if (!file.startsWith(dir.endsWith(sep) ? dir : dir + sep)) throw notFound();
  return { body: await readFile(file), type: TYPES[extname(file)] ?? 'application/octet-stream' };
}

/**
 * Serves on 127.0.0.1 (a free port); `route(pathname)` answers {body, type} or throws (ENOENT → 404).
 * Resolves to {url, close()}.
 */
export async function serve(route) {
  const server = createServer(async (req, res) => {
    try {
      const { body, type } = await route(decodeURIComponent(new URL(req.url, 'http://localhost').pathname));
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    } catch (err) {
      const missing = err.code === 'ENOENT' || err.code === 'EISDIR';
      res.writeHead(missing ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(String(err.message));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts chromedriver and a headless Chromium session; resolves to {version, run(url), close()}. */
export async function startBrowser() {
  const port = await freePort();
  const driver = spawn(CHROMEDRIVER, [`--port=${port}`, '--allowed-ips=127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  const call = async (method, path, body) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`WebDriver ${method} ${path}: ${res.status} ${JSON.stringify(json.value)}`);
    return json.value;
  };
  const profile = mkdtempSync(join(tmpdir(), 'pennon-chromium-'));
  const stop = () => {
    driver.kill();
    rmSync(profile, { recursive: true, force: true });
  };
  let session;
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if ((await call('GET', '/status')).ready) break;
      } catch {
        // not listening yet
      }
      if (driver.exitCode !== null) throw new Error(`chromedriver exited with ${driver.exitCode}`);
      if (Date.now() > deadline) throw new Error('chromedriver did not become ready in 30 s');
      await sleep(200);
    }
    session = await call('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          browserName: 'chrome',
          'goog:chromeOptions': {
            binary: CHROMIUM,
            args: [
              '--headless',
              '--no-sandbox',
              '--disable-gpu',
              '--disable-quic',
              '--no-first-run',
              '--disable-background-networking',
              '--disable-component-update',
              '--disable-sync',
              '--disable-dev-shm-usage',
              `--user-data-dir=${profile}`,
            ],
          },
        },
      },
    });
  } catch (err) {
    stop();
    throw err;
  }
  const id = session.sessionId;
  return {
    version: session.capabilities.browserVersion,
    /** Loads `url` and waits for the page's report. */
    async run(url) {
      await call('POST', `/session/${id}/url`, { url });
      const deadline = Date.now() + PAGE_TIMEOUT_MS;
      for (;;) {
        const report = await call('POST', `/session/${id}/execute/sync`, {
          script: 'return window.__pennon ?? null',
          args: [],
        });
        if (report !== null) return report;
        if (Date.now() > deadline) throw new Error(`${url} reported nothing in ${PAGE_TIMEOUT_MS / 1000} s`);
        await sleep(100);
      }
    },
    async close() {
      try {
        await call('DELETE', `/session/${id}`);
      } finally {
        stop();
      }
    },
  };
}

/** Turns a page's report into one test per check, under the test context `t`. */
export async function reportChecks(t, assert, browser, report) {
  assert.equal(report.fatal, undefined, `the page failed: ${report.fatal}`);
  assert.ok(report.results.length > 0, 'the page ran no check');
  t.diagnostic(`Chromium ${browser.version}: ${report.results.length} checks`);
  for (const result of report.results) {
    await t.test(result.name, () => assert.ok(result.ok, result.error));
  }
}
