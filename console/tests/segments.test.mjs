// The segment screens in headless Chromium against a real origin (SQLite): a segment created, ids
// pasted with duplicates and blanks (the API then holds exactly the distinct ids), the server's
// 400 next to the rules, "used by" naming the flag whose rules name the segment (in a group), a
// delete refused with the 409 naming that flag (linked), an unused segment deleted, an If-Match
// conflict from a parallel API write, a viewer with no edit control, an editor of dev, and the
// list on a phone-sized screen. No request to another host, no page error, no CSP violation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BINARY, SHOTS, launchBrowser, pageTools } from './browser.mjs';
import { ADMIN_TOKEN, startOrigin } from './origin.mjs';

let origin;
let browser;
const { problems, newPage, shot, signIn, noViolations, focused } = pageTools(() => ({ browser, origin, shots: SHOTS }));

async function token(name, role, environments) {
  const res = await origin.call('POST', '/api/admin/tokens', { body: { name, role, environments } });
  assert.equal(res.status, 201, res.text);
  return res.body.secret;
}

async function segmentByKey(environment, key) {
  const res = await origin.call('GET', `/api/admin/segments?environment=${environment}&key=${key}`);
  assert.equal(res.status, 200, res.text);
  return res.body.segments[0];
}

before(async () => {
  origin = await startOrigin(BINARY);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

test('an admin creates a segment, pastes ids, sees where it is used, and cannot delete it while used', async (t) => {
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    let segment;

    await t.test('creates a segment (the server 400 on the key under the key)', async () => {
      await page.getByRole('link', { name: 'Segments' }).click();
      await page.getByRole('heading', { name: 'Segments in dev' }).waitFor();
      await page.getByText('No segments in dev.').waitFor();
      await page.getByRole('link', { name: 'New segment' }).click();
      await page.getByRole('heading', { name: 'New segment' }).waitFor();
      await page.getByLabel('Key').fill('bad key');
      await page.getByRole('button', { name: 'Create segment' }).click();
      await page.locator('#new-segment-key-error').waitFor();
      assert.match(await page.locator('#new-segment-key-error').innerText(), /^key: /);
      await page.getByLabel('Key').fill('beta');
      await page.getByLabel('Description').fill('Early access');
      await page.getByRole('button', { name: 'Create segment' }).click();
      await page.getByRole('heading', { name: 'beta', level: 1 }).waitFor();
      segment = await segmentByKey('dev', 'beta');
      assert.equal(segment.description, 'Early access');
      assert.deepEqual(segment.include, []);
      assert.equal(segment.version, 1);
    });

    await t.test('pasted ids are trimmed and deduplicated, the change counted before saving', async () => {
      const include = page.getByLabel(/^Included ids/);
      // 5 distinct ids, given with duplicates, blanks, spaces, newlines and commas.
      await include.fill(' u-1 \n\nu-2,u-3\nu-1\n , u-4 \nu-5,u-2,\n');
      const summary = page.locator('#segment-include-count');
      assert.equal(
        await summary.innerText(),
        '5 ids (2 duplicates and 3 blanks dropped) · saving adds 5 ids and removes 0 ids',
      );
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 2 (5 ids added, 0 ids removed).').waitFor();
      const stored = await segmentByKey('dev', 'beta');
      assert.deepEqual(stored.include, ['u-1', 'u-2', 'u-3', 'u-4', 'u-5']);
      assert.equal(await include.inputValue(), 'u-1\nu-2\nu-3\nu-4\nu-5');
      assert.equal(await summary.innerText(), '5 ids · no change to the saved list');
      // Two removed, one added.
      await include.fill('u-1, u-3, u-5, u-6');
      assert.equal(await summary.innerText(), '4 ids · saving adds 1 id and removes 2 ids');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 3 (1 id added, 2 ids removed).').waitFor();
      assert.deepEqual((await segmentByKey('dev', 'beta')).include, ['u-1', 'u-3', 'u-5', 'u-6']);
    });

    await t.test("a bad rule shows the server's 400 next to the rules; a good one is saved", async () => {
      // Rules as JSON here (the form has its own tests, segment-form.test.mjs).
      await page.getByRole('group', { name: 'Edit the rules as' }).getByRole('button', { name: 'JSON' }).click();
      const rules = page.getByLabel(/^Rules/);
      await rules.fill('[{"field": "country", "operator": "like", "value": "DE"}]');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const error = page.locator('#segment-rules-error');
      await error.waitFor();
      assert.match(await error.innerText(), /^rules\[0\]\.operator: unknown operator "like"/);
      assert.equal(await rules.getAttribute('aria-invalid'), 'true');
      assert.equal((await segmentByKey('dev', 'beta')).version, 3, 'nothing was written');
      await rules.fill('[{"field": "country", "operator": "eq", "value": "DE"}]');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 4').waitFor();
      assert.deepEqual((await segmentByKey('dev', 'beta')).rules, [{ field: 'country', operator: 'eq', value: 'DE' }]);
    });

    await t.test('"used by" lists the flags whose rules name the segment, groups included', async () => {
      for (const [key, rules] of [
        ['checkout.grouped', [{ all: [{ field: 'country', operator: 'eq', value: 'FR' }, { segment: 'beta' }] }]],
        ['checkout.negated', [{ notSegment: 'beta' }]],
        ['checkout.unrelated', [{ field: 'country', operator: 'eq', value: 'beta' }]],
      ]) {
        const res = await origin.call('POST', '/api/admin/flags', { body: { key, environment: 'dev', rules } });
        assert.equal(res.status, 201, res.text);
      }
      await page.reload();
      const used = page.locator('.used-by');
      await used.waitFor();
      assert.equal(await used.innerText(), 'Flags that name it: checkout.grouped — rule 1, checkout.negated — rule 1');
      await shot(page, 'segment');
      await page.getByRole('link', { name: 'dev', exact: true }).click();
      await page.getByRole('heading', { name: 'Segments in dev' }).waitFor();
      const row = page.getByRole('row').filter({ hasText: 'beta' });
      const cells = row.getByRole('cell');
      await cells.nth(2).filter({ hasText: 'checkout' }).waitFor();
      assert.deepEqual((await cells.allInnerTexts()).slice(0, 3), ['4', '1', 'checkout.grouped, checkout.negated']);
      await row.getByRole('link', { name: 'checkout.grouped' }).click();
      await page.getByRole('heading', { name: 'checkout.grouped', level: 1 }).waitFor();
      await page.goBack();
      await page.getByRole('link', { name: 'beta', exact: true }).click();
      await page.getByRole('heading', { name: 'beta', level: 1 }).waitFor();
    });

    await t.test('deleting a used segment shows the 409 naming the flags, linked', async () => {
      await page.getByRole('button', { name: 'Delete segment…' }).click();
      const dialog = page.getByRole('alertdialog');
      await dialog.getByRole('heading', { name: 'Delete segment beta in dev?' }).waitFor();
      const confirm = dialog.getByRole('button', { name: 'Delete beta' });
      assert.ok(await focused(confirm), 'the confirmation has the focus');
      await page.keyboard.press('Enter');
      const refused = page.getByRole('alert').filter({ hasText: 'Not deleted: flags name it' });
      await refused.waitFor();
      assert.match(await refused.innerText(), /segment "beta" is used by flags: checkout\.grouped, checkout\.negated/);
      const flags = await origin.call('GET', '/api/admin/flags?environment=dev');
      const grouped = flags.body.flags.find((f) => f.key === 'checkout.grouped');
      assert.equal(await refused.getByRole('link', { name: 'checkout.grouped' }).getAttribute('href'), `#/flag/${grouped.id}`);
      assert.equal(await refused.getByRole('link', { name: 'checkout.negated' }).count(), 1);
      assert.ok(await segmentByKey('dev', 'beta'), 'the segment is still there');
      await shot(page, 'segment-delete-refused', { fullPage: true });
    });

    await t.test('an If-Match conflict from a parallel API write is shown with its diff', async () => {
      const alice = await token('alice (api)', 'editor', ['dev']);
      const stored = await segmentByKey('dev', 'beta');
      const write = await origin.call('PUT', `/api/admin/segments/${stored.id}`, {
        token: alice,
        body: { include: [...stored.include, 'from-alice'] },
        ifMatch: stored.version,
      });
      assert.equal(write.status, 200, write.text);
      await page.getByLabel('Description').fill('mine');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      const conflict = page.getByRole('alert').filter({ hasText: 'since you opened it' });
      await conflict.waitFor();
      assert.match(await conflict.innerText(), /Changed by alice \(api\) since you opened it/);
      const diff = await page.getByLabel('Changes since you opened it').innerText();
      assert.match(diff, /^\+ {5}"from-alice"$/m);
      assert.match(diff, /^\+ {3}"version": 5,$/m);
      assert.equal((await segmentByKey('dev', 'beta')).description, 'Early access', 'the page wrote nothing');
      assert.ok(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled());
      await shot(page, 'segment-conflict');
      await page.getByRole('button', { name: 'Discard my edit, load version 5' }).click();
      assert.equal(await page.getByLabel('Description').inputValue(), 'Early access');
      assert.match(await page.getByLabel(/^Included ids/).inputValue(), /from-alice$/);
      await page.getByLabel('Description').fill('mine after all');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 6').waitFor();
      const after = await segmentByKey('dev', 'beta');
      assert.equal(after.description, 'mine after all');
      assert.ok(after.include.includes('from-alice'), "alice's id is kept");
    });

    await t.test('an unused segment is deleted after the confirmation', async () => {
      const res = await origin.call('POST', '/api/admin/segments', { body: { key: 'unused', environment: 'dev', include: ['x'] } });
      assert.equal(res.status, 201, res.text);
      await page.goto(`${origin.url}#/segment/${res.body.segment.id}`);
      await page.getByText('No flag in dev names it.').waitFor();
      await page.getByRole('button', { name: 'Delete segment…' }).click();
      await page.getByRole('button', { name: 'Cancel' }).click();
      assert.ok(await segmentByKey('dev', 'unused'), 'Cancel deletes nothing');
      await page.getByRole('button', { name: 'Delete segment…' }).click();
      await page.getByRole('button', { name: 'Delete unused' }).click();
      await page.getByRole('heading', { name: 'Segments in dev' }).waitFor();
      await page.getByRole('link', { name: 'beta', exact: true }).waitFor();
      assert.equal(await segmentByKey('dev', 'unused'), undefined);
      assert.equal(await page.getByRole('link', { name: 'unused' }).count(), 0);
    });

    await t.test('no request to another host, no error, no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});

test('a viewer sees no edit control on segments; an editor of dev edits only dev', async (t) => {
  const viewer = await token('vera (viewer)', 'viewer', ['dev', 'prod']);
  const editor = await token('eddie (editor, dev)', 'editor', ['dev']);
  const beta = await segmentByKey('dev', 'beta');
  const prod = await origin.call('POST', '/api/admin/segments', { body: { key: 'beta', environment: 'prod', include: ['p-1'] } });
  assert.equal(prod.status, 201, prod.text);

  await t.test('viewer', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, viewer);
      await page.getByRole('link', { name: 'Segments' }).click();
      await page.getByRole('heading', { name: 'Segments in dev' }).waitFor();
      await page.getByRole('link', { name: 'beta', exact: true }).waitFor();
      assert.equal(await page.getByRole('link', { name: 'New segment' }).count(), 0);
      await page.getByRole('link', { name: 'beta', exact: true }).click();
      await page.getByRole('heading', { name: 'Definition' }).waitFor();
      assert.match(await page.locator('.used-by').innerText(), /checkout\.grouped/);
      for (const control of [
        page.getByRole('button', { name: 'Save', exact: true }),
        page.getByRole('button', { name: /Delete/ }),
        page.getByRole('textbox'),
      ]) {
        assert.equal(await control.count(), 0);
      }
      assert.match(await page.locator('pre.json').innerText(), /"u-1"/);
      // A hand-typed create route shows the list.
      await page.goto(`${origin.url}#/segments/dev/new`);
      await page.getByRole('heading', { name: 'Segments in dev' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Create segment' }).count(), 0);
      await noViolations(page);
    } finally {
      await context.close();
    }
  });

  await t.test('editor of dev', async () => {
    const { context, page } = await newPage();
    try {
      await signIn(page, editor);
      await page.goto(`${origin.url}#/segments/dev`);
      await page.getByRole('link', { name: 'New segment' }).waitFor();
      const tabs = await page.getByRole('navigation', { name: 'Environments' }).getByRole('link').allInnerTexts();
      assert.deepEqual(tabs, ['dev']);
      await page.goto(`${origin.url}#/segment/${beta.id}`);
      await page.getByRole('button', { name: 'Save', exact: true }).waitFor();
      await page.goto(`${origin.url}#/segment/${prod.body.segment.id}`);
      await page.getByRole('alert').filter({ hasText: 'prod' }).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Save', exact: true }).count(), 0);
      assert.equal(await page.getByRole('button', { name: /Delete/ }).count(), 0);
    } finally {
      await context.close();
    }
  });
  assert.deepEqual(problems, []);
});

test('on a phone, the segment list fits the screen', async () => {
  const { context, page } = await newPage({ width: 390, height: 844 });
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/segments/dev`);
    await page.getByRole('link', { name: 'checkout.grouped' }).waitFor();
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false, 'the list scrolls sideways');
    await shot(page, 'phone-segments');
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('include lists: a file of ids added or in place of the list, and a search through 10,000 ids', async (t) => {
  const res = await origin.call('POST', '/api/admin/segments', { body: { key: 'uploads', environment: 'dev', include: ['a-1', 'a-2', 'a-3'] } });
  assert.equal(res.status, 201, res.text);
  const { id } = res.body.segment;
  const stored = async () => (await origin.call('GET', `/api/admin/segments/${id}`)).body.segment;
  const file = (name, text) => ({ name, mimeType: 'text/plain', buffer: Buffer.from(text) });
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/segment/${id}`);
    await page.getByRole('heading', { name: 'uploads', level: 1 }).waitFor();
    const include = page.getByLabel(/^Included ids/);
    const input = page.getByLabel('File of ids');
    const summary = page.locator('.include-file-summary');
    const save = page.getByRole('button', { name: 'Save', exact: true });
    // CSV (first column), CRLF and LF, spaces, a quoted id, a repeated id, empty lines.
    const csv = 'a-2,x@example.com\r\n\r\nb-1, b1@example.com\n  b-2  \nb-1\n"b-3",q\n\n';

    await t.test('added to the list (the default): trimmed, deduplicated, empty lines skipped', async () => {
      assert.ok(await page.getByLabel('Add its ids to the list').isChecked());
      await input.setInputFiles(file('ids.csv', csv));
      await summary.waitFor();
      assert.equal(
        await summary.innerText(),
        'ids.csv has 4 ids (1 duplicate and 2 empty lines skipped), added to the list: saving adds 3 ids and removes 0 ids.',
      );
      assert.equal(await include.inputValue(), 'a-1\na-2\na-3\nb-1\nb-2\nb-3');
      assert.equal(await page.locator('#segment-include-count').innerText(), '6 ids · saving adds 3 ids and removes 0 ids');
    });

    await t.test('in place of the list: the choice applies to the file already read; the API then holds exactly its ids', async () => {
      await page.getByLabel('Replace the list with them').check();
      assert.equal(
        await summary.innerText(),
        'ids.csv has 4 ids (1 duplicate and 2 empty lines skipped), in place of the list: saving adds 3 ids and removes 2 ids.',
      );
      assert.equal(await include.inputValue(), 'a-2\nb-1\nb-2\nb-3');
      await shot(page, 'segment-upload');
      await save.click();
      await page.getByText('Saved: version 2 (3 ids added, 2 ids removed).').waitFor();
      assert.deepEqual((await stored()).include, ['a-2', 'b-1', 'b-2', 'b-3']);
      assert.equal(await summary.count(), 0, 'the file is done with once saved');
    });

    await t.test('a second file added to the saved list; an id with a comma refused, nothing applied', async () => {
      await page.getByLabel('Add its ids to the list').check();
      assert.equal(await include.inputValue(), 'a-2\nb-1\nb-2\nb-3', 'choosing again applies no old file');
      await input.setInputFiles(file('more.txt', 'c-1\nb-1\nc-2'));
      assert.equal(await summary.innerText(), 'more.txt has 3 ids, added to the list: saving adds 2 ids and removes 0 ids.');
      await save.click();
      await page.getByText('Saved: version 3 (2 ids added, 0 ids removed).').waitFor();
      assert.deepEqual((await stored()).include, ['a-2', 'b-1', 'b-2', 'b-3', 'c-1', 'c-2']);
      await input.setInputFiles(file('bad.csv', 'd-1\n"d,2",x\n'));
      await page.getByText('bad.csv: line 2: the id "d,2" holds a comma, which the include list cannot keep (commas separate ids)').waitFor();
      assert.equal(await include.inputValue(), 'a-2\nb-1\nb-2\nb-3\nc-1\nc-2');
    });

    await t.test('10,000 ids: the search counts every match and renders the first 100', async () => {
      const many = Array.from({ length: 10_000 }, (_, i) => `u-${i}`);
      await page.getByLabel('Replace the list with them').check();
      await input.setInputFiles(file('many.txt', many.join('\n') + '\n'));
      assert.equal(await summary.innerText(), 'many.txt has 10,000 ids, in place of the list: saving adds 10,000 ids and removes 6 ids.');
      const search = page.getByLabel('Find in the list');
      const matches = page.locator('#segment-include-matches');
      const found = page.getByRole('list', { name: 'Ids that match' });
      const started = Date.now();
      await search.fill('u-12');
      // u-12, u-120 … u-129, u-1200 … u-1299.
      assert.equal(await matches.innerText(), '111 of 10,000 ids match "u-12"');
      const items = await found.getByRole('listitem').allInnerTexts();
      t.diagnostic(`search of 10,000 ids shown in ${Date.now() - started} ms`);
      assert.equal(items.length, 101);
      assert.deepEqual(items.slice(0, 12), ['u-12', ...Array.from({ length: 10 }, (_, i) => `u-12${i}`), 'u-1200']);
      assert.equal(items[100], 'and 11 more');
      await search.fill(' U-9999 ');
      assert.equal(await matches.innerText(), '1 of 10,000 ids match "U-9999"');
      assert.deepEqual(await found.getByRole('listitem').allInnerTexts(), ['u-9999']);
      await search.fill('nobody');
      assert.equal(await matches.innerText(), '0 of 10,000 ids match "nobody"');
      assert.equal(await found.count(), 0);
      await search.fill('u-12');
      await found.scrollIntoViewIfNeeded();
      await shot(page, 'segment-search', { fullPage: false });
      await save.click();
      await page.getByText('Saved: version 4 (10,000 ids added, 6 ids removed).').waitFor();
      assert.deepEqual((await stored()).include, many);
      // Typing in the box still works as before: the search follows the list.
      await include.fill('u-12\nv-1\n');
      assert.equal(await matches.innerText(), '1 of 2 ids match "u-12"');
    });

    await t.test('a new segment from a file of ids', async () => {
      await page.goto(`${origin.url}#/segments/dev/new`);
      await page.getByRole('heading', { name: 'New segment' }).waitFor();
      await page.getByLabel('Key').fill('from-file');
      await page.getByLabel('File of ids').setInputFiles(file('new.txt', 'n-1\nn-2\nn-1\n'));
      assert.equal(await summary.innerText(), 'new.txt has 2 ids (1 duplicate skipped), added to the list: the list holds 2 ids.');
      await page.getByRole('button', { name: 'Create segment' }).click();
      await page.getByRole('heading', { name: 'from-file', level: 1 }).waitFor();
      assert.deepEqual((await segmentByKey('dev', 'from-file')).include, ['n-1', 'n-2']);
    });

    await t.test('no request to another host, no error, no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});
