// What the console's browser tests share: a page that records everything that must not happen
// (a request to another host, a page error, a console error other than an API status), the
// sign-in from the keyboard, screenshots, and the check for Content-Security-Policy violations.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const CONSOLE = join(dirname(fileURLToPath(import.meta.url)), '..');
const ROOT = join(CONSOLE, '..');
/** The origin binary the tests start: `ORIGIN_BIN`, else the workspace's debug build. */
export const BINARY = resolve(process.env.ORIGIN_BIN ?? join(ROOT, 'target', 'debug', 'origin'));
/** Where screenshots go: `CONSOLE_SCREENSHOTS`, else docs/console/. */
export const SHOTS = process.env.CONSOLE_SCREENSHOTS ?? join(ROOT, 'docs', 'console');

/** Headless Chromium: Debian's, or `CHROMIUM_BIN`. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

/** src/form/model.ts as a module (it imports types only, so transpiling is all it needs). */
export async function loadModel() {
  const ts = createRequire(join(CONSOLE, 'package.json'))('typescript');
  const source = readFileSync(join(CONSOLE, 'src', 'form', 'model.ts'), 'utf8');
  const out = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } });
  const file = join(mkdtempSync(join(tmpdir(), 'pennon-model-')), 'model.mjs');
  writeFileSync(file, out.outputText);
  return import(pathToFileURL(file).href);
}

/** `get()` answers `{browser, origin, shots}` once the test file's `before` has made them. */
export function pageTools(get) {
  /** Everything a page reported that must not happen: other hosts, errors, CSP violations. */
  const problems = [];

  async function newPage(viewport = { width: 1280, height: 860 }, target = get().origin) {
    const context = await get().browser.newContext({ viewport });
    const page = await context.newPage();
    const host = new URL(target.url).host;
    page.on('request', (req) => {
      const url = new URL(req.url());
      if (url.protocol !== 'data:' && url.host !== host) problems.push(`request to another host: ${req.url()}`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !/status of (400|401|403|404|409)/.test(msg.text())) problems.push(`console error: ${msg.text()}`);
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (e) => {
        (window.__cspViolations ??= []).push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    return { context, page };
  }

  async function shot(page, name, { fullPage = true } = {}) {
    const { shots } = get();
    mkdirSync(shots, { recursive: true });
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
  }

  /** Signs in from the keyboard: the token field, then Enter. */
  async function signIn(page, token, target = get().origin) {
    await page.goto(target.url);
    await page.getByLabel('Token').focus();
    await page.keyboard.type(token);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
  }

  /**
   * Whether the element gets the focus within 2 s. A view moves the focus in an effect, which
   * Preact runs after the paint, so a check made the moment the element shows can come first.
   */
  async function focused(locator) {
    const handle = await locator.elementHandle();
    return locator
      .page()
      .waitForFunction((el) => el === document.activeElement, handle, { timeout: 2000 })
      .then(() => true, () => false);
  }

  async function noViolations(page) {
    const violations = await page.evaluate(() => window.__cspViolations ?? []);
    assert.deepEqual(violations, [], 'Content-Security-Policy violations');
  }

  return { problems, newPage, shot, signIn, noViolations, focused };
}

/** Waits for a settled impact preview (no run pending) whose headline matches, and returns it. */
export async function previewSettled(page, pattern) {
  const preview = page.locator('section.preview');
  await page
    .waitForFunction(
      ([source, flags]) => {
        const el = document.querySelector('.impact-summary');
        return el && !document.querySelector('.impact .stale') && new RegExp(source, flags).test(el.textContent ?? '');
      },
      [pattern.source, pattern.flags],
      { timeout: 15_000 },
    )
    .catch(async (err) => {
      throw new Error(`no preview matching ${pattern}; the preview reads:\n${(await preview.count()) ? await preview.innerText() : '(none)'}`, { cause: err });
    });
  return page.locator('.impact-summary').innerText();
}
