// The package through a bundler, as the README shows: a small app that imports '@pennon/evaluator' by
// name, built by Vite (from target/npm-tools, installed by scripts/test-npm, or $VITE) into static
// files, served on localhost and run in headless Chromium; the same checks as browser.test.mjs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileIn, reportChecks, serve, startBrowser } from './chromium.mjs';
import { installPackage, loadVectors, repoRoot } from './scratch.mjs';

const vite = process.env.VITE ?? join(repoRoot, 'target', 'npm-tools', 'node_modules', '.bin', 'vite');
const scratch = installPackage();
let server;
let browser;
let report;

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>@pennon/evaluator through a bundler</title>
  <script>
    window.addEventListener('error', (e) => {
      window.__pennon ??= { fatal: String(e.error?.stack ?? e.message ?? 'failed to load ' + (e.target?.src ?? e.type)) };
    }, true);
    window.addEventListener('unhandledrejection', (e) => { window.__pennon ??= { fatal: String(e.reason?.stack ?? e.reason) }; });
  </script>
  <script type="module" src="/src/main.js"></script>
</head>
<body>running…</body>
</html>
`;

const MAIN_JS = `import * as api from '@pennon/evaluator';
import { allCases } from './cases.mjs';
import vectors from './vectors.json';

const results = [];
for (const c of allCases(api, vectors)) {
  try {
    c.run();
    results.push({ name: 'bundled: ' + c.name, ok: true });
  } catch (err) {
    results.push({ name: 'bundled: ' + c.name, ok: false, error: String(err?.stack ?? err) });
  }
}
window.__pennon = { userAgent: navigator.userAgent, results };
`;

before(async () => {
  assert.ok(existsSync(vite), `Vite is not installed at ${vite} (scripts/test-npm installs it)`);
  const app = scratch.dir;
  mkdirSync(join(app, 'src'), { recursive: true });
  writeFileSync(join(app, 'index.html'), INDEX_HTML);
  writeFileSync(join(app, 'src', 'main.js'), MAIN_JS);
  for (const file of ['cases.mjs', 'user-cases.mjs']) copyFileSync(new URL(file, import.meta.url), join(app, 'src', file));
  writeFileSync(join(app, 'src', 'vectors.json'), JSON.stringify(loadVectors()));
  writeFileSync(
    join(app, 'vite.config.mjs'),
    "export default { logLevel: 'warn', build: { target: 'es2022', outDir: 'dist', emptyOutDir: true } };\n",
  );
  execFileSync(vite, ['build'], { cwd: app, stdio: ['ignore', 'inherit', 'inherit'] });
  const dist = join(app, 'dist');
  server = await serve((path) => fileIn(dist, path === '/' ? 'index.html' : path.slice(1)));
  browser = await startBrowser();
  report = await browser.run(server.url);
});

after(async () => {
  await browser?.close();
  await server?.close();
  scratch.remove();
});

test('a Vite build of an app importing @pennon/evaluator runs every check in Chromium', (t) =>
  reportChecks(t, assert, browser, report));
