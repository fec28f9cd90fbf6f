// The package README's Node example, run as written (only the origin's address changes) in a scratch
// project against the real origin with its demo flags: each `// { ... }` line under a console.log
// must be what that call prints.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { installPackage, repoRoot } from './scratch.mjs';

const EDGE_TOKEN = 'readme-edge-token';
const originBin = process.env.ORIGIN_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(repoRoot, 'target'), 'debug', 'origin');
const scratch = installPackage();
const dbDir = mkdtempSync(join(tmpdir(), 'pennon-readme-origin-'));
let origin;
let originUrl;

before(async () => {
  origin = spawn(originBin, ['--seed-demo'], {
    cwd: dbDir,
    env: { ...process.env, DATABASE_URL: `sqlite://${join(dbDir, 'r.db')}`, HOST: '127.0.0.1', PORT: '0', ADMIN_TOKEN: 'readme-admin', EDGE_TOKEN, RUST_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  originUrl = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`origin not ready in 30 s:\n${output}`)), 30_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /pennon origin listening on (http:\/\/\S+)/.exec(output);
      if (match) { clearTimeout(timer); resolve(match[1]); }
    };
    origin.stdout.on('data', onData);
    origin.stderr.on('data', onData);
    origin.on('error', (err) => { clearTimeout(timer); reject(err); });
    origin.on('exit', (code) => { clearTimeout(timer); reject(new Error(`origin exited (${code}):\n${output}`)); });
  });
});
after(() => {
  origin?.kill('SIGKILL');
  rmSync(dbDir, { recursive: true, force: true });
  scratch.remove();
});

test("the README's Node example prints what its comments say", async () => {
  const readme = readFileSync(join(scratch.packageDir, 'README.md'), 'utf8');
  const code = /^## Node[^\n]*\n[\s\S]*?```js\n([\s\S]*?)```/m.exec(readme)?.[1];
  assert.ok(code, 'the README has a ```js block under "## Node"');
  assert.ok(code.includes('http://127.0.0.1:3000'), 'the example talks to the local origin');
  const expected = code.split('\n').filter((line) => /^\/\/ \{/.test(line)).map((line) => line.slice(3));
  assert.ok(expected.length >= 2, 'the example shows its output');
  const file = join(scratch.dir, 'readme-node.mjs');
  writeFileSync(file, code.replaceAll('http://127.0.0.1:3000', originUrl));
  const { stdout } = await promisify(execFile)(process.execPath, [file], {
    cwd: scratch.dir,
    env: { ...process.env, EDGE_TOKEN },
  });
  assert.deepEqual(stdout.trimEnd().split('\n'), expected);
});
