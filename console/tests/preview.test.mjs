// The impact preview in headless Chromium against real origins: one that keeps a context sample
// (CONTEXT_SAMPLE_SIZE) and one that keeps none. Users are evaluated through POST /api/evaluate so
// that the origin samples them; an editor loads the sample in the page, edits a flag (a segment
// rule and another split, with a prerequisite in play), and the preview's transitions must equal
// the flips the API then answers for the same users after the save. Also: pasted users (and their
// validation), 10,000 uploaded users (the time is logged), an invalid edit answered by the
// evaluator's error instead of a preview, the message of an origin without a sample, a viewer
// without a preview, a phone-sized screen. Screenshots go to docs/console/ (or $CONSOLE_SCREENSHOTS).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BINARY, SHOTS, launchBrowser, pageTools, previewSettled } from './browser.mjs';
import { ADMIN_TOKEN, startOrigin } from './origin.mjs';

const KEY = 'preview.theme';
const ENV = 'prod';

let origin;
/** An origin started without CONTEXT_SAMPLE_SIZE. */
let bare;
let browser;
const { problems, newPage, shot, signIn, noViolations } = pageTools(() => ({ browser, origin, shots: SHOTS }));

before(async () => {
  [origin, bare] = await Promise.all([startOrigin(BINARY, { CONTEXT_SAMPLE_SIZE: '1000' }), startOrigin(BINARY)]);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await origin?.stop();
  await bare?.stop();
});

async function created(path, body, target = origin) {
  const res = await target.call('POST', path, { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

/** The variant of KEY the origin serves the user now. */
async function served(user) {
  const res = await origin.call('POST', '/api/evaluate', { body: { environment: ENV, user, flags: [KEY] } });
  assert.equal(res.status, 200, res.text);
  return res.body.results[0].variant;
}

/** `{"from→to": count}` of the users whose variant differs between two lists. */
function flips(before, after) {
  const out = {};
  before.forEach((from, i) => {
    const to = after[i];
    if (from !== to) out[`${from}→${to}`] = (out[`${from}→${to}`] ?? 0) + 1;
  });
  return out;
}

/** The preview's transitions table as `{"from→to": count}`, and its example ids. */
async function transitions(page) {
  const rows = await page.getByRole('table', { name: 'Users who change variant' }).locator('tbody tr').all();
  const counts = {};
  const examples = {};
  for (const row of rows) {
    const [from, to, n, ids] = await row.getByRole('cell').allInnerTexts();
    counts[`${from}→${to}`] = Number(n.replace(/,/g, ''));
    examples[`${from}→${to}`] = ids.split(', ');
  }
  return { counts, examples };
}

const editor = (page) => page.getByLabel(/^Definition/);

async function setDefinition(page, definition) {
  await editor(page).fill(typeof definition === 'string' ? definition : JSON.stringify(definition, null, 2));
}

let flag;
let sampled;

test('the flags, the segment and the sampled users', async () => {
  await created('/api/admin/segments', { key: 'beta', environment: ENV, include: ['p-1', 'p-2', 'p-3'], rules: [{ field: 'country', operator: 'eq', value: 'DE' }] });
  await created('/api/admin/flags', { key: 'preview.gate', environment: ENV, enabled: true, rolloutPercentage: 50 });
  flag = (
    await created('/api/admin/flags', {
      key: KEY,
      environment: ENV,
      enabled: true,
      type: 'string',
      variants: { blue: 'blue', green: 'green', red: 'red' },
      offVariant: 'blue',
      prerequisites: [{ flag: 'preview.gate', variants: ['on'] }],
      rules: [],
      fallthrough: { split: [{ variant: 'blue', weight: 34000 }, { variant: 'green', weight: 33000 }, { variant: 'red', weight: 33000 }] },
    })
  ).flag;
  const countries = ['DE', 'FR', 'US', undefined];
  for (let i = 0; i < 200; i++) {
    const user = { id: `p-${i}`, ...(countries[i % 4] ? { country: countries[i % 4] } : {}), attributes: { plan: i % 3 ? 'free' : 'pro' } };
    await served(user);
  }
  const res = await origin.call('GET', `/api/admin/contexts?environment=${ENV}`);
  assert.equal(res.status, 200, res.text);
  sampled = res.body.contexts.map((c) => c.user);
  // A slot is taken at most once a second, so a few users that hash together are not kept.
  assert.ok(sampled.length >= 150 && sampled.length <= 200, `${sampled.length} users sampled`);
});

test("an editor's preview of the origin's sample counts what the API serves after the save", async (t) => {
  const secret = (await created('/api/admin/tokens', { name: 'erin (editor, prod)', role: 'editor', environments: [ENV] })).secret;
  const { context, page } = await newPage();
  const n = sampled.length;
  try {
    await signIn(page, secret);
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByRole('heading', { name: 'Impact preview' }).waitFor();
    // These tests edit the definition as JSON (the structured form has its own, form.test.mjs).
    await page.getByRole('button', { name: 'JSON', exact: true }).click();

    await t.test('the sample loads from the keyboard; the unedited flag changes nobody', async () => {
      await page.getByRole('button', { name: "Load the origin's sample" }).focus();
      await page.keyboard.press('Enter');
      await page.getByText(`${n} users the origin saw evaluated in ${ENV}`).waitFor();
      assert.match(await previewSettled(page, /^0 of /), new RegExp(`^0 of ${n} sampled users change variant`));
    });

    const before = [];
    for (const user of sampled) before.push(await served(user));
    const definition = JSON.parse(await editor(page).inputValue());

    await t.test('an invalid edit shows the evaluator\'s error, not a preview', async () => {
      await setDefinition(page, { ...definition, fallthrough: { split: [{ variant: 'blue', weight: 50000 }, { variant: 'green', weight: 40000 }] } });
      const error = page.getByRole('alert').filter({ hasText: 'No preview: the evaluator refuses the edited flag' });
      await error.waitFor();
      assert.match(await error.innerText(), /100000/);
      assert.equal(await page.locator('.impact-summary').count(), 0);
      await setDefinition(page, '{"rules": [');
      await page.getByText(/^No preview: the definition is not valid \(not JSON/).waitFor();
      assert.equal(await page.locator('.impact-summary').count(), 0);
    });

    await t.test('a segment rule and another split: the counts are the flips the API then serves', async () => {
      const edited = {
        ...definition,
        rules: [{ segment: 'beta', serve: 'red' }],
        fallthrough: { split: [{ variant: 'blue', weight: 50000 }, { variant: 'green', weight: 50000 }, { variant: 'red', weight: 0 }] },
      };
      await setDefinition(page, edited);
      const headline = await previewSettled(page, /^[1-9][\d,]* of /);
      const { counts, examples } = await transitions(page);
      await shot(page, 'preview');
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 2.').waitFor();
      const afterSave = [];
      for (const user of sampled) afterSave.push(await served(user));
      const expected = flips(before, afterSave);
      assert.ok(Object.keys(expected).length >= 2, `the edit flips users in several ways: ${JSON.stringify(expected)}`);
      assert.deepEqual(counts, expected);
      const changed = Object.values(expected).reduce((a, b) => a + b, 0);
      assert.match(headline, new RegExp(`^${changed} of ${n} sampled users change variant, in ${Object.keys(expected).length} ways\\.$`));
      for (const [pair, ids] of Object.entries(examples)) {
        assert.ok(ids.length >= 1 && ids.length <= 5, pair);
        for (const id of ids) {
          const i = sampled.findIndex((u) => u.id === id);
          assert.equal(`${before[i]}→${afterSave[i]}`, pair, `example ${id}`);
        }
      }
      // The saved flag is now the edited one: the preview reloads the snapshot and nobody changes.
      assert.match(await previewSettled(page, /^0 of /), new RegExp(`^0 of ${n} sampled users`));
    });

    await t.test('pasted users are checked, then previewed; a kill flips every one not on the off variant', async () => {
      await page.getByLabel(/The origin's sample/).focus();
      await page.keyboard.press('ArrowDown');
      assert.ok(await page.getByLabel(/Users I paste or upload/).isChecked());
      const users = page.getByLabel(/^Users \(a JSON array/);
      await users.fill('{"id": "q-1"}\n{"id": ""}');
      await page.getByRole('button', { name: 'Preview with these users' }).click();
      await page.getByText('pasted users: line 2: id: must be a non-empty string').waitFor();
      await users.fill('[{"id": "q-1"}, ');
      await page.getByRole('button', { name: 'Preview with these users' }).click();
      await page.getByText(/^pasted users: not a JSON array: /).waitFor();

      const pasted = Array.from({ length: 12 }, (_, i) => ({ id: `q-${i}`, ...(i % 2 ? { country: 'DE' } : {}) }));
      await users.fill(pasted.map((u) => JSON.stringify(u)).join('\n'));
      await page.getByRole('button', { name: 'Preview with these users' }).click();
      await page.getByText('12 users pasted').waitFor();
      assert.match(await previewSettled(page, /^0 of 12 /), /^0 of 12 sampled users/);
      await page.getByLabel(/^Enabled/).uncheck();
      const headline = await previewSettled(page, /^[1-9]\d* of 12 /);
      const now = [];
      for (const user of pasted) now.push(await served(user));
      const expected = flips(now, now.map(() => 'blue'));
      assert.deepEqual((await transitions(page)).counts, expected);
      const changed = now.filter((v) => v !== 'blue').length;
      assert.match(headline, new RegExp(`^${changed} of 12 sampled users change variant`));
      await page.getByLabel(/^Enabled/).check();
    });

    await t.test('10,000 uploaded users are decided in the page; the time is logged', async () => {
      const many = Array.from({ length: 10_000 }, (_, i) => ({
        id: `u-${i}`,
        ...(i % 4 ? { country: ['DE', 'FR', 'US'][i % 3] } : {}),
        attributes: { plan: i % 3 ? 'free' : 'pro', seats: i % 50 },
      }));
      const started = Date.now();
      await page.locator('input[type=file]').setInputFiles({ name: 'users.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(many)) });
      await page.getByText('10,000 users from the file').waitFor();
      assert.match(await previewSettled(page, /^0 of 10,000 /), /^0 of 10,000 sampled users/);
      const loaded = Date.now() - started;
      const times = [];
      for (const weight of [60000, 70000, 80000]) {
        const text = JSON.parse(await editor(page).inputValue());
        text.fallthrough = { split: [{ variant: 'blue', weight: 100000 - weight }, { variant: 'green', weight }, { variant: 'red', weight: 0 }] };
        await setDefinition(page, text);
        const headline = await previewSettled(page, /^[1-9][\d,]* of 10,000 sampled users/);
        const ms = Number(await page.locator('.timing').getAttribute('data-ms'));
        times.push(ms);
        const { counts } = await transitions(page);
        const sum = Object.values(counts).reduce((a, b) => a + b, 0);
        assert.equal(headline.split(' ')[0].replace(/,/g, ''), String(sum));
      }
      t.diagnostic(`10,000 users: upload to first preview ${loaded} ms; each edit decided in ${times.map((ms) => `${ms} ms`).join(', ')} (worker)`);
      console.log(`# preview timing: 10,000 users: upload, snapshot and saved pass ${loaded} ms; edited runs ${times.join(', ')} ms`);
      await setDefinition(page, JSON.stringify(JSON.parse(await editor(page).inputValue()), null, 2));
    });

    await t.test('no request to another host, no error, no CSP violation (the worker and its wasm included)', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});

test('on a phone the preview fits the screen', async () => {
  const { context, page } = await newPage({ width: 390, height: 844 });
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByRole('button', { name: "Load the origin's sample" }).click();
    await previewSettled(page, /^0 of /);
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    const definition = JSON.parse(await editor(page).inputValue());
    await setDefinition(page, { ...definition, rules: [] });
    await previewSettled(page, /^[1-9][\d,]* of /);
    assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false, 'the page scrolls sideways');
    await page.locator('.impact-summary').scrollIntoViewIfNeeded();
    await shot(page, 'phone-preview', { fullPage: false });
    await noViolations(page);
  } finally {
    await context.close();
  }
});

test('a viewer has no preview', async () => {
  const secret = (await created('/api/admin/tokens', { name: 'val (viewer)', role: 'viewer', environments: [ENV] })).secret;
  const { context, page } = await newPage();
  try {
    await signIn(page, secret);
    await page.goto(`${origin.url}#/flag/${flag.id}`);
    await page.getByRole('heading', { name: 'Definition' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Impact preview' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /origin's sample/ }).count(), 0);
    assert.equal((await origin.call('GET', `/api/admin/contexts?environment=${ENV}`, { token: secret })).status, 403);
  } finally {
    await context.close();
  }
});

test('an origin without a sample says so, and how to turn it on', async () => {
  const bareFlag = (await created('/api/admin/flags', { key: 'bare.flag', environment: 'dev', enabled: true, rolloutPercentage: 10 }, bare)).flag;
  const { context, page } = await newPage(undefined, bare);
  try {
    await signIn(page, ADMIN_TOKEN, bare);
    await page.goto(`${bare.url}#/flag/${bareFlag.id}`);
    await page.getByRole('button', { name: "Load the origin's sample" }).click();
    const notice = page.getByRole('alert').filter({ hasText: 'keeps no sample' });
    await notice.waitFor();
    assert.match(await notice.innerText(), /CONTEXT_SAMPLE_SIZE=10000/);
    assert.equal(await page.locator('.impact-summary').count(), 0);
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test('knock-on effects: the flags that need the edited one, counted as the API serves them after the save', async (t) => {
  const env = ENV;
  const make = async (body) => (await created('/api/admin/flags', { environment: env, ...body })).flag;
  const theme = await make({
    key: 'knock.theme',
    enabled: true,
    type: 'string',
    variants: { blue: 'blue', green: 'green', red: 'red' },
    offVariant: 'blue',
    fallthrough: { split: [{ variant: 'blue', weight: 34000 }, { variant: 'green', weight: 33000 }, { variant: 'red', weight: 33000 }] },
  });
  // banner needs theme; footer needs banner (so theme, through it); other needs nothing.
  await make({ key: 'knock.banner', enabled: true, prerequisites: [{ flag: 'knock.theme', variants: ['green', 'red'] }], rolloutPercentage: 100 });
  await make({
    key: 'knock.footer',
    enabled: true,
    type: 'string',
    variants: { plain: 'plain', fancy: 'fancy' },
    offVariant: 'plain',
    prerequisites: [{ flag: 'knock.banner', variants: ['on'] }],
    fallthrough: { split: [{ variant: 'plain', weight: 50000 }, { variant: 'fancy', weight: 50000 }] },
  });
  await make({ key: 'knock.other', enabled: true, rolloutPercentage: 50 });
  const keys = ['knock.theme', 'knock.banner', 'knock.footer'];
  const users = Array.from({ length: 80 }, (_, i) => ({ id: `k-${i}`, ...(i % 2 ? { country: 'DE' } : {}) }));
  const servedAll = () => origin.served(env, users, keys);
  const dependent = (page, key) => page.getByRole('region', { name: `Knock-on effect on ${key}` });
  const dependentCounts = async (page, key) => {
    const counts = {};
    for (const row of await page.getByRole('table', { name: `Users of ${key} who change variant` }).locator('tbody tr').all()) {
      const [from, to, n] = await row.getByRole('cell').allInnerTexts();
      counts[`${from}→${to}`] = Number(n.replace(/,/g, ''));
    }
    return counts;
  };

  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/flag/${theme.id}`);
    await page.getByRole('heading', { name: 'Impact preview' }).waitFor();
    // The split is edited as JSON (the structured form has its own tests, form.test.mjs).
    await page.getByRole('button', { name: 'JSON', exact: true }).click();
    await page.getByLabel(/Users I paste or upload/).check();
    await page.getByLabel(/^Users \(a JSON array/).fill(JSON.stringify(users));
    await page.getByRole('button', { name: 'Preview with these users' }).click();
    await page.getByText('80 users pasted').waitFor();
    const before = await servedAll();

    await t.test('the unedited flag: both dependents listed, nearest first, and nobody changes', async () => {
      assert.match(await previewSettled(page, /^0 of 80 /), /^0 of 80 sampled users/);
      const headings = await page.locator('.dependents h4').allInnerTexts();
      assert.deepEqual(headings, ['knock.banner (needs knock.theme)', 'knock.footer (needs knock.banner)']);
      for (const key of ['knock.banner', 'knock.footer']) {
        assert.match(await dependent(page, key).locator('.dependent-summary').innerText(), /^0 of 80 sampled users change variant/);
      }
    });

    await t.test('an edit of the split: each dependent counts the flips the API serves after the save', async () => {
      const definition = JSON.parse(await editor(page).inputValue());
      await setDefinition(page, {
        ...definition,
        // Green moves to the front: some users go blue → green (banner off → on), others green or red → blue.
        fallthrough: { split: [{ variant: 'green', weight: 40000 }, { variant: 'blue', weight: 30000 }, { variant: 'red', weight: 30000 }] },
      });
      await previewSettled(page, /^[1-9]\d* of 80 /);
      const examples = {};
      const shown = {};
      const headlines = {};
      for (const key of ['knock.banner', 'knock.footer']) {
        shown[key] = await dependentCounts(page, key);
        headlines[key] = await dependent(page, key).locator('.dependent-summary').innerText();
        examples[key] = {};
        for (const row of await page.getByRole('table', { name: `Users of ${key} who change variant` }).locator('tbody tr').all()) {
          const [from, to, , ids] = await row.getByRole('cell').allInnerTexts();
          examples[key][`${from}→${to}`] = ids.split(', ');
        }
      }
      await page.locator('.dependents').scrollIntoViewIfNeeded();
      await shot(page, 'preview-knock-on', { fullPage: false });
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await page.getByText('Saved: version 2.').waitFor();
      const afterSave = await servedAll();
      for (const key of ['knock.banner', 'knock.footer']) {
        const expected = flips(before[key], afterSave[key]);
        const total = Object.values(expected).reduce((a, b) => a + b, 0);
        assert.ok(total > 0, `${key}: the edit changes some users (${JSON.stringify(expected)})`);
        assert.deepEqual(shown[key], expected, key);
        assert.equal(headlines[key].split(' ')[0], String(total), `${key}: ${headlines[key]}`);
        for (const [pair, ids] of Object.entries(examples[key])) {
          assert.ok(ids.length >= 1 && ids.length <= 5, pair);
          for (const id of ids) {
            const i = users.findIndex((u) => u.id === id);
            assert.equal(`${before[key][i]}→${afterSave[key][i]}`, pair, `${key}: example ${id}`);
          }
        }
      }
      assert.equal(Object.keys(flips(before['knock.banner'], afterSave['knock.banner'])).length, 2, 'banner flips both ways');
      assert.equal(await page.getByRole('region', { name: 'Knock-on effect on knock.other' }).count(), 0);
      // After the save the saved flag is the edited one: nobody changes, dependents included.
      await previewSettled(page, /^0 of 80 /);
      for (const key of ['knock.banner', 'knock.footer']) {
        assert.match(await dependent(page, key).locator('.dependent-summary').innerText(), /^0 of 80 /);
      }
    });

    await t.test('no request to another host, no error, no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});
