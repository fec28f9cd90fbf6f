// The console used as a product manager and an on-call engineer would, in headless Chromium
// against a real origin (SQLite): the empty states (no flags, no segments, no audit entry, no
// match), 200 flags in the list with keys up to the longest allowed (the search timed in the page)
// and the same keys on a phone-sized screen (nothing scrolls sideways: the list, the flag, the
// kill switch's confirmation and result, the audit log, the delete dialog), a token revoked in the
// middle of an edit (the console asks for a token again over the page and the edit is saved after),
// the origin out of reach in the middle of an edit (a plain message, the edit kept and saved once it
// answers), and the browser's back and forward across routes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { axeViolations, formatViolations } from './axe.mjs';
import { BINARY, SHOTS, launchBrowser, pageTools } from './browser.mjs';
import { ADMIN_TOKEN, startOrigin } from './origin.mjs';

/** The longest key the origin takes: 128 characters, with no hyphen or space to break a line at. */
const LONG_KEY = `checkout.${'newPaymentProviderRollout_'.repeat(5)}`.slice(0, 128);

let origin;
let browser;
const { problems, newPage, signIn, noViolations } = pageTools(() => ({ browser, origin, shots: SHOTS }));

before(async () => {
  origin = await startOrigin(BINARY);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

async function created(path, body) {
  const res = await origin.call('POST', path, { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

async function noAxeViolation(page, screen) {
  const violations = await axeViolations(page);
  assert.equal(violations.length, 0, `axe: ${violations.length} violation(s) on ${screen}:\n${formatViolations(violations)}`);
}

/**
 * Whether anything sticks out on the right: the page scrolls sideways, or a text (a long key in a
 * heading) runs past the screen's edge, which a box that clips or scrolls would not show in its width.
 */
const sideways = (page) =>
  page.evaluate(() => {
    if (document.documentElement.scrollWidth > window.innerWidth) return 'the page scrolls sideways';
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    const range = document.createRange();
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.textContent.trim() === '' || node.parentElement?.closest('thead, .skip, option, select')) continue;
      range.selectNodeContents(node);
      for (const rect of range.getClientRects()) {
        if (rect.width > 0 && rect.right > window.innerWidth + 1) return `text past the right edge: "${node.textContent.trim().slice(0, 60)}…"`;
      }
    }
    return false;
  });

test('empty states: no flags, no segments, no audit entry, no match', async () => {
  // First in this file: the origin holds nothing yet.
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.getByText('No flags in dev yet. New flag creates one.').waitFor();
    assert.equal(await page.getByRole('table').count(), 0, 'no empty table');
    await noAxeViolation(page, 'no flags');
    await page.getByRole('link', { name: 'Segments' }).click();
    await page.getByText('No segments in dev.').waitFor();
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByText('No entries.').waitFor();
    await noAxeViolation(page, 'no audit entry');
    await created('/api/admin/flags', { key: 'empty.one', environment: 'dev' });
    await page.getByRole('link', { name: 'Flags', exact: true }).click();
    await page.getByText('1 of 1 flags').waitFor();
    await page.getByLabel('Search flags').fill('nothing-like-this');
    await page.getByText('No flag of the 1 matches "nothing-like-this".').waitFor();
    assert.equal(await page.getByRole('table').count(), 0, 'no empty table');
    await noViolations(page);
  } finally {
    await context.close();
  }
});

test('200 flags, keys of 128 characters: the search answers at once; on a phone nothing scrolls sideways', async (t) => {
  const keys = Array.from({ length: 199 }, (_, i) => `team-${String(i % 7)}.feature-${String(i).padStart(3, '0')}`);
  await Promise.all(
    keys.map((key, i) => created('/api/admin/flags', { key, environment: 'dev', description: `Feature number ${i}`, enabled: i % 2 === 0 })),
  );
  const long = (await created('/api/admin/flags', { key: LONG_KEY, environment: 'dev', enabled: true, description: 'd'.repeat(300) })).flag;
  await created('/api/admin/flags', { key: LONG_KEY, environment: 'prod', enabled: true });
  const total = (await origin.call('GET', '/api/admin/flags?environment=dev')).body.flags.length; // and the flags of the tests before

  await t.test('desktop: the list, and the search timed in the page', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, ADMIN_TOKEN);
      await page.getByText(`${total} of ${total} flags`).waitFor();
      assert.equal(await page.locator('table.flags tbody tr').count(), total);
      // One keystroke's worth: the input event to the next frame, with 201 rows filtered.
      const ms = await page.evaluate(async () => {
        const input = document.getElementById('flag-search');
        const start = performance.now();
        input.value = 'feature-19';
        input.dispatchEvent(new Event('input', { bubbles: true }));
        await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
        return performance.now() - start;
      });
      await page.getByText(`${keys.filter((k) => k.includes('feature-19')).length} of ${total} flags`).waitFor();
      t.diagnostic(`the search filtered ${total} flags and rendered in ${ms.toFixed(1)} ms`);
      assert.ok(ms < 250, `the search took ${ms.toFixed(1)} ms`);
      await page.getByLabel('Search flags').fill('FEATURE NUMBER 42');
      await page.getByText(`1 of ${total} flags`).waitFor();
      await noViolations(page);
    } finally {
      await context.close();
    }
  });

  await t.test('phone: the list, the flag, the delete dialog, the kill switch and the audit log fit the width', async () => {
    const { context, page } = await newPage({ width: 360, height: 740 });
    try {
      await signIn(page, ADMIN_TOKEN);
      await page.getByText(`${total} of ${total} flags`).waitFor();
      assert.equal(await sideways(page), false, 'the list scrolls sideways');
      await page.getByLabel('Search flags').fill('newpaymentprovider');
      await page.getByRole('link', { name: LONG_KEY }).click();
      await page.getByRole('heading', { name: LONG_KEY, level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
      assert.equal(await sideways(page), false, 'the flag page scrolls sideways');
      await page.getByRole('button', { name: 'Delete…' }).click();
      const dialog = page.getByRole('alertdialog');
      await dialog.getByRole('button', { name: `Delete ${LONG_KEY}` }).waitFor();
      const box = await dialog.boundingBox();
      assert.ok(box && box.x >= 0 && box.x + box.width <= 360, `the dialog is wider than the screen: ${JSON.stringify(box)}`);
      const button = await dialog.getByRole('button', { name: `Delete ${LONG_KEY}` }).boundingBox();
      assert.ok(button && button.x + button.width <= 360, `the delete button is off screen: ${JSON.stringify(button)}`);
      await page.keyboard.press('Escape');
      await page.getByRole('link', { name: 'Kill switch…' }).click();
      await page.getByRole('button', { name: 'Review' }).click();
      const confirm = page.getByRole('button', { name: 'Turn off in dev, prod' });
      await confirm.waitFor();
      assert.equal(await sideways(page), false, 'the confirmation scrolls sideways');
      await confirm.click();
      await page.getByRole('heading', { name: 'Turned off' }).waitFor();
      assert.equal(await sideways(page), false, 'the result scrolls sideways');
      await page.goto(`${origin.url}#/audit?flag=${long.id}`);
      await page.locator('ol.audit article').first().waitFor();
      assert.equal(await sideways(page), false, 'the audit log scrolls sideways');
      await noViolations(page);
    } finally {
      await context.close();
    }
  });
  assert.deepEqual(problems, []);
});

test('a token revoked in the middle of an edit: sign in again over the page, and the edit is saved', async () => {
  const first = await created('/api/admin/tokens', { name: 'olga (on call)', role: 'editor', environments: ['dev'] });
  const second = await created('/api/admin/tokens', { name: 'olga (new token)', role: 'editor', environments: ['dev'] });
  const flag = (await created('/api/admin/flags', { key: 'revoked.edit', environment: 'dev' })).flag;
  const { context, page } = await newPage();
  try {
    await signIn(page, first.secret);
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByLabel('Description').fill('typed before the revocation');
    assert.equal((await origin.call('DELETE', `/api/admin/tokens/${first.token.id}`)).status, 204);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const dialog = page.getByRole('alertdialog', { name: 'Sign in again' });
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /no longer accepts this tab's token/);
    await noAxeViolation(page, 'sign in again');
    // The token field has the focus; a refused token says so and the dialog stays.
    await page.keyboard.type('still-not-a-token');
    await page.keyboard.press('Enter');
    await dialog.getByRole('alert').filter({ hasText: 'refuses this token too' }).waitFor();
    await dialog.getByLabel('Token').fill(second.secret);
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    assert.match(await page.getByLabel('Signed in as').innerText(), /olga \(new token\)/);
    assert.equal(await page.getByLabel('Description').inputValue(), 'typed before the revocation', 'the edit is kept');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('pennon.token')), second.secret);
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved: version 2.').waitFor();
    assert.equal((await origin.call('GET', `/api/admin/flags/${flag.id}`)).body.flag.description, 'typed before the revocation');

    // Revoked while reading: the list that was refused loads once signed in again.
    assert.equal((await origin.call('DELETE', `/api/admin/tokens/${second.token.id}`)).status, 204);
    await page.getByRole('link', { name: 'Segments' }).click();
    await dialog.waitFor();
    await dialog.getByLabel('Token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    await page.getByText('No segments in dev.').waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'the 401 is not shown any more');

    // Sign out from the dialog: the sign-in page.
    const third = await created('/api/admin/tokens', { name: 'olga (third)', role: 'viewer', environments: ['dev'] });
    await page.getByRole('button', { name: 'Sign out' }).click();
    await signIn(page, third.secret);
    // The list loaded before the revocation: a request still in flight would get the 401 first
    // and open the dialog before the click below.
    await page.getByRole('link', { name: 'revoked.edit' }).waitFor();
    assert.equal((await origin.call('DELETE', `/api/admin/tokens/${third.token.id}`)).status, 204);
    await page.getByRole('link', { name: 'Audit log' }).click();
    await dialog.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Token').waitFor();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('pennon.token')), null);
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('a reload with a revoked token: the sign-in says so, and the same page comes back after', async () => {
  const gone = await created('/api/admin/tokens', { name: 'rita (revoked)', role: 'viewer', environments: ['dev'] });
  const flag = (await created('/api/admin/flags', { key: 'revoked.reload', environment: 'dev' })).flag;
  const { context, page } = await newPage();
  try {
    await signIn(page, gone.secret);
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByRole('heading', { name: 'revoked.reload', level: 1 }).waitFor();
    assert.equal((await origin.call('DELETE', `/api/admin/tokens/${gone.token.id}`)).status, 204);
    await page.reload();
    await page.getByRole('alert').filter({ hasText: "The origin no longer accepts this tab's token (this token was revoked): sign in again." }).waitFor();
    await page.getByLabel('Token').fill(ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'revoked.reload', level: 1 }).waitFor();
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('the origin out of reach in the middle of an edit: a plain message, the edit kept, saved once it answers', async () => {
  const flag = (await created('/api/admin/flags', { key: 'offline.edit', environment: 'dev' })).flag;
  const { context, page } = await newPage();
  const before = problems.length;
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByLabel('Description').fill('typed while the origin was away');
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const message = page.getByRole('alert').filter({ hasText: 'The origin did not answer' });
    await message.waitFor();
    assert.match(await message.innerText(), /nothing was saved\. What you typed is kept; try again once it answers\./);
    assert.equal(await page.getByLabel('Description').inputValue(), 'typed while the origin was away');
    // Once it answers, Save again: the edit kept is the one saved.
    await page.unroute('**/api/**');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.getByText('Saved: version 2.').waitFor();
    assert.equal((await origin.call('GET', `/api/admin/flags/${flag.id}`)).body.flag.description, 'typed while the origin was away');
    // A read while it is away says the same, not "TypeError: Failed to fetch"; then it works again.
    await page.getByRole('link', { name: 'Kill switch', exact: true }).click();
    await page.getByLabel('Flag key').fill('offline.edit');
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('alert').filter({ hasText: /^The origin did not answer/ }).waitFor();
    await page.unroute('**/api/**');
    await page.getByRole('button', { name: 'Review' }).click();
    await page.getByRole('button', { name: 'Turn off in dev' }).waitFor();
    // A reload while it is away: the token is kept, and Try again signs in to the same page.
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByRole('heading', { name: 'offline.edit', level: 1 }).waitFor();
    await page.route('**/api/**', (route) => route.abort('connectionrefused'));
    await page.reload();
    await page.getByRole('alert').filter({ hasText: 'The origin did not answer (it is down or out of reach). This tab keeps its token' }).waitFor();
    await noAxeViolation(page, 'the origin out of reach at sign-in');
    await page.unroute('**/api/**');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'offline.edit', level: 1 }).waitFor();
    await noViolations(page);
    // Chromium logs each refused request as a console error: those are this test's doing.
    await page.waitForTimeout(200);
  } finally {
    await context.close();
  }
  const mine = problems.splice(before).filter((p) => !/ERR_CONNECTION_REFUSED|ERR_FAILED/.test(p));
  assert.deepEqual(mine, []);
  assert.deepEqual(problems, []);
});

test("the browser's back and forward: each route shows its own page, a kill switch its own key", async () => {
  const a = (await created('/api/admin/flags', { key: 'history.a', environment: 'dev' })).flag;
  await created('/api/admin/flags', { key: 'history.b', environment: 'dev' });
  const { context, page } = await newPage();
  const h1 = (name) => page.getByRole('heading', { name, level: 1, exact: true });
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.getByLabel('Search flags').fill('history');
    await page.getByRole('link', { name: 'history.a' }).click();
    await h1('history.a').waitFor();
    await page.getByRole('link', { name: 'Kill switch…' }).click();
    await h1('Kill switch').waitFor();
    assert.equal(await page.getByLabel('Flag key').inputValue(), 'history.a');
    await page.goBack();
    await h1('history.a').waitFor();
    assert.equal(await page.title(), 'history.a · Pennon', 'the tab names the page');
    await page.goBack();
    await h1('Flags in dev').waitFor();
    assert.equal(await page.title(), 'Flags in dev · Pennon');
    await page.goForward();
    await h1('history.a').waitFor();
    await page.goForward();
    await h1('Kill switch').waitFor();
    // Another key's kill switch, then back: the first key again, not the one on screen before.
    await page.goto(`${origin.url}#/kill?key=history.b`);
    await page.waitForFunction(() => document.getElementById('kill-key')?.value === 'history.b');
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('kill-key')?.value === 'history.a');
    // A flag that does not exist, then back: the flag, without the other's error.
    await page.goto(`${origin.url}#/flag/no-such-flag`);
    await page.getByRole('alert').waitFor();
    await page.goto(`${origin.url}#/flag/${a.id}`);
    await h1('history.a').waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.goBack();
    await page.getByRole('alert').waitFor();
    await page.goForward();
    await h1('history.a').waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    // The audit log's flag filter follows the history too.
    await page.goto(`${origin.url}#/audit`);
    await h1('Audit log').waitFor();
    await page.locator(`#audit-flag option[value="${a.id}"]`).waitFor({ state: 'attached' });
    await page.getByLabel('Flag', { exact: true }).selectOption(a.id);
    await page.locator('ol.audit article').first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll('ol.audit article').length === 1);
    await page.goBack();
    await page.waitForFunction(() => document.getElementById('audit-flag')?.value === '');
    await page.waitForFunction(() => document.querySelectorAll('ol.audit article').length > 1);
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
