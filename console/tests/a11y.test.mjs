// Accessibility of the console in headless Chromium against a real origin (SQLite, with a context
// sample for the impact preview): axe-core (console/tests/axe.mjs: WCAG 2.0 and 2.1, A and AA)
// on every screen, on a desktop and on a phone-sized viewport, with nothing excluded: sign in
// (and its error), the flags list, a flag read by a viewer, a flag with the editor open, the impact
// preview with results, the delete-flag dialog, a new flag, the kill switch (the form, the
// confirmation, the result), the audit log, the segments list, a segment read by a viewer, a
// segment with its editor and its delete confirmation, a new segment. Any violation fails, printed
// with its rule id, impact, target selectors and help URL.
// Then the keyboard alone (no mouse click): sign in, open a flag from the list, the delete dialog
// opened and closed with Escape, the kill switch opened, cancelled and confirmed, the flag then
// off through the API; the focused element always shows an outline or a box-shadow, and the focus
// never falls to <body> when a dialog or a confirmation closes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations, formatViolations } from './axe.mjs';
import { BINARY, SHOTS, launchBrowser, pageTools } from './browser.mjs';
import { startOrigin } from './origin.mjs';

let origin;
let browser;
const { problems, newPage, signIn, noViolations } = pageTools(() => ({ browser, origin, shots: SHOTS }));

const VIEWPORTS = {
  desktop: { width: 1280, height: 860 },
  phone: { width: 390, height: 844 },
};

/** Made in `before`: tokens, flags and a segment of dev (and prod for the kill switch). */
const seed = {};

async function created(path, body) {
  const res = await origin.call('POST', path, { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

before(async () => {
  origin = await startOrigin(BINARY, { CONTEXT_SAMPLE_SIZE: '1000' });
  browser = await launchBrowser();
  seed.editor = (await created('/api/admin/tokens', { name: 'erin (editor)', role: 'editor', environments: ['dev', 'prod'] })).secret;
  seed.viewer = (await created('/api/admin/tokens', { name: 'vic (viewer)', role: 'viewer', environments: ['dev', 'prod'] })).secret;
  seed.segment = (
    await created('/api/admin/segments', {
      key: 'a11y-beta',
      environment: 'dev',
      description: 'Early access',
      include: ['u-1', 'u-2'],
      rules: [{ field: 'country', operator: 'eq', value: 'DE' }],
    })
  ).segment;
  seed.flag = (
    await created('/api/admin/flags', {
      key: 'a11y.theme',
      environment: 'dev',
      description: 'The theme of the checkout',
      enabled: true,
      type: 'string',
      variants: { red: 'red', green: 'green' },
      offVariant: 'red',
      rules: [{ segment: 'a11y-beta', serve: 'green' }],
      fallthrough: { split: [{ variant: 'red', weight: 50000 }, { variant: 'green', weight: 50000 }] },
    })
  ).flag;
  await created('/api/admin/flags', {
    key: 'a11y.needs-theme',
    environment: 'dev',
    enabled: true,
    prerequisites: [{ flag: 'a11y.theme', variants: ['green'] }],
    rolloutPercentage: 100,
  });
  for (const environment of ['dev', 'prod']) {
    seed[`kill-${environment}`] = (await created('/api/admin/flags', { key: 'a11y.kill', environment, enabled: true, rolloutPercentage: 100 })).flag;
  }
  // Users the origin samples, for the impact preview.
  const users = Array.from({ length: 40 }, (_, i) => ({ id: `user-${i}`, country: i % 3 ? 'FR' : 'DE' }));
  for (const user of users) {
    const res = await origin.call('POST', '/api/evaluate', { body: { environment: 'dev', user } });
    assert.equal(res.status, 200, res.text);
  }
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

async function scan(page, screen) {
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe: ${violations.length} violation(s) on ${screen}:\n${formatViolations(violations)}`);
}

const heading = (page, name, level = 1) => page.getByRole('heading', { name, level, exact: true });

for (const [size, viewport] of Object.entries(VIEWPORTS)) {
  test(`axe finds no WCAG 2.1 A/AA violation on any screen (${size}, ${viewport.width}×${viewport.height})`, async (t) => {
    for (const environment of ['dev', 'prod']) {
      await origin.call('PUT', `/api/admin/flags/${seed[`kill-${environment}`].id}`, { body: { enabled: true } });
    }
    const viewer = await newPage(viewport);
    const editor = await newPage(viewport);
    try {
      await t.test('sign in, and its error', async () => {
        const { page } = viewer;
        await page.goto(origin.url);
        await page.getByLabel('Token').waitFor();
        await scan(page, 'sign in');
        await page.getByLabel('Token').fill('not-a-token');
        await page.keyboard.press('Enter');
        await page.getByRole('alert').filter({ hasText: 'invalid token' }).waitFor();
        await scan(page, 'sign in refused');
      });

      await t.test('a flag read by a viewer', async () => {
        const { page } = viewer;
        await signIn(page, seed.viewer);
        await page.goto(`${origin.url}#/flag/${seed.flag.id}`);
        await heading(page, 'Definition', 2).waitFor();
        await scan(page, 'flag (viewer)');
      });

      await t.test('a segment read by a viewer', async () => {
        const { page } = viewer;
        await page.goto(`${origin.url}#/segment/${seed.segment.id}`);
        await heading(page, 'Definition', 2).waitFor();
        await page.getByRole('link', { name: 'a11y.theme' }).waitFor();
        await scan(page, 'segment (viewer)');
      });

      await t.test('the flags list', async () => {
        const { page } = editor;
        await signIn(page, seed.editor);
        await page.getByRole('link', { name: 'a11y.theme' }).waitFor();
        await scan(page, 'flags list');
      });

      await t.test('a flag with the editor open', async () => {
        const { page } = editor;
        await page.goto(`${origin.url}#/flag/${seed.flag.id}`);
        await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
        await scan(page, 'flag (editor)');
      });

      await t.test('the impact preview with results', async () => {
        const { page } = editor;
        await page.getByRole('button', { name: "Load the origin's sample" }).click();
        await page.locator('.impact-summary').filter({ hasText: /^0 of / }).waitFor();
        await page.getByLabel(/^Enabled/).uncheck();
        await page.getByRole('table', { name: 'Users who change variant' }).waitFor();
        await page.locator('.dependent').first().waitFor();
        await page.waitForFunction(() => !document.querySelector('.impact .stale'));
        await scan(page, 'impact preview');
      });

      await t.test('the delete-flag dialog', async () => {
        const { page } = editor;
        await page.reload();
        await page.getByRole('button', { name: 'Delete…' }).click();
        await page.getByRole('alertdialog').getByRole('heading', { name: 'Delete a11y.theme in dev?' }).waitFor();
        await scan(page, 'delete-flag dialog');
        await page.keyboard.press('Escape');
        await page.getByRole('alertdialog').waitFor({ state: 'hidden' });
      });

      await t.test('a new flag', async () => {
        const { page } = editor;
        await page.goto(`${origin.url}#/flags/dev/new`);
        await page.getByRole('button', { name: 'Create flag' }).waitFor();
        await scan(page, 'new flag');
      });

      await t.test('the kill switch: the form, the confirmation, the result', async () => {
        const { page } = editor;
        await page.goto(`${origin.url}#/kill?key=a11y.kill`);
        await heading(page, 'Kill switch').waitFor();
        await scan(page, 'kill switch');
        await page.getByRole('button', { name: 'Review' }).click();
        await page.getByRole('button', { name: 'Turn off in dev, prod' }).waitFor();
        await scan(page, 'kill switch confirmation');
        await page.getByRole('button', { name: 'Turn off in dev, prod' }).click();
        await heading(page, 'Turned off', 2).waitFor();
        await scan(page, 'kill switch done');
      });

      await t.test('the audit log', async () => {
        const { page } = editor;
        await page.goto(`${origin.url}#/audit`);
        await page.locator('ol.audit article').first().waitFor();
        await scan(page, 'audit log');
      });

      await t.test('the segments list', async () => {
        const { page } = editor;
        await page.goto(`${origin.url}#/segments/dev`);
        await page.getByRole('link', { name: 'a11y.theme' }).waitFor();
        await scan(page, 'segments list');
      });

      await t.test('a segment with its editor and its delete confirmation', async () => {
        const { page } = editor;
        await page.goto(`${origin.url}#/segment/${seed.segment.id}`);
        await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
        await page.getByLabel('Find in the list').fill('u-');
        await page.locator('ul.include-found li').first().waitFor();
        await scan(page, 'segment (editor)');
        await page.getByRole('button', { name: 'Delete segment…' }).click();
        await page.getByRole('button', { name: 'Delete a11y-beta' }).waitFor();
        await scan(page, 'segment delete confirmation');
      });

      await t.test('a new segment', async () => {
        const { page } = editor;
        await page.goto(`${origin.url}#/segments/dev/new`);
        await page.getByRole('button', { name: 'Create segment' }).waitFor();
        await scan(page, 'new segment');
      });

      await t.test('no request to another host, no page error, no CSP violation', async () => {
        await noViolations(viewer.page);
        await noViolations(editor.page);
        assert.deepEqual(problems, []);
      });
    } finally {
      await viewer.context.close();
      await editor.context.close();
    }
  });
}

/** The focused element: whether it is <body>, and whether it shows an outline or a box-shadow. */
async function focusOf(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body || el === document.documentElement) return { body: true, visible: false, name: '<body>' };
    const style = getComputedStyle(el);
    const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
    const shadow = style.boxShadow !== 'none' && style.boxShadow !== '';
    const name = (el.getAttribute('aria-label') || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60);
    return { body: false, visible: outline || shadow, name: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${name}"` };
  });
}

async function assertVisibleFocus(page, where) {
  const focus = await focusOf(page);
  assert.ok(!focus.body, `${where}: the focus fell to <body>`);
  assert.ok(focus.visible, `${where}: ${focus.name} has the focus but shows no outline or box-shadow`);
  return focus;
}

/** Presses Tab (Shift+Tab with `back`) until the focused element's name matches; the focus must show at every step. */
async function tabTo(page, pattern, { back = false, max = 40 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const focus = await assertVisibleFocus(page, `after ${i + 1} ${back ? 'Shift+Tab' : 'Tab'}`);
    if (pattern.test(focus.name)) return focus;
  }
  throw new Error(`no element matching ${pattern} within ${max} presses of ${back ? 'Shift+Tab' : 'Tab'}`);
}

/** Waits until the focused element's name matches, then checks that the focus shows. */
async function focusReaches(page, pattern, where) {
  await page
    .waitForFunction(
      ([source]) => {
        const el = document.activeElement;
        if (!el || el === document.body) return false;
        return new RegExp(source).test(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''} "${(el.getAttribute('aria-label') || el.textContent || '').trim().replace(/\s+/g, ' ').slice(0, 60)}"`);
      },
      [pattern.source],
      { timeout: 3000 },
    )
    .catch(async () => assert.fail(`${where}: the focus is on ${(await focusOf(page)).name}, not ${pattern}`));
  return assertVisibleFocus(page, where);
}

test('from the keyboard alone: sign in, open a flag, the delete dialog, the kill switch cancelled then confirmed', async () => {
  const flag = (await created('/api/admin/flags', { key: 'kb.flag', environment: 'dev', enabled: true, rolloutPercentage: 100 })).flag;
  const { context, page } = await newPage();
  try {
    await page.goto(origin.url);
    await page.getByLabel('Token').waitFor();
    await tabTo(page, /^input#token/);
    await page.keyboard.type(seed.editor);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Sign out' }).waitFor();
    await focusReaches(page, /^h1#page-title "Flags in dev"/, 'signed in');
    await page.getByRole('link', { name: 'kb.flag' }).waitFor();

    await tabTo(page, /^a "kb\.flag"/);
    await page.keyboard.press('Enter');
    await focusReaches(page, /^h1#page-title "kb\.flag"/, 'the flag page');

    // The delete dialog: its confirmation gets the focus; Escape closes it and gives the focus back.
    await tabTo(page, /^button "Delete…"/);
    await page.keyboard.press('Enter');
    await focusReaches(page, /^button "Delete kb\.flag"/, 'the delete dialog');
    await page.keyboard.press('Escape');
    await page.getByRole('alertdialog').waitFor({ state: 'hidden' });
    await focusReaches(page, /^button "Delete…"/, 'the delete dialog closed');

    await tabTo(page, /^a "Kill switch…"/, { back: true });
    await page.keyboard.press('Enter');
    await focusReaches(page, /^h1#page-title "Kill switch"/, 'the kill switch');
    assert.equal(await page.getByLabel('Flag key').inputValue(), 'kb.flag');
    await tabTo(page, /^button "Review"/);
    await page.keyboard.press(' ');
    await focusReaches(page, /^button "Turn off in dev"/, 'the confirmation');
    // Cancelled: the focus goes back to Review, not to <body>.
    await tabTo(page, /^button "Cancel"/);
    await page.keyboard.press('Enter');
    await page.getByRole('alertdialog').waitFor({ state: 'detached' });
    await focusReaches(page, /^button "Review"/, 'the confirmation cancelled');
    assert.equal((await origin.call('GET', `/api/admin/flags/${flag.id}`)).body.flag.enabled, true, 'cancelled: still on');
    await page.keyboard.press('Enter');
    await focusReaches(page, /^button "Turn off in dev"/, 'the confirmation again');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Turned off' }).waitFor();
    await focusReaches(page, /"Turned off/, 'turned off');
    assert.equal((await origin.call('GET', `/api/admin/flags/${flag.id}`)).body.flag.enabled, false, 'the flag is off');
    // On from there: the link to the flag is the next stop.
    await tabTo(page, /^a "kb\.flag in dev"/);
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('from the keyboard: a confirmation or a notice that goes away gives the focus back, never to <body>', async () => {
  const flag = (await created('/api/admin/flags', { key: 'kb.conflict', environment: 'dev' })).flag;
  const { context, page } = await newPage();
  try {
    await signIn(page, seed.editor);
    // The segment's delete confirmation: Escape, then Cancel, each back to the button that opened it.
    await page.goto(`${origin.url}#/segment/${seed.segment.id}`);
    await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
    await page.getByRole('heading', { name: 'a11y-beta', level: 1 }).focus();
    await tabTo(page, /^button "Delete segment…"/);
    await page.keyboard.press('Enter');
    await focusReaches(page, /^button "Delete a11y-beta"/, 'the segment delete confirmation');
    await page.keyboard.press('Escape');
    await focusReaches(page, /^button "Delete segment…"/, 'the confirmation closed with Escape');
    await page.keyboard.press('Enter');
    await focusReaches(page, /^button "Delete a11y-beta"/, 'the confirmation again');
    await tabTo(page, /^button "Cancel"/);
    await page.keyboard.press('Enter');
    await focusReaches(page, /^button "Delete segment…"/, 'the confirmation cancelled');
    assert.equal((await origin.call('GET', `/api/admin/segments/${seed.segment.id}`)).status, 200);

    // A conflict notice: choosing a way on gives the focus to Save.
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
    const write = await origin.call('PUT', `/api/admin/flags/${flag.id}`, { body: { description: 'elsewhere' }, ifMatch: 1 });
    assert.equal(write.status, 200, write.text);
    await page.getByRole('heading', { name: 'kb.conflict', level: 1 }).focus();
    await tabTo(page, /^input#flag-description/);
    await page.keyboard.type('mine');
    await page.keyboard.press('Enter');
    await page.getByRole('alert').filter({ hasText: 'since you opened it' }).waitFor();
    await tabTo(page, /^button "Keep my edit/);
    await page.keyboard.press('Enter');
    await focusReaches(page, /^button "Save"/, 'the conflict notice closed');
    await page.keyboard.press('Enter');
    await page.getByText('Saved: version 3.').waitFor();
    assert.equal((await origin.call('GET', `/api/admin/flags/${flag.id}`)).body.flag.description, 'mine');
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
