// Type-checks tests/npm/types-check.ts against the installed package's index.d.ts with TypeScript's
// strict mode (tsc from target/npm-tools, installed by scripts/test-npm, or $TSC).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { installPackage, repoRoot } from './scratch.mjs';

const tsc = process.env.TSC ?? join(repoRoot, 'target', 'npm-tools', 'node_modules', '.bin', 'tsc');
const scratch = installPackage();
after(() => scratch.remove());

test('index.d.ts accepts correct code and refuses wrong code under tsc --strict', () => {
  assert.ok(existsSync(tsc), `TypeScript is not installed at ${tsc} (scripts/test-npm installs it)`);
  copyFileSync(new URL('types-check.ts', import.meta.url), join(scratch.dir, 'types-check.ts'));
  writeFileSync(
    join(scratch.dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'es2022',
        module: 'nodenext',
        moduleResolution: 'nodenext',
        noUnusedLocals: false,
        skipLibCheck: false,
        types: [],
      },
      files: ['types-check.ts'],
    }),
  );
  try {
    execFileSync(tsc, ['-p', scratch.dir], { encoding: 'utf8' });
  } catch (err) {
    assert.fail(`tsc found errors:\n${err.stdout}${err.stderr}`);
  }
});
