// The built package as a Node user gets it: packed, installed into a scratch project with npm, imported
// by its bare name from plain ESM; then every golden vector and every kind of bad input.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allCases } from './cases.mjs';
import { installPackage, loadVectors, repoRoot } from './scratch.mjs';

const scratch = installPackage();
after(() => scratch.remove());
const api = await scratch.import();

test('the package exports evaluate, evaluateAll and Evaluator', () => {
  assert.deepEqual(Object.keys(api).sort(), ['Evaluator', 'evaluate', 'evaluateAll']);
});

test('package.json: name, workspace version, exports and types', () => {
  const pkg = JSON.parse(readFileSync(join(scratch.packageDir, 'package.json'), 'utf8'));
  const workspace = readFileSync(join(repoRoot, 'Cargo.toml'), 'utf8');
  const version = /\[workspace\.package\][^[]*?\nversion\s*=\s*"([^"]+)"/.exec(workspace)?.[1];
  assert.equal(pkg.name, '@pennon/evaluator');
  assert.equal(pkg.version, version);
  assert.equal(pkg.type, 'module');
  for (const condition of ['types', 'node', 'browser', 'import', 'default']) {
    assert.ok(pkg.exports['.'][condition], `exports has a ${condition} condition`);
  }
  for (const file of ['index.d.ts', 'node.js', 'browser.js', 'core.js', 'README.md', 'wasm/pennon_evaluator.js', 'wasm/pennon_evaluator_bg.wasm']) {
    assert.ok(readFileSync(join(scratch.packageDir, file)).length > 0, `${file} is installed`);
  }
  // No `any` in the types (comments aside); types.test.mjs checks them with tsc.
  const declarations = readFileSync(join(scratch.packageDir, 'index.d.ts'), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(declarations, /\bany\b/);
});

for (const c of allCases(api, loadVectors())) test(c.name, c.run);
