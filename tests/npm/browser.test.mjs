// Runs the golden vectors and the bad-input checks in headless Chromium, against the package's
// browser build loaded by <script type="module"> (an import map points the bare name at the installed
// package's browser.js) from a page on localhost. Each check the page ran becomes a test here.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileIn, reportChecks, serve, startBrowser } from './chromium.mjs';
import { installPackage, loadVectors } from './scratch.mjs';
import { signatureFixtures } from './signature-fixtures.mjs';

const here = new URL('.', import.meta.url);
const scratch = installPackage();
let server;
let browser;
let report;

before(async () => {
  const vectors = JSON.stringify(loadVectors());
  const signatures = JSON.stringify(signatureFixtures());
  server = await serve(async (path) => {
    if (path === '/') return { body: await readFile(new URL('browser-page.html', here)), type: 'text/html; charset=utf-8' };
    if (path === '/cases.mjs' || path === '/user-cases.mjs' || path === '/signature-cases.mjs') {
      return { body: await readFile(new URL(path.slice(1), here)), type: 'text/javascript' };
    }
    if (path === '/vectors.json') return { body: vectors, type: 'application/json' };
    if (path === '/signatures.json') return { body: signatures, type: 'application/json' };
    if (path.startsWith('/pkg/')) return fileIn(scratch.packageDir, path.slice('/pkg/'.length));
    throw Object.assign(new Error('not found'), { code: 'ENOENT' });
  });
  browser = await startBrowser();
  report = await browser.run(server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
  scratch.remove();
});

test('Chromium loads the browser build and runs every check', (t) => reportChecks(t, assert, browser, report));
