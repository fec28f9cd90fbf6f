// Runs the golden vectors and the bad-input checks in headless Chromium, against the package's
// browser build loaded by <script type="module"> from a page on localhost, driven over WebDriver
// (chromedriver, spoken to with fetch). Each case the page ran becomes a test here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, sep } from 'node:path';
import { installPackage, loadVectors } from './scratch.mjs';

const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const CHROMEDRIVER = process.env.CHROMEDRIVER_BIN ?? '/usr/bin/chromedriver';
const PAGE_TIMEOUT_MS = 120_000;

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
};

/** Serves the page, the shared checks, the vectors and the installed package on 127.0.0.1. */
async function startServer(packageDir) {
  const here = new URL('.', import.meta.url);
  const vectors = JSON.stringify(loadVectors());
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
      let body;
      let type;
      if (path === '/') {
        body = await readFile(new URL('browser-page.html', here));
        type = TYPES['.html'];
      } else if (path === '/cases.mjs') {
        body = await readFile(new URL('cases.mjs', here));
        type = TYPES['.mjs'];
      } else if (path === '/vectors.json') {
        body = vectors;
        type = TYPES['.json'];
      } else if (path.startsWith('/pkg/')) {
        const file = normalize(join(packageDir, path.slice('/pkg/'.length)));
        if (!file.startsWith(packageDir + sep)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
        body = await readFile(file);
        type = TYPES[extname(file)] ?? 'application/octet-stream';
      } else {
        throw Object.assign(new Error('not found'), { code: 'ENOENT' });
      }
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(body);
    } catch (err) {
      res.writeHead(err.code === 'ENOENT' || err.code === 'EISDIR' ? 404 : 500, { 'content-type': 'text/plain' });
      res.end(String(err.message));
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

async function freePort() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address();
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A chromedriver process and a WebDriver session of headless Chromium. */
async function startBrowser() {
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
  const profile = mkdtempSync(join(tmpdir(), 'pennon-chromium-'));
  let session;
  try {
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
    driver.kill();
    rmSync(profile, { recursive: true, force: true });
    throw err;
  }
  const id = session.sessionId;
  return {
    version: session.capabilities.browserVersion,
    navigate: (url) => call('POST', `/session/${id}/url`, { url }),
    execute: (script) => call('POST', `/session/${id}/execute/sync`, { script, args: [] }),
    async close() {
      try {
        await call('DELETE', `/session/${id}`);
      } finally {
        driver.kill();
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}

const scratch = installPackage();
let server;
let browser;
let report;

before(async () => {
  server = await startServer(scratch.packageDir);
  browser = await startBrowser();
  await browser.navigate(`http://127.0.0.1:${server.address().port}/`);
  const deadline = Date.now() + PAGE_TIMEOUT_MS;
  while ((report = await browser.execute('return window.__pennon ?? null')) === null) {
    if (Date.now() > deadline) throw new Error(`the page reported nothing in ${PAGE_TIMEOUT_MS / 1000} s`);
    await sleep(100);
  }
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
  scratch.remove();
});

test('Chromium loads the browser build and runs every check', async (t) => {
  assert.equal(report.fatal, undefined, `the page failed: ${report.fatal}`);
  assert.ok(report.results.length > 0, 'the page ran no check');
  t.diagnostic(`Chromium ${browser.version}: ${report.results.length} checks`);
  for (const result of report.results) {
    await t.test(result.name, () => assert.ok(result.ok, result.error));
  }
});
