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
  // What a JSON import gives TypeScript: plain strings where the types have unions.
  writeFileSync(
    join(scratch.dir, 'snapshot.json'),
    JSON.stringify({
      environment: 'prod',
      revision: 3,
      flags: [
        { key: 'a', enabled: true, rolloutPercentage: 5, rules: [{ field: 'country', operator: 'in', value: ['DE'] }] },
        { key: 'b', enabled: true, type: 'string', variants: { x: 'x', y: 'y' }, offVariant: 'x', rules: [{ segment: 'beta', serve: 'y' }], fallthrough: { split: [{ variant: 'x', weight: 50000 }, { variant: 'y', weight: 50000 }] } },
      ],
      segments: [{ key: 'beta', include: ['user-1'], rules: [] }],
    }),
  );
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
        resolveJsonModule: true,
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
