// The console in headless Chromium (Debian's /usr/bin/chromium through playwright-core) against a
// real origin on SQLite, through the screens a person uses: sign in, create a string flag with
// three variants and a split (and an object flag), the server's 400 shown next to the field it
// names, a good edit, a user tried in the page (compared with the origin's answer), an If-Match
// conflict from a parallel API write, the list with usage, the kill switch, the audit diff, a
// phone-sized screen, a viewer and an editor of one environment, the sign-in and the kill switch's
// confirmation from the keyboard. Every request the page makes must go to the origin, and the
// page must raise no error and no Content-Security-Policy violation. Screenshots of the main
// screens go to docs/console/ (or $CONSOLE_SCREENSHOTS).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';
import { BINARY, SHOTS, launchBrowser, pageTools } from './browser.mjs';
import { startOrigin } from './origin.mjs';

const KEY = 'checkout.theme';

let origin;
let browser;
/** Evaluations of the dev flag made through the API, which its usage must count. */
let evaluations = 0;

async function evaluate(user, flags) {
  const res = await origin.call('POST', '/api/evaluate', { body: { environment: 'dev', user, ...(flags ? { flags } : {}) } });
  assert.equal(res.status, 200, res.text);
  evaluations++;
  return res.body.results;
}
const { problems, newPage, shot, signIn, noViolations, focused } = pageTools(() => ({ browser, origin, shots: SHOTS }));

async function token(name, role, environments) {
  const res = await origin.call('POST', '/api/admin/tokens', { body: { name, role, environments } });
  assert.equal(res.status, 201, res.text);
  return res.body.secret;
}

async function flagByKey(environment) {
  const res = await origin.call('GET', `/api/admin/flags?environment=${environment}&key=${KEY}`);
  assert.equal(res.status, 200, res.text);
  return res.body.flags[0];
}

before(async () => {
  origin = await startOrigin(BINARY);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

test('the origin serves the console with its headers', async () => {
  const page = await fetch(origin.url);
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  assert.equal(page.headers.get('cache-control'), 'no-cache');
  assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  const csp = page.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
  const html = await page.text();
  const script = /src="(\/assets\/index-[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(script, html);
  const asset = await fetch(new URL(script, origin.url));
  assert.equal(asset.status, 200);
  assert.equal(asset.headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  const unknown = await fetch(new URL('/flags/prod', origin.url));
  assert.equal(unknown.status, 404);
  assert.deepEqual(await unknown.json(), { error: 'no such endpoint' });
});

test('an admin creates, edits, tries, and sees a conflict, the list, the kill switch and the audit', async (t) => {
  const { context, page } = await newPage();
  try {
    await t.test('a wrong token is refused; the admin token signs in and shows its role', async () => {
      await page.goto(origin.url);
      await shot(page, 'sign-in');
      await page.getByLabel('Token').fill('not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'invalid token' }).waitFor();
      await page.getByLabel('Token').fill((await import('./origin.mjs')).ADMIN_TOKEN);
      await page.getByRole('button', { name: 'Sign in' }).click();
      const who = page.getByLabel('Signed in as');
      await who.waitFor();
      assert.match(await who.innerText(), /admin · admin · dev, staging, prod/);
      await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
      assert.ok(await page.evaluate(() => sessionStorage.getItem('pennon.token')));
    });

    await t.test('creates a string flag with three variants and a split', async () => {
      await page.getByRole('link', { name: 'New flag' }).click();
      // The server's 400 on the key is shown under the key.
      await page.getByLabel('Key').fill('no spaces allowed');
      await page.getByRole('button', { name: 'Create flag' }).click();
      await page.locator('#key-error').waitFor();
      assert.match(await page.locator('#key-error').innerText(), /^key: /);
      assert.equal(await page.locator('#new-definition-error').count(), 0);
      await page.getByLabel('Key').fill(KEY);
      await page.getByLabel('Template').selectOption('string');
      await shot(page, 'new-flag');
      await page.getByRole('button', { name: 'Create flag' }).click();
      await page.getByRole('heading', { name: KEY, level: 1 }).waitFor();
      const flag = await flagByKey('dev');
      assert.equal(flag.type, 'string');
      assert.deepEqual(Object.keys(flag.variants), ['blue', 'green', 'red']);
      assert.deepEqual(
        flag.fallthrough.split.map((s) => s.weight),
        [34000, 33000, 33000],
      );
    });

    await t.test('creates an object flag from its template in another environment', async () => {
      await page.goto(`${origin.url}#/flags/staging/new`);
      await page.getByLabel('Key').fill('layout.cards');
      assert.equal(await page.getByLabel('Environment').inputValue(), 'staging');
      await page.getByLabel('Template').selectOption('object');
      await page.getByRole('button', { name: 'Create flag' }).click();
      await page.getByRole('heading', { name: 'layout.cards', level: 1 }).waitFor();
      const res = await origin.call('GET', '/api/admin/flags?environment=staging&key=layout.cards');
      const [flag] = res.body.flags;
      assert.equal(flag.type, 'object');
      assert.deepEqual(flag.variants.rich, { columns: 3, images: true });
      await page.goto(`${origin.url}#/flag/${(await flagByKey('dev')).id}`);
      await page.getByRole('heading', { name: KEY, level: 1 }).waitFor();
    });

    await t.test("a bad edit shows the server's 400 next to the definition", async () => {
      // The definition edited as JSON (the structured form: form.test.mjs).
      await page.getByRole('button', { name: 'JSON', exact: true }).click();
      const editor = page.getByLabel(/^Definition/);
      const definition = JSON.parse(await editor.inputValue());
      definition.rules = [{ field: 'country', operator: 'like', value: 'DE', serve: 'blue' }];
      await editor.fill(JSON.stringify(definition, null, 2));
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const error = page.locator('#definition-error');
      await error.waitFor();
      assert.match(await error.innerText(), /^rules\[0\]\.operator: unknown operator "like"/);
      assert.equal(await editor.getAttribute('aria-invalid'), 'true');
      assert.equal((await flagByKey('dev')).version, 1, 'nothing was written');

      definition.rules = [{ field: 'country', operator: 'eq', value: 'DE', serve: 'blue' }];
      await editor.fill(JSON.stringify(definition, null, 2));
      await page.getByLabel(/^Enabled/).check();
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 2.').waitFor();
      const flag = await flagByKey('dev');
      assert.equal(flag.version, 2);
      assert.equal(flag.enabled, true);
      assert.deepEqual(flag.rules, definition.rules);
    });

    await t.test('a user is decided in the page as the origin decides it', async () => {
      for (const user of [{ id: 'u-1', country: 'DE' }, { id: 'u-2', country: 'FR' }, { id: 'u-3' }]) {
        await page.getByLabel(/^User \(JSON\)/).fill(JSON.stringify(user));
        await page.getByRole('button', { name: 'Evaluate' }).click();
        const outcome = page.locator('.outcome');
        await outcome.waitFor();
        const [expected] = await evaluate(user, [KEY]);
        assert.equal(await outcome.innerText(), `Serves ${expected.variant} (${JSON.stringify(expected.value)}), reason ${expected.reason}, at revision 2.`);
      }
      await shot(page, 'flag');
    });

    await t.test('an If-Match conflict from a parallel API write is shown with its diff', async () => {
      const alice = await token('alice (api)', 'editor', ['dev']);
      const flag = await flagByKey('dev');
      const write = await origin.call('PUT', `/api/admin/flags/${flag.id}`, {
        token: alice,
        body: { description: 'changed elsewhere' },
        ifMatch: flag.version,
      });
      assert.equal(write.status, 200, write.text);
      await page.getByLabel('Description').fill('my description');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const conflict = page.getByRole('alert').filter({ hasText: 'since you opened it' });
      await conflict.waitFor();
      assert.match(await conflict.innerText(), /Changed by alice \(api\) since you opened it/);
      const diff = await page.getByLabel('Changes since you opened it').innerText();
      assert.match(diff, /^- {3}"description": "",$/m);
      assert.match(diff, /^\+ {3}"description": "changed elsewhere",$/m);
      assert.match(diff, /^\+ {3}"version": 3,$/m);
      assert.ok(diff.indexOf('-   "description"') < diff.indexOf('+   "description"'), 'what was removed comes first');
      assert.equal((await flagByKey('dev')).description, 'changed elsewhere', 'the page wrote nothing');
      await shot(page, 'conflict');
      assert.ok(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled(), 'no save while the conflict is open');
      // Keeping the edit saves it over the stored version, with that version's If-Match.
      await page.getByRole('button', { name: 'Keep my edit (save it over version 3)' }).click();
      assert.equal(await page.getByLabel('Description').inputValue(), 'my description');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 4.').waitFor();
      assert.equal((await flagByKey('dev')).description, 'my description');
      // A second parallel write, and this time the edit is discarded.
      const again = await origin.call('PUT', `/api/admin/flags/${flag.id}`, {
        token: alice,
        body: { description: 'changed elsewhere' },
        ifMatch: 4,
      });
      assert.equal(again.status, 200, again.text);
      await page.getByLabel('Description').fill('mine again');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByRole('alert').filter({ hasText: 'since you opened it' }).waitFor();
      await page.getByRole('button', { name: 'Discard my edit, load version 5' }).click();
      assert.equal(await page.getByLabel('Description').inputValue(), 'changed elsewhere');
      assert.equal((await flagByKey('dev')).version, 5);
    });

    await t.test('the list is searchable and shows state, type, last change and usage', async () => {
      for (let i = 0; i < 5; i++) {
        await evaluate({ id: `n-${i}`, country: 'DE' });
      }
      const other = await origin.call('POST', '/api/admin/flags', { body: { key: 'search.other', environment: 'dev' } });
      assert.equal(other.status, 201, other.text);
      // Usage is written in batches every second (USAGE_FLUSH_SECONDS=1).
      await new Promise((r) => setTimeout(r, 2500));
      await page.getByRole('link', { name: 'Flags', exact: true }).click();
      await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
      await page.getByText('2 of 2 flags').waitFor();
      await page.getByLabel('Search flags').fill('checkout');
      await page.getByText('1 of 2 flags').waitFor();
      const row = page.getByRole('row').filter({ has: page.getByRole('link', { name: KEY }) });
      const cells = await row.getByRole('cell').allInnerTexts();
      assert.equal(cells[0], 'on');
      assert.equal(cells[1], 'string');
      assert.match(cells[2], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      assert.equal(cells[3], String(evaluations));
      assert.equal(evaluations, 8);
      assert.match(cells[4], /UTC$/);
      await page.getByLabel('Search flags').fill('');
      await shot(page, 'flags');
    });

    await t.test('the kill switch names the environments and turns the key off in all', async () => {
      const prod = await origin.call('POST', '/api/admin/flags', {
        body: { key: KEY, environment: 'prod', enabled: true, type: 'string', variants: { a: 'a', b: 'b' }, offVariant: 'a', fallthrough: 'b' },
      });
      assert.equal(prod.status, 201, prod.text);
      await page.getByRole('link', { name: KEY }).click();
      await page.getByRole('link', { name: 'Kill switch…' }).click();
      assert.equal(await page.getByLabel('Flag key').inputValue(), KEY);
      await page.getByRole('button', { name: 'Review' }).click();
      const dialog = page.getByRole('alertdialog');
      await dialog.getByRole('heading', { name: `Turn off ${KEY} in dev, prod?` }).waitFor();
      const confirm = dialog.getByRole('button', { name: 'Turn off in dev, prod' });
      assert.ok(await focused(confirm), 'the confirmation has the focus');
      await confirm.click();
      await page.getByRole('status').getByRole('heading', { name: 'Turned off' }).waitFor();
      assert.equal((await flagByKey('dev')).enabled, false);
      assert.equal((await flagByKey('prod')).enabled, false);
    });

    await t.test('the audit log of the flag shows each change as a diff', async () => {
      const flag = await flagByKey('dev');
      await page.getByRole('link', { name: `${KEY} in dev` }).click();
      await page.getByRole('heading', { name: KEY, level: 1 }).waitFor();
      await page.getByRole('main').getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      await page.locator(`#audit-flag option[value="${flag.id}"]`).waitFor({ state: 'attached' });
      assert.equal(await page.getByLabel('Flag', { exact: true }).inputValue(), flag.id);
      const entries = page.locator('ol.audit article');
      await entries.first().waitFor();
      const actions = await page.locator('ol.audit .action').allInnerTexts();
      assert.deepEqual(actions, ['KILL_SWITCH', 'UPDATE_FLAG', 'UPDATE_FLAG', 'UPDATE_FLAG', 'UPDATE_FLAG', 'CREATE_FLAG']);
      const kill = await page.getByLabel('Before and after of KILL_SWITCH').innerText();
      assert.match(kill, /^- {3}"enabled": true,$/m);
      assert.match(kill, /^\+ {3}"enabled": false,$/m);
      assert.match(await entries.nth(1).innerText(), /by alice \(api\)/);
      assert.match(await entries.nth(2).innerText(), /by admin/);
      const mine = await page.getByLabel('Before and after of UPDATE_FLAG').nth(1).innerText();
      assert.match(mine, /^- {3}"description": "changed elsewhere",$/m);
      assert.match(mine, /^\+ {3}"description": "my description",$/m);
      await shot(page, 'audit', { fullPage: false });
    });

    await t.test('the page made no request to another host, no error and no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });

    await t.test('signing out forgets the token', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByLabel('Token').waitFor();
      assert.equal(await page.evaluate(() => sessionStorage.getItem('pennon.token')), null);
    });
  } finally {
    await context.close();
  }
});

test('on a phone, the list and the kill switch fit the screen', async () => {
  const { context, page } = await newPage({ width: 390, height: 844 });
  try {
    const { ADMIN_TOKEN } = await import('./origin.mjs');
    await origin.call('PUT', `/api/admin/flags/${(await flagByKey('dev')).id}`, { body: { enabled: true } });
    await signIn(page, ADMIN_TOKEN);
    await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
    const wide = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth);
    assert.equal(wide, false, 'the list scrolls sideways');
    await shot(page, 'phone-flags');
    await page.getByRole('link', { name: 'Kill switch' }).click();
    await page.getByLabel('Flag key').fill(KEY);
    await page.getByRole('button', { name: 'Review' }).click();
    const confirm = page.getByRole('button', { name: 'Turn off in dev, prod' });
    await confirm.waitFor();
    const box = await confirm.boundingBox();
    assert.ok(box && box.x >= 0 && box.x + box.width <= 390, `the confirmation is off screen: ${JSON.stringify(box)}`);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false);
    await shot(page, 'phone-kill-switch');
    // From the keyboard: the confirmation has the focus, Enter presses it.
    assert.ok(await focused(confirm), 'the confirmation has the focus');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Turned off' }).waitFor();
    assert.equal((await flagByKey('dev')).enabled, false);
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a viewer sees no edit control; an editor of dev edits only dev', async (t) => {
  const viewer = await token('vera (viewer)', 'viewer', ['dev', 'prod']);
  const editor = await token('eddie (editor, dev)', 'editor', ['dev']);
  const dev = await flagByKey('dev');
  const prod = await flagByKey('prod');

  await t.test('viewer', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, viewer);
      assert.match(await page.getByLabel('Signed in as').innerText(), /vera \(viewer\) · viewer · dev, prod/);
      await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
      await page.getByRole('link', { name: KEY }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'New flag' }).count(), 0);
      assert.equal(await page.getByRole('link', { name: /Kill switch/ }).count(), 0);
      await page.getByRole('link', { name: KEY }).click();
      await page.getByRole('heading', { name: 'Definition' }).waitFor();
      for (const control of [
        page.getByRole('button', { name: 'Save', exact: true }),
        page.getByLabel('Description'),
        page.getByRole('link', { name: /Kill switch/ }),
        page.getByRole('button', { name: /Delete/ }),
      ]) {
        assert.equal(await control.count(), 0);
      }
      // The read paths work; a hand-typed write route shows the list instead.
      await page.goto(`${origin.url}#/kill?key=${KEY}`);
      await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
      await page.goto(`${origin.url}#/flags/dev/new`);
      await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
      assert.equal(await page.getByRole('button', { name: /Create/ }).count(), 0);
      // Segments: the list, read-only for a viewer (console/tests/segments.test.mjs has the rest).
      const segment = await origin.call('POST', '/api/admin/segments', {
        body: { key: 'beta-customers', environment: 'dev', description: 'Early access', include: ['u-1', 'u-2'], rules: [{ field: 'country', operator: 'eq', value: 'DE' }] },
      });
      assert.equal(segment.status, 201, segment.text);
      await page.getByRole('link', { name: 'Segments' }).click();
      await page.getByRole('heading', { name: 'Segments in dev' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: 'beta-customers' });
      await row.getByRole('cell').nth(2).filter({ hasText: 'no flag' }).waitFor();
      assert.deepEqual(await row.getByRole('cell').allInnerTexts(), ['2', '1', 'no flag', await row.getByRole('cell').nth(3).innerText()]);
      assert.match(await row.innerText(), /Early access/);
      await page.goto(`${origin.url}#/flags/dev`);
      await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
      await shot(page, 'viewer');
      await noViolations(page);
    } finally {
      await context.close();
    }
  });

  await t.test('editor of dev', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, editor);
      const tabs = await page.getByRole('navigation', { name: 'Environments' }).getByRole('link').allInnerTexts();
      assert.deepEqual(tabs, ['dev']);
      await page.getByRole('link', { name: 'New flag' }).waitFor();
      await page.goto(`${origin.url}#/flag/${dev.id}`);
      await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
      await page.goto(`${origin.url}#/flag/${prod.id}`);
      await page.getByRole('alert').filter({ hasText: 'cannot act in the environment prod' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Save', exact: true }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /Delete/ }).count(), 0);
    } finally {
      await context.close();
    }
  });
  assert.deepEqual(problems, []);
});

test('deleting a flag: refused while other flags need it (linked), refused on a stale version, then deleted', async (t) => {
  const { ADMIN_TOKEN } = await import('./origin.mjs');
  const make = async (body) => {
    const res = await origin.call('POST', '/api/admin/flags', { body: { environment: 'dev', ...body } });
    assert.equal(res.status, 201, res.text);
    return res.body.flag;
  };
  const base = await make({ key: 'delete.base', enabled: true, rolloutPercentage: 50 });
  const needsA = await make({ key: 'delete.needs-a', enabled: true, prerequisites: [{ flag: 'delete.base', variants: ['on'] }], rolloutPercentage: 100 });
  const needsB = await make({ key: 'delete.needs-b', prerequisites: [{ flag: 'delete.base', variants: ['off'] }] });
  const leaf = await make({ key: 'delete.leaf', enabled: true });
  const stored = async (flag) => (await origin.call('GET', `/api/admin/flags/${flag.id}`)).status;
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);

    await t.test('the confirmation names the key and the environment; the 409 names the flags that need it, linked', async () => {
      await page.goto(`${origin.url}#/flag/${base.id}`);
      await page.getByRole('heading', { name: 'delete.base', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Delete…' }).click();
      const dialog = page.getByRole('alertdialog');
      await dialog.getByRole('heading', { name: 'Delete delete.base in dev?' }).waitFor();
      assert.match(await dialog.innerText(), /answers FLAG_NOT_FOUND/);
      const confirm = dialog.getByRole('button', { name: 'Delete delete.base' });
      assert.ok(await focused(confirm), 'the confirmation has the focus');
      await page.keyboard.press('Enter');
      await dialog.getByRole('heading', { name: 'Not deleted: other flags need delete.base' }).waitFor();
      assert.match(await dialog.innerText(), /flag "delete\.base" is a prerequisite of flags: delete\.needs-a, delete\.needs-b/);
      assert.equal(await dialog.getByRole('link', { name: 'delete.needs-a' }).getAttribute('href'), `#/flag/${needsA.id}`);
      assert.equal(await dialog.getByRole('link', { name: 'delete.needs-b' }).getAttribute('href'), `#/flag/${needsB.id}`);
      assert.equal(await stored(base), 200, 'the flag is still there');
      await shot(page, 'flag-delete-refused', { fullPage: false });
      // A link leaves the page, and the modal with it.
      await dialog.getByRole('link', { name: 'delete.needs-a' }).click();
      await page.getByRole('heading', { name: 'delete.needs-a', level: 1 }).waitFor();
      assert.equal(await page.locator('dialog[open]').count(), 0);
    });

    await t.test('Escape and Cancel delete nothing; a version stored since the page opened is refused', async () => {
      await page.goto(`${origin.url}#/flag/${leaf.id}`);
      await page.getByRole('heading', { name: 'delete.leaf', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Delete…' }).click();
      await page.getByRole('alertdialog').waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('alertdialog').waitFor({ state: 'hidden' });
      await page.getByRole('button', { name: 'Delete…' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Cancel' }).click();
      await page.getByRole('alertdialog').waitFor({ state: 'hidden' });
      assert.equal(await stored(leaf), 200);
      const write = await origin.call('PUT', `/api/admin/flags/${leaf.id}`, { body: { description: 'changed elsewhere' }, ifMatch: 1 });
      assert.equal(write.status, 200, write.text);
      await page.getByRole('button', { name: 'Delete…' }).click();
      const dialog = page.getByRole('alertdialog');
      await dialog.getByRole('button', { name: 'Delete delete.leaf' }).click();
      await dialog.getByRole('heading', { name: 'Not deleted' }).waitFor();
      assert.match(await dialog.getByRole('alert').innerText(), /Reload the page to see the stored version\.$/);
      assert.equal(await stored(leaf), 200, 'nothing deleted');
      await dialog.getByRole('button', { name: 'Close' }).click();
    });

    await t.test('confirmed, the flag is deleted and the page goes back to the list without it', async () => {
      await page.reload();
      await page.getByRole('heading', { name: 'delete.leaf', level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Delete…' }).click();
      await page.getByRole('alertdialog').getByRole('button', { name: 'Delete delete.leaf' }).click();
      await page.getByRole('heading', { name: 'Flags in dev' }).waitFor();
      await page.getByRole('link', { name: 'delete.base' }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'delete.leaf' }).count(), 0);
      assert.equal(await stored(leaf), 404);
      const audit = await origin.call('GET', `/api/admin/audit?entityId=${leaf.id}&limit=1`);
      assert.equal(audit.body.entries[0].action, 'DELETE_FLAG');
    });

    await t.test('no request to another host, no error, no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});

test('the audit log pages through more than 50 entries, none missing or repeated', async () => {
  const { ADMIN_TOKEN } = await import('./origin.mjs');
  const created = await origin.call('POST', '/api/admin/flags', { body: { key: 'audit.paging', environment: 'dev' } });
  assert.equal(created.status, 201, created.text);
  const { id } = created.body.flag;
  for (let i = 1; i <= 120; i++) {
    const res = await origin.call('PUT', `/api/admin/flags/${id}`, { body: { description: `change ${i}` } });
    assert.equal(res.status, 200, res.text);
  }
  const all = await origin.call('GET', `/api/admin/audit?entityId=${id}&limit=500`);
  const expected = all.body.entries.map((e) => e.id);
  assert.equal(expected.length, 121);
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/audit?flag=${id}`);
    const shown = () => page.locator('ol.audit article').evaluateAll((els) => els.map((el) => el.getAttribute('data-entry')));
    const older = page.getByRole('button', { name: 'Older entries' });
    for (const n of [50, 100, 121]) {
      await page.locator('ol.audit article').nth(n - 1).waitFor();
      const ids = await shown();
      assert.equal(ids.length, n);
      assert.deepEqual(ids, expected.slice(0, n), `the first ${n} entries, newest first`);
      assert.equal(new Set(ids).size, n, 'no entry repeated');
      if (n < 121) await older.click();
    }
    assert.equal(await older.count(), 0, 'no older entries after the last');
    // Newest first: the last entry is the creation, the first the 120th change.
    assert.match(await page.locator('ol.audit article').first().innerText(), /change 120/);
    assert.match(await page.locator('ol.audit .action').last().innerText(), /^CREATE_FLAG$/);
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
