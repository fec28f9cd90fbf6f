// A segment's rules in the structured form, the impact preview of a segment edit and "used by"
// naming the rules, in headless Chromium against a real origin (SQLite): a segment created with
// two rules (an attribute condition and an all-of group) through the form, a rule edited and the
// rules reordered, each time the stored rules exactly what was entered; the server's 400 placed
// beside the field its path names; Form and JSON keeping the draft. Then flags that name a segment
// (one in a nested group, one in two rules), one that needs one of them and an unrelated one: the
// page names the rules, and the preview of an edit of the include list and a rule counts, per
// flag, exactly the flips POST /api/evaluate answers for every pasted user before and after the
// save. Also the pure model (src/form/model.ts): segment rules read and written back. No request
// to another host, no page error, no CSP violation.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BINARY, SHOTS, launchBrowser, loadModel, pageTools, previewSettled } from './browser.mjs';
import { ADMIN_TOKEN, startOrigin } from './origin.mjs';

let origin;
let browser;
const { problems, newPage, shot, signIn, noViolations } = pageTools(() => ({ browser, origin, shots: SHOTS }));

before(async () => {
  origin = await startOrigin(BINARY);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

async function segmentByKey(environment, key) {
  const res = await origin.call('GET', `/api/admin/segments?environment=${environment}&key=${key}`);
  assert.equal(res.status, 200, res.text);
  return res.body.segments[0];
}

async function created(path, body) {
  const res = await origin.call('POST', path, { body });
  assert.equal(res.status, 201, res.text);
  return res.body;
}

const save = (page) => page.getByRole('button', { name: 'Save', exact: true });
const label = (page, text) => page.getByLabel(text, { exact: true });
const switchTo = (page, mode) => page.getByRole('group', { name: 'Edit the rules as' }).getByRole('button', { name: mode, exact: true }).click();

test('the model: segment rules read and written back, what the form cannot show, where a message goes', async () => {
  const m = await loadModel();
  const rules = [
    { field: 'attributes.plan', operator: 'eq', value: 'pro' },
    { all: [{ field: 'country', operator: 'in', value: ['DE', 'AT'] }, { field: 'attributes.age', operator: 'gte', value: 18 }], note: 'kept' },
    { field: 'email', operator: 'ends_with', value: '@pennon.dev', also: 1 },
  ];
  const form = m.segmentRulesFromJson(rules);
  assert.ok(Array.isArray(form), String(form));
  assert.deepEqual(m.validateSegmentRules(form), new Map());
  assert.deepEqual(m.segmentRulesToJson(form), rules);
  assert.deepEqual(m.segmentRulesFromJson(undefined), []);
  assert.match(m.segmentRulesFromJson([{ all: [{ segment: 'x' }] }]), /rules\[0\]\.all\[0\]: a segment condition/);
  assert.match(m.segmentRulesFromJson({}), /rules: not a list/);
  const known = m.segmentRulePaths(form);
  assert.equal(m.placeError('rules[1].all[1].value', known), 'rules[1].all[1].value');
  assert.equal(m.placeError('rules[0].value[2]', known), 'rules[0].value');
  assert.equal(m.placeError('rules[2].also', known), 'rules[2]');
  assert.equal(m.placeError('rules[7]', known), 'rules');
  form[1].conditions[1].text = 'eighteen';
  assert.deepEqual(m.validateSegmentRules(form), new Map([['rules[1].all[1].value', 'must be a number']]));
});

test('segment rules through the form', async (t) => {
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    let segment;

    await t.test('a new segment with an attribute rule and an all-of group, stored exactly so', async () => {
      await page.goto(`${origin.url}#/segments/dev/new`);
      await page.getByRole('heading', { name: 'New segment' }).waitFor();
      await page.getByLabel('Key').fill('form.beta');
      await page.getByText('No rules: the included ids are the only members.').waitFor();
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await label(page, 'Rule 1 condition 1: field').fill('attributes.plan');
      await label(page, 'Rule 1 condition 1: value').fill('pro');
      assert.equal(await page.getByLabel('Rule 1 condition 1: kind').count(), 0, 'no segment conditions in a segment');
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await label(page, 'Rule 2 condition 1: field').fill('country');
      await label(page, 'Rule 2 condition 1: operator').selectOption('in');
      await label(page, 'Rule 2 condition 1: value').fill('DE\nAT');
      await page.getByRole('button', { name: 'Add a condition to rule 2' }).click();
      await label(page, 'Rule 2 condition 2: field').fill('attributes.age');
      await label(page, 'Rule 2 condition 2: operator').selectOption('gte');
      // Not a number: said beside the value, and nothing can be sent.
      await label(page, 'Rule 2 condition 2: value').fill('eighteen');
      const create = page.getByRole('button', { name: 'Create segment' });
      await page.locator('#f-rules-1-c1-value-error').waitFor();
      assert.equal(await page.locator('#f-rules-1-c1-value-error').innerText(), 'must be a number');
      assert.ok(await create.isDisabled());
      assert.match(await page.locator('#save-why').innerText(), /^Not yet: rules\[1\]\.all\[1\]\.value: must be a number/);
      await label(page, 'Rule 2 condition 2: value').fill('18');
      assert.ok(await create.isEnabled());
      await shot(page, 'segment-form');
      await create.click();
      await page.getByRole('heading', { name: 'form.beta', level: 1 }).waitFor();
      segment = await segmentByKey('dev', 'form.beta');
      assert.deepEqual(segment.rules, [
        { field: 'attributes.plan', operator: 'eq', value: 'pro' },
        { all: [{ field: 'country', operator: 'in', value: ['DE', 'AT'] }, { field: 'attributes.age', operator: 'gte', value: 18 }] },
      ]);
    });

    await t.test('a rule edited and the rules reordered: stored exactly so', async () => {
      await label(page, 'Rule 1 condition 1: operator').waitFor();
      await label(page, 'Rule 1 condition 1: operator').selectOption('in');
      await label(page, 'Rule 1 condition 1: value').fill('pro\nenterprise');
      await page.getByRole('button', { name: 'Remove rule 2 condition 1' }).click();
      await page.getByRole('button', { name: 'Move rule 2 up' }).focus();
      await page.keyboard.press('Enter');
      await save(page).click();
      await page.getByText('Saved: version 2').waitFor();
      assert.deepEqual((await segmentByKey('dev', 'form.beta')).rules, [
        { all: [{ field: 'attributes.age', operator: 'gte', value: 18 }] },
        { field: 'attributes.plan', operator: 'in', value: ['pro', 'enterprise'] },
      ]);
    });

    await t.test("the server's 400 is shown beside the field it names; nothing written", async () => {
      await label(page, 'Rule 2 condition 1: operator').selectOption('semver_gt');
      await label(page, 'Rule 2 condition 1: value').fill('1.2');
      await save(page).click();
      const error = page.locator('#f-rules-1-c0-value-error');
      await error.waitFor();
      assert.match(await error.innerText(), /^rules\[1\]\.value: semver_gt needs a SemVer 2\.0\.0 version/);
      const value = label(page, 'Rule 2 condition 1: value');
      assert.match(await value.getAttribute('aria-describedby'), /f-rules-1-c0-value-error/);
      assert.equal(await value.getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('#form-error').count(), 0, 'not at the top of the form');
      assert.equal((await segmentByKey('dev', 'form.beta')).version, 2, 'nothing was written');
      await value.fill('1.2.0');
      await save(page).click();
      await page.getByText('Saved: version 3').waitFor();
      assert.deepEqual((await segmentByKey('dev', 'form.beta')).rules[1], { field: 'attributes.plan', operator: 'semver_gt', value: '1.2.0' });
    });

    await t.test('Form and JSON edit the same draft', async () => {
      await label(page, 'Rule 2 condition 1: value').fill('2.0.0');
      await switchTo(page, 'JSON');
      const json = page.getByLabel(/^Rules \(JSON/);
      const shown = JSON.parse(await json.inputValue());
      assert.deepEqual(shown, [
        { all: [{ field: 'attributes.age', operator: 'gte', value: 18 }] },
        { field: 'attributes.plan', operator: 'semver_gt', value: '2.0.0' },
      ]);
      shown[0].all.push({ field: 'country', operator: 'eq', value: 'FR' });
      shown.push({ field: 'email', operator: 'ends_with', value: '@pennon.dev', note: 'kept' });
      await json.fill(JSON.stringify(shown, null, 2));
      await switchTo(page, 'Form');
      assert.equal(await label(page, 'Rule 1 condition 2: value').inputValue(), 'FR');
      assert.equal(await label(page, 'Rule 3 condition 1: operator').inputValue(), 'ends_with');
      // Back to JSON: the draft as it was, the unknown field kept.
      await switchTo(page, 'JSON');
      assert.deepEqual(JSON.parse(await json.inputValue()), shown);
      // What the form cannot show keeps you in JSON, with the reason.
      await json.fill('[{"segment": "other"}]');
      await switchTo(page, 'Form');
      assert.match(await page.locator('#segment-rules-error').innerText(), /^Still JSON: The form cannot show rules\[0\]: a segment condition/);
      await json.fill('[{"field": "country", "operator": "eq"');
      await switchTo(page, 'Form');
      assert.match(await page.locator('#segment-rules-error').innerText(), /^Still JSON: it does not parse/);
      await json.fill(JSON.stringify(shown));
      await switchTo(page, 'Form');
      await save(page).click();
      // The server refuses the rule's unknown field beside rule 3.
      const error = page.locator('#f-rules-2-error');
      await error.waitFor();
      assert.match(await error.innerText(), /^rules\[2\]/);
      assert.equal((await segmentByKey('dev', 'form.beta')).version, 3, 'nothing was written');
      await page.getByRole('button', { name: 'Remove rule 3' }).click();
      await save(page).click();
      await page.getByText('Saved: version 4').waitFor();
      assert.deepEqual((await segmentByKey('dev', 'form.beta')).rules, shown.slice(0, 2));
    });

    await t.test('no request to another host, no error, no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});

test('the impact preview of a segment edit counts what the API serves after the save; used by names the rules', async (t) => {
  const env = 'staging';
  const segment = (await created('/api/admin/segments', { key: 'beta', environment: env, include: ['s-1', 's-2'], rules: [{ field: 'country', operator: 'eq', value: 'DE' }] })).segment;
  const make = (body) => created('/api/admin/flags', { environment: env, enabled: true, ...body });
  // Names the segment in its only rule: members get on.
  await make({ key: 'seg.direct', rules: [{ segment: 'beta' }], rolloutPercentage: 0 });
  // Names it in a group (rule 2) and on its own (rule 3).
  await make({
    key: 'seg.nested',
    type: 'string',
    variants: { blue: 'blue', green: 'green', red: 'red' },
    offVariant: 'blue',
    rules: [
      { field: 'attributes.plan', operator: 'eq', value: 'enterprise', serve: 'red' },
      { all: [{ field: 'attributes.plan', operator: 'eq', value: 'pro' }, { notSegment: 'beta' }], serve: 'green' },
      { segment: 'beta', serve: 'red' },
    ],
    fallthrough: 'blue',
  });
  // Needs seg.direct on.
  await make({ key: 'seg.needs', prerequisites: [{ flag: 'seg.direct', variants: ['on'] }], rolloutPercentage: 100 });
  await make({ key: 'seg.other', rules: [{ field: 'country', operator: 'eq', value: 'DE' }], rolloutPercentage: 50 });
  const keys = ['seg.direct', 'seg.nested', 'seg.needs', 'seg.other'];
  const countries = ['DE', 'FR', 'US', undefined];
  const plans = ['free', 'pro', 'enterprise'];
  const users = Array.from({ length: 60 }, (_, i) => ({
    id: `s-${i}`,
    ...(countries[i % 4] ? { country: countries[i % 4] } : {}),
    attributes: { plan: plans[i % 3] },
  }));
  const servedAll = () => origin.served(env, users, keys);
  const section = (page, key) => page.getByRole('region', { name: `Effect on ${key}` });
  /** A flag's transitions in the preview as `{"from→to": count}`, and their example ids. */
  const shownFor = async (page, key) => {
    const counts = {};
    const examples = {};
    const table = section(page, key).getByRole('table', { name: `Users of ${key} who change variant` });
    if ((await table.count()) === 0) return { counts, examples };
    for (const row of await table.locator('tbody tr').all()) {
      const [from, to, n, ids] = await row.getByRole('cell').allInnerTexts();
      counts[`${from}→${to}`] = Number(n);
      examples[`${from}→${to}`] = ids.split(', ');
    }
    return { counts, examples };
  };


  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/segment/${segment.id}`);

    await t.test('used by names the rules of each flag that name the segment', async () => {
      const used = page.locator('.used-by');
      await used.waitFor();
      assert.equal(await used.innerText(), 'Flags that name it: seg.direct — rule 1, seg.nested — rules 2 and 3');
    });

    await t.test('pasted users: the flags that name the segment and the flag that needs one, 0 changes', async () => {
      await page.getByLabel("Users I paste or upload").check();
      await page.getByLabel(/^Users \(a JSON array/).fill(users.map((u) => JSON.stringify(u)).join('\n'));
      await page.getByRole('button', { name: 'Preview with these users' }).click();
      assert.equal(await previewSettled(page, /^0 of 3 flags/), '0 of 3 flags change variant for some of the 60 sampled users.');
      const headings = await page.locator('.dependent h4').allInnerTexts();
      assert.deepEqual(headings, ['seg.direct — rule 1', 'seg.nested — rules 2 and 3', 'seg.needs (needs seg.direct)']);
      for (const key of ['seg.direct', 'seg.nested', 'seg.needs']) {
        assert.equal(await section(page, key).locator('.dependent-summary').innerText(), `${key}: 0 of 60 sampled users change variant.`);
      }
      assert.equal(await section(page, 'seg.other').count(), 0, 'a flag that does not reach the segment is not listed');
    });

    const before = await servedAll();
    let shown;
    await t.test('an edit of the include list and of a rule: per flag, the flips the API serves after the save', async () => {
      // s-2 (US) out, s-3 and s-5 in; rule 1: DE → US.
      await page.getByLabel(/^Included ids/).fill('s-1\ns-3\ns-5');
      await label(page, 'Rule 1 condition 1: value').fill('US');
      await page.waitForTimeout(600);
      const summary = await previewSettled(page, /^[1-9]\d* of 3 flags/);
      assert.equal(summary, '3 of 3 flags change variant for some of the 60 sampled users.');
      shown = {};
      for (const key of ['seg.direct', 'seg.nested', 'seg.needs']) {
        shown[key] = await shownFor(page, key);
        const headline = await section(page, key).locator('.dependent-summary').innerText();
        const total = Object.values(shown[key].counts).reduce((a, b) => a + b, 0);
        const each = Object.entries(shown[key].counts).map(([pair, n]) => `${n} ${pair.replace('→', ' → ')}`).join(', ');
        assert.equal(headline, `${key}: ${total} of 60 sampled users change variant: ${each}.`);
      }
      await shot(page, 'segment-preview');
      await save(page).click();
      await page.getByText('Saved: version 2').waitFor();
      const stored = await segmentByKey(env, 'beta');
      assert.deepEqual(stored.include, ['s-1', 's-3', 's-5']);
      assert.deepEqual(stored.rules, [{ field: 'country', operator: 'eq', value: 'US' }]);
      const afterSave = await servedAll();
      for (const key of ['seg.direct', 'seg.nested', 'seg.needs']) {
        const flips = {};
        const who = {};
        before[key].forEach((from, i) => {
          const to = afterSave[key][i];
          if (from === to) return;
          flips[`${from}→${to}`] = (flips[`${from}→${to}`] ?? 0) + 1;
          (who[`${from}→${to}`] ??= new Set()).add(users[i].id);
        });
        assert.deepEqual(shown[key].counts, flips, `${key}: the preview's transitions are the API's flips`);
        for (const [pair, ids] of Object.entries(shown[key].examples)) for (const id of ids) assert.ok(who[pair].has(id), `${key}: ${id} flips ${pair}`);
      }
      assert.ok(Object.keys(shown['seg.nested'].counts).length >= 2, 'several kinds of flip');
      assert.deepEqual(before['seg.other'], afterSave['seg.other'], 'the unrelated flag does not change');
    });

    await t.test('after the save the preview shows 0 changes', async () => {
      assert.equal(await previewSettled(page, /^0 of 3 flags/), '0 of 3 flags change variant for some of the 60 sampled users.');
    });

    await t.test('on a 390 × 844 screen the rules form and the preview fit without sideways scrolling', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      await label(page, 'Rule 1 condition 1: value').waitFor();
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false, 'the page scrolls sideways');
      await page.setViewportSize({ width: 1280, height: 860 });
    });

    await t.test('no request to another host, no error, no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});
