// The built package as a Node user gets it: packed, installed into a scratch project with npm, imported
// by its bare name from plain ESM; then every golden vector and every kind of bad input.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { allCases } from './cases.mjs';
import { installPackage, loadVectors, repoRoot } from './scratch.mjs';
import { signatureCases } from './signature-cases.mjs';
import { signatureFixtures } from './signature-fixtures.mjs';

const scratch = installPackage();
after(() => scratch.remove());
const api = await scratch.import();

test('the package exports evaluate, evaluateAll, Evaluator and SignatureError', () => {
  assert.deepEqual(Object.keys(api).sort(), ['Evaluator', 'SignatureError', 'evaluate', 'evaluateAll']);
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
  for (const file of ['index.d.ts', 'node.js', 'browser.js', 'core.js', 'signature.js', 'README.md', 'wasm/pennon_evaluator.js', 'wasm/pennon_evaluator_bg.wasm']) {
    assert.ok(readFileSync(join(scratch.packageDir, file)).length > 0, `${file} is installed`);
  }
  // No `any` in the types (comments aside); types.test.mjs checks them with tsc.
  const declarations = readFileSync(join(scratch.packageDir, 'index.d.ts'), 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  assert.doesNotMatch(declarations, /\bany\b/);
});

for (const c of allCases(api, loadVectors())) test(c.name, c.run);

for (const c of signatureCases(api, signatureFixtures())) test(c.name, c.run);

/** The origin binary on a fresh SQLite file with `env`; resolves to { url, stop }. */
async function startOrigin(env) {
  const originBin = process.env.ORIGIN_BIN
    ?? join(process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target'), 'debug', 'origin');
  const dir = mkdtempSync(join(tmpdir(), 'pennon-npm-signing-'));
  const child = spawn(originBin, [], {
    cwd: dir,
    env: { ...process.env, DATABASE_URL: `sqlite://${join(dir, 'o.db')}`, HOST: '127.0.0.1', PORT: '0', RUST_LOG: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stop = () => { child.kill('SIGKILL'); rmSync(dir, { recursive: true, force: true }); };
  const url = await new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`origin not ready in 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /pennon origin listening on (http:\/\/\S+)/.exec(output);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`origin exited (${code}):\n${output}`)); });
  }).catch((err) => { stop(); throw err; });
  return { url, stop };
}

test('signatures: a snapshot signed by a real origin verifies with the key it publishes', async () => {
  // A 32-byte seed in hex, as SNAPSHOT_SIGNING_KEY takes it.
  const origin = await startOrigin({
    SNAPSHOT_SIGNING_KEY: '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb',
    ADMIN_TOKEN: 'npm-admin', EDGE_TOKEN: 'npm-edge',
  });
  try {
    const created = await fetch(`${origin.url}/api/admin/flags`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-admin-token': 'npm-admin' },
      body: JSON.stringify({ key: 'from-origin', environment: 'staging', enabled: true, rolloutPercentage: 100 }),
    });
    assert.equal(created.status, 201, await created.text());
    const { keys } = await (await fetch(`${origin.url}/api/flags/signing-keys`)).json();
    assert.equal(keys.length, 1);
    const res = await fetch(`${origin.url}/api/flags/snapshot?environment=staging`, { headers: { 'x-edge-token': 'npm-edge' } });
    assert.equal(res.status, 200);
    const header = res.headers.get('pennon-signature');
    assert.match(header, new RegExp(`^v1; key=${keys[0].kid}; env=staging; version=1; `));
    const body = new Uint8Array(await res.arrayBuffer());
    const evaluator = await api.Evaluator.verified(body, header, { publicKeys: [keys[0].x], environment: 'staging', minVersion: 1 });
    assert.equal(evaluator.revision, 1);
    assert.deepEqual(evaluator.evaluateFlag('from-origin', { id: 'u' }),
      { flagKey: 'from-origin', enabled: true, reason: 'ROLLOUT', variant: 'on', value: true });
    evaluator.free();
    // The same body one byte off is refused.
    body[body.length - 2] ^= 1;
    await assert.rejects(api.Evaluator.verified(body, header, { publicKeys: [keys[0].x] }),
      (err) => err instanceof api.SignatureError && err.reason === 'bad-signature');
  } finally {
    origin.stop();
  }
});
