// The structured flag editor (console/src/form/) in headless Chromium against a real origin on
// SQLite, driven through the form, never the JSON editor (except where the switch is the point):
// a string flag with three variants and a 34/33/33 split created; rules with a segment condition
// and an attribute condition serving a split added, the stored flag compared with what was entered
// and /api/evaluate asked what the rules imply; weights summing to 99 % (message, Save disabled);
// a server 400 placed beside the field it names; rules reordered; a v1 boolean flag's rollout
// slider; a prerequisite; an object variant's JSON; the Form/JSON switch keeping the draft and
// fields the form does not know; the impact preview fed by the form's draft and a conflict saved
// over. Also the pure model (src/form/model.ts, compiled with the
// console's TypeScript): weights as text, round trips of the docs' examples, where messages go.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BINARY, SHOTS, launchBrowser, loadModel, pageTools } from './browser.mjs';
import { ADMIN_TOKEN, startOrigin } from './origin.mjs';

let origin;
let browser;
const { problems, newPage, shot, signIn, noViolations } = pageTools(() => ({ browser, origin, shots: SHOTS }));

async function flag(key, environment = 'dev') {
  const res = await origin.call('GET', `/api/admin/flags?environment=${environment}&key=${key}`);
  assert.equal(res.status, 200, res.text);
  return res.body.flags[0];
}

async function evaluate(user, key) {
  const res = await origin.call('POST', '/api/evaluate', { body: { environment: 'dev', user, flags: [key] } });
  assert.equal(res.status, 200, res.text);
  return res.body.results[0];
}

const save = (page) => page.getByRole('button', { name: 'Save', exact: true });

/** Waits for the impact preview's headline (no run pending) to match, and returns it. */
async function settled(page, pattern) {
  await page.waitForFunction(
    ([source, flags]) => {
      const el = document.querySelector('.impact-summary');
      return el && !document.querySelector('.impact .stale') && new RegExp(source, flags).test(el.textContent ?? '');
    },
    [pattern.source, pattern.flags],
    { timeout: 15_000 },
  );
  return page.locator('.impact-summary').innerText();
}
const group = (page, name) => page.getByRole('radiogroup', { name });

before(async () => {
  origin = await startOrigin(BINARY);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await origin?.stop();
});

test('the model: weights as exact text, round trips, where a message goes', async () => {
  const m = await loadModel();
  assert.equal(m.parsePercent('33.333'), 33333);
  assert.equal(m.parsePercent('33.34'), 33340);
  assert.equal(m.parsePercent('0.001'), 1);
  assert.equal(m.parsePercent('100'), 100000);
  for (const bad of ['100.001', '1.2345', '-1', 'x', '', '1e2']) assert.equal(m.parsePercent(bad), null, bad);
  assert.equal(m.percentText(33333), '33.333');
  assert.equal(m.percentText(33340), '33.34');
  assert.equal(m.percentText(34000), '34');
  for (let w = 0; w <= 100000; w += 7) assert.equal(m.parsePercent(m.percentText(w)), w);
  const rows = ['33.33', '33.33', '33.34'].map((percent) => ({ variant: 'x', percent, extra: {} }));
  assert.equal(m.splitSum(rows), 100000);

  // The docs' examples (docs/evaluation.md) read into the form and written back are themselves.
  const examples = [
    { type: 'string', variants: { control: 'classic', 'single-page': 'one-page', wizard: 'steps' }, offVariant: 'control', prerequisites: [], rules: [], fallthrough: { split: [{ variant: 'control', weight: 33333 }, { variant: 'single-page', weight: 33333 }, { variant: 'wizard', weight: 33334 }] } },
    { type: 'object', variants: { standard: { pageSize: 20, fuzzy: false }, tuned: { pageSize: 50, fuzzy: true, boost: { title: 2.5, body: 1 } } }, offVariant: 'standard', prerequisites: [], rules: [{ segment: 'beta-customers', serve: 'tuned' }], fallthrough: 'standard' },
    { type: 'boolean', prerequisites: [{ flag: 'checkout-layout', variants: ['single-page', 'wizard'] }], rules: [], rolloutPercentage: 100 },
    { type: 'boolean', prerequisites: [], rules: [{ all: [{ field: 'email', operator: 'ends_with', value: '@pennon.dev' }, { field: 'attributes.appVersion', operator: 'semver_gt', value: '2.0.0' }] }, { field: 'country', operator: 'in', value: ['DE', 'AT'], serve: 'off' }], fallthrough: { split: [{ variant: 'on', weight: 25000 }, { variant: 'off', weight: 75000 }], bucketBy: 'attributes.companyId', salt: 'invoice-export-2026' } },
    { type: 'number', variants: { low: 10, high: 50.5 }, offVariant: 'low', prerequisites: [], rules: [{ all: [{ notSegment: 'x' }], serve: 'high', note: 'kept' }, { field: 'attributes.n', operator: 'gte', value: 3, serve: 'high' }, { field: 'attributes.b', operator: 'exists', value: false, serve: 'low' }], fallthrough: 'low', unknown: { kept: true } },
  ];
  for (const def of examples) {
    const form = m.fromJson(def);
    assert.equal(typeof form, 'object', String(form));
    assert.deepEqual(m.validate(form), new Map());
    assert.deepEqual(m.toJson(form), def);
  }
  // What the form cannot show is refused with the path, not dropped.
  assert.match(m.fromJson({ type: 'string', variants: { a: 'a' }, offVariant: 'a', rules: [{ field: 'id', operator: 'in', value: ['a', 1], serve: 'a' }], fallthrough: 'a' }), /rules\[0\]\.value: a list of mixed types/);

  // Values the operator cannot take are said at the value, before anything is sent.
  const typed = m.fromJson({ type: 'boolean', rules: [{ field: 'attributes.beta', operator: 'eq', value: true }, { field: 'attributes.n', operator: 'in', value: [1, 2] }], rolloutPercentage: 0 });
  typed.rules[0].conditions[0].text = 'yes';
  typed.rules[1].conditions[0].text = '1\ntwo';
  typed.rollout = '100.5';
  assert.deepEqual(m.validate(typed), new Map([
    ['rules[0].value', 'must be true or false'],
    ['rules[1].value', 'every line must be a number'],
    ['rolloutPercentage', 'a whole number from 0 to 100'],
  ]));

  const form = m.fromJson(examples[0]);
  const known = m.paths(form);
  assert.equal(m.placeError('fallthrough.split[2].weight', known), 'fallthrough.split[2].weight');
  assert.equal(m.placeError('fallthrough.split[2].share', known), 'fallthrough.split');
  assert.equal(m.placeError('variants.wizard', known), 'variants.wizard');
  assert.equal(m.placeError('variants.other', known), 'variants');
  assert.equal(m.placeError('description', known), null);
  const weights = structuredClone(form);
  weights.fallthrough.rows[2].percent = '30.334';
  assert.equal(m.validate(weights).get('fallthrough.split'), 'weights sum to 97 % — they must sum to 100 %');
});

test('a flag made and edited through the form', async (t) => {
  const segment = await origin.call('POST', '/api/admin/segments', { body: { key: 'vip', environment: 'dev', include: ['u-vip'] } });
  assert.equal(segment.status, 201, segment.text);
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);

    await t.test('creates a string flag with three variants and a 34/33/33 split', async () => {
      await page.goto(`${origin.url}#/flags/dev/new`);
      await page.getByLabel('Key').fill('form.color');
      await page.getByLabel('Template').selectOption('boolean');
      await page.getByLabel('Type', { exact: true }).selectOption('string');
      for (const [k, name, value] of [[1, 'red', 'Red'], [2, 'green', 'Green']]) {
        await page.getByLabel(`Variant ${k} name`).fill(name);
        await page.getByLabel(`Variant ${k} value (string)`).fill(value);
      }
      await page.getByRole('button', { name: 'Add a variant', exact: true }).click();
      await page.getByLabel('Variant 3 name').fill('blue');
      await page.getByLabel('Variant 3 value (string)').fill('Blue');
      await page.getByLabel(/^Off variant/).selectOption('red');
      await group(page, 'Fallthrough: a variant or a split').getByLabel('a split by weight').check();
      await page.getByLabel('Fallthrough: split 1 weight (%)').fill('34');
      await page.getByRole('button', { name: 'Add a variant to the split' }).click();
      await page.getByLabel('Fallthrough: split 2 variant').selectOption('green');
      await page.getByLabel('Fallthrough: split 2 weight (%)').fill('33');
      await page.getByRole('button', { name: 'Add a variant to the split' }).click();
      await page.getByLabel('Fallthrough: split 3 variant').selectOption('blue');
      // 34 + 33 + 32 = 99 %: said under the split, and nothing can be sent.
      await page.getByLabel('Fallthrough: split 3 weight (%)').fill('32');
      const message = page.locator('#f-fallthrough-split-error');
      await message.waitFor();
      assert.equal(await message.innerText(), 'weights sum to 99 % — they must sum to 100 %');
      assert.equal(await page.getByText('Sum: 99 %').count(), 1);
      const create = page.getByRole('button', { name: 'Create flag' });
      assert.ok(await create.isDisabled(), 'Create is disabled while the weights sum to 99 %');
      await page.getByLabel('Fallthrough: split 3 weight (%)').fill('33');
      await page.getByText('Sum: 100 %').waitFor();
      assert.equal(await message.count(), 0);
      assert.ok(await create.isEnabled());
      await create.click();
      await page.getByRole('heading', { name: 'form.color', level: 1 }).waitFor();
      const stored = await flag('form.color');
      assert.equal(stored.type, 'string');
      assert.deepEqual(stored.variants, { blue: 'Blue', green: 'Green', red: 'Red' });
      assert.equal(stored.offVariant, 'red');
      assert.deepEqual(stored.rules, []);
      assert.deepEqual(stored.fallthrough, {
        split: [
          { variant: 'red', weight: 34000 },
          { variant: 'green', weight: 33000 },
          { variant: 'blue', weight: 33000 },
        ],
      });
    });

    await t.test('adds a segment rule and an attribute rule serving a split; the API holds exactly that', async () => {
      await page.getByLabel(/^Enabled/).check();
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await page.getByLabel('Rule 1 condition 1: kind').selectOption('segment');
      await page.getByLabel('Rule 1 condition 1: segment').selectOption('vip');
      await page.getByLabel('Rule 1 serves: variant').selectOption('blue');
      await page.getByRole('button', { name: 'Add a rule' }).click();
      await page.getByLabel('Rule 2 condition 1: field').fill('country');
      await page.getByLabel('Rule 2 condition 1: operator').selectOption('in');
      await page.getByLabel('Rule 2 condition 1: value', { exact: true }).fill('DE\nAT');
      await group(page, 'Rule 2 serves: a variant or a split').getByLabel('a split by weight').check();
      await page.getByLabel('Rule 2 serves: split 1 variant').selectOption('green');
      await page.getByLabel('Rule 2 serves: split 1 weight (%)').fill('50');
      await page.getByRole('listitem', { name: 'Rule 2' }).getByRole('button', { name: 'Add a variant to the split' }).click();
      await page.getByLabel('Rule 2 serves: split 2 variant').selectOption('blue');
      // 50 + 49: Save waits.
      await page.getByLabel('Rule 2 serves: split 2 weight (%)').fill('49');
      const sum = page.locator('#f-rules-1-serve-split-error');
      await sum.waitFor();
      assert.equal(await sum.innerText(), 'weights sum to 99 % — they must sum to 100 %');
      assert.ok(await save(page).isDisabled(), 'Save is disabled while the weights sum to 99 %');
      assert.match(await page.locator('#save-why').innerText(), /^Not yet: rules\[1\]\.serve\.split: weights sum to 99 %/);
      assert.match(await page.getByLabel('Rule 2 serves: split 2 weight (%)').getAttribute('aria-describedby'), /f-rules-1-serve-split-error/);
      await page.getByLabel('Rule 2 serves: split 2 weight (%)').fill('50');
      await page.getByLabel('Rule 2 serves: bucket by (default id)').fill('email');
      assert.ok(await save(page).isEnabled());
      await shot(page, 'flag-form');
      await save(page).click();
      await page.getByText('Saved: version 2.').waitFor();
      const stored = await flag('form.color');
      assert.equal(stored.enabled, true);
      assert.deepEqual(stored.rules, [
        { segment: 'vip', serve: 'blue' },
        {
          field: 'country',
          operator: 'in',
          value: ['DE', 'AT'],
          serve: { split: [{ variant: 'green', weight: 50000 }, { variant: 'blue', weight: 50000 }], bucketBy: 'email' },
        },
      ]);
      // The origin decides as the rules say.
      const vip = await evaluate({ id: 'u-vip', country: 'DE', email: 'v@example.com' }, 'form.color');
      assert.deepEqual([vip.variant, vip.reason], ['blue', 'RULE_MATCH']);
      const seen = new Set();
      for (let i = 0; i < 12; i++) {
        const r = await evaluate({ id: `de-${i}`, country: i % 2 ? 'DE' : 'AT', email: `p${i}@example.com` }, 'form.color');
        assert.equal(r.reason, 'RULE_MATCH');
        assert.ok(['green', 'blue'].includes(r.variant), r.variant);
        seen.add(r.variant);
      }
      assert.equal(seen.size, 2, 'both halves of the split are served');
      const noEmail = await evaluate({ id: 'de-x', country: 'DE' }, 'form.color');
      assert.equal(noEmail.reason, 'ROLLOUT', 'a user without the bucketBy field falls through to the split');
      const fr = await evaluate({ id: 'fr-1', country: 'FR' }, 'form.color');
      assert.equal(fr.reason, 'ROLLOUT');
      assert.ok(['red', 'green', 'blue'].includes(fr.variant));
    });

    await t.test("the server's 400 is shown beside the field it names", async () => {
      await page.getByLabel('Rule 2 condition 1: operator').selectOption('semver_gt');
      await page.getByLabel('Rule 2 condition 1: value', { exact: true }).fill('1.2');
      await save(page).click();
      const error = page.locator('#f-rules-1-c0-value-error');
      await error.waitFor();
      assert.equal(await error.innerText(), 'rules[1].value: semver_gt needs a SemVer 2.0.0 version such as "1.2.3" or "2.0.0-rc.1+build.5"');
      const value = page.getByLabel('Rule 2 condition 1: value', { exact: true });
      assert.match(await value.getAttribute('aria-describedby'), /f-rules-1-c0-value-error/);
      assert.equal(await value.getAttribute('aria-invalid'), 'true');
      assert.equal(await page.locator('#form-error').count(), 0, 'not at the top of the form');
      assert.equal((await flag('form.color')).version, 2, 'nothing was written');
      await page.getByLabel('Rule 2 condition 1: operator').selectOption('in');
      await page.getByLabel('Rule 2 condition 1: value', { exact: true }).fill('DE\nAT');
    });

    await t.test('moving a rule changes the stored order', async () => {
      const up = page.getByRole('button', { name: 'Move rule 2 up' });
      await up.focus();
      await page.keyboard.press('Enter');
      assert.equal(await page.getByLabel('Rule 1 condition 1: field').inputValue(), 'country');
      await save(page).click();
      await page.getByText('Saved: version 3.').waitFor();
      const stored = await flag('form.color');
      assert.deepEqual(stored.rules.map((r) => r.segment ?? r.field), ['country', 'vip']);
      const vip = await evaluate({ id: 'u-vip', country: 'DE', email: 'v@example.com' }, 'form.color');
      assert.ok(['green', 'blue'].includes(vip.variant) && vip.reason === 'RULE_MATCH', 'the country rule decides first now');
    });

    await t.test('Form and JSON edit the same draft; a field the form does not know survives', async () => {
      await page.getByRole('button', { name: 'JSON', exact: true }).click();
      const editor = page.getByLabel(/^Definition/);
      const definition = JSON.parse(await editor.inputValue());
      assert.deepEqual(definition.rules, (await flag('form.color')).rules);
      definition.rules[1].note = 'kept';
      definition.offVariant = 'green';
      await editor.fill(JSON.stringify(definition, null, 2));
      await page.getByRole('button', { name: 'Form', exact: true }).click();
      assert.equal(await page.getByLabel(/^Off variant/).inputValue(), 'green');
      await page.getByLabel('Rule 2 serves: variant').selectOption('red');
      await page.getByRole('button', { name: 'JSON', exact: true }).click();
      const back = JSON.parse(await editor.inputValue());
      assert.deepEqual(back.rules[1], { segment: 'vip', serve: 'red', note: 'kept' });
      assert.equal(back.offVariant, 'green');
      // JSON that does not parse keeps you in JSON, with the reason and the text.
      await editor.fill('{"rules": [');
      await page.getByRole('button', { name: 'Form', exact: true }).click();
      const error = page.locator('#definition-error');
      await error.waitFor();
      assert.match(await error.innerText(), /^Still JSON: it does not parse/);
      assert.equal(await editor.inputValue(), '{"rules": [');
      await editor.fill(JSON.stringify(back, null, 2));
      await page.getByRole('button', { name: 'Form', exact: true }).click();
      // The server refuses the unknown field; its message goes to the rule it names.
      await save(page).click();
      const placed = page.locator('#f-rules-1-error');
      await placed.waitFor();
      assert.equal(await placed.innerText(), 'rules[1].note: unknown field');
      await page.getByRole('button', { name: 'JSON', exact: true }).click();
      delete back.rules[1].note;
      await editor.fill(JSON.stringify(back, null, 2));
      await page.getByRole('button', { name: 'Form', exact: true }).click();
      await save(page).click();
      await page.getByText('Saved: version 4.').waitFor();
      const stored = await flag('form.color');
      assert.equal(stored.offVariant, 'green');
      assert.deepEqual(stored.rules[1], { segment: 'vip', serve: 'red' });
    });

    await t.test("the impact preview takes the form's draft; a conflict keeps the form's edit", async () => {
      const users = Array.from({ length: 10 }, (_, i) => ({ id: `p-${i}`, country: 'FR' }));
      await page.getByLabel(/Users I paste or upload/).check();
      await page.getByLabel(/^Users \(a JSON array/).fill(JSON.stringify(users));
      await page.getByRole('button', { name: 'Preview with these users' }).click();
      await page.getByText('10 users pasted').waitFor();
      await settled(page, /^0 of 10 /);
      // The fallthrough split (by id for these users) becomes blue for all, in the form.
      const before = [];
      for (const user of users) before.push((await evaluate(user, 'form.color')).variant);
      const changed = before.filter((v) => v !== 'blue').length;
      assert.ok(changed > 0);
      await group(page, 'Fallthrough: a variant or a split').getByLabel('one variant').check();
      await page.getByLabel('Fallthrough: variant', { exact: true }).selectOption('blue');
      assert.match(await settled(page, /^[1-9]\d* of 10 /), new RegExp(`^${changed} of 10 sampled users`));
      // Someone else writes in between: the save is a conflict, the form's edit is kept and saved over it.
      const other = await origin.call('POST', '/api/admin/tokens', { body: { name: 'olga (api)', role: 'editor', environments: ['dev'] } });
      assert.equal(other.status, 201, other.text);
      const stored = await flag('form.color');
      const write = await origin.call('PUT', `/api/admin/flags/${stored.id}`, { token: other.body.secret, body: { description: 'changed elsewhere' }, ifMatch: stored.version });
      assert.equal(write.status, 200, write.text);
      await save(page).click();
      await page.getByRole('alert').filter({ hasText: 'Changed by olga (api) since you opened it' }).waitFor();
      await page.getByRole('button', { name: `Keep my edit (save it over version ${stored.version + 1})` }).click();
      assert.equal(await page.getByLabel('Fallthrough: variant', { exact: true }).inputValue(), 'blue');
      await save(page).click();
      await page.getByText(`Saved: version ${stored.version + 2}.`).waitFor();
      assert.equal((await flag('form.color')).fallthrough, 'blue');
      for (const user of users) assert.equal((await evaluate(user, 'form.color')).variant, 'blue');
      await settled(page, /^0 of 10 /);
    });

    await t.test('on a phone the form fits the screen', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      assert.equal(await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth), false, 'the form scrolls sideways');
      await shot(page, 'phone-flag-form');
      await page.setViewportSize({ width: 1280, height: 860 });
    });

    await t.test('no other host, no page error, no CSP violation', async () => {
      await noViolations(page);
      assert.deepEqual(problems, []);
    });
  } finally {
    await context.close();
  }
});

test('a v1 boolean flag: the rollout slider and a prerequisite', async () => {
  const made = await origin.call('POST', '/api/admin/flags', { body: { key: 'form.gate', environment: 'dev', rolloutPercentage: 0 } });
  assert.equal(made.status, 201, made.text);
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/flag/${made.body.flag.id}`);
    const slider = page.getByLabel('Rollout percentage (slider)');
    const number = page.getByLabel(/^Rollout percentage \(users/);
    await slider.focus();
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowRight');
    assert.equal(await number.inputValue(), '3');
    await number.fill('25');
    assert.equal(await slider.inputValue(), '25');
    await page.getByRole('button', { name: 'Add a prerequisite' }).click();
    await page.getByLabel('Prerequisite 1: flag').selectOption('form.color');
    const serves = page.getByRole('group', { name: 'Prerequisite 1: it must serve one of' });
    await serves.getByLabel('green').check();
    await serves.getByLabel('blue').check();
    await save(page).click();
    await page.getByText('Saved: version 2.').waitFor();
    const stored = await flag('form.gate');
    assert.equal(stored.rolloutPercentage, 25);
    assert.equal(stored.fallthrough, undefined);
    assert.deepEqual(stored.prerequisites, [{ flag: 'form.color', variants: ['green', 'blue'] }]);
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});

test("an object variant's JSON: a parse error beside it, nothing saved, then saved", async () => {
  const made = await origin.call('POST', '/api/admin/flags', {
    body: { key: 'form.layout', environment: 'dev', type: 'object', variants: { a: { x: 1 }, b: {} }, offVariant: 'a', fallthrough: 'a' },
  });
  assert.equal(made.status, 201, made.text);
  const { context, page } = await newPage();
  try {
    await signIn(page, ADMIN_TOKEN);
    await page.goto(`${origin.url}#/flag/${made.body.flag.id}`);
    const value = page.getByLabel('Variant 2 value (JSON object)');
    await value.fill('{"x": ');
    const error = page.locator('#f-variant-1-error');
    await error.waitFor();
    assert.match(await error.innerText(), /^not JSON: /);
    assert.equal(await value.getAttribute('aria-invalid'), 'true');
    assert.ok(await save(page).isDisabled(), 'no save with a variant that is not JSON');
    assert.equal((await flag('form.layout')).version, 1);
    await value.fill('{"x": 2, "y": [1, "two"]}');
    assert.equal(await error.count(), 0);
    await save(page).click();
    await page.getByText('Saved: version 2.').waitFor();
    assert.deepEqual((await flag('form.layout')).variants, { a: { x: 1 }, b: { x: 2, y: [1, 'two'] } });
    await noViolations(page);
    assert.deepEqual(problems, []);
  } finally {
    await context.close();
  }
});
