// Installs the built package into a throw-away project the way a user would: `npm pack` of dist/npm,
// then `npm install <tarball>` (so the `files` list and `exports` are what gets tested), offline.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const distDir = join(repoRoot, 'dist', 'npm');
export const vectorsDir = join(repoRoot, 'tests', 'vectors');

const npmFlags = ['--offline', '--no-audit', '--no-fund', '--loglevel=error'];

/** A scratch project with @pennon/evaluator installed; `remove()` deletes it. */
export function installPackage() {
  if (!existsSync(join(distDir, 'package.json'))) {
    throw new Error(`${distDir} has no package.json: run scripts/build-npm first`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'pennon-npm-'));
  const tarball = execFileSync('npm', ['pack', distDir, '--pack-destination', dir, ...npmFlags], {
    encoding: 'utf8',
  })
    .trim()
    .split('\n')
    .pop();
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'pennon-scratch', version: '1.0.0', private: true, type: 'module' }),
  );
  execFileSync('npm', ['install', join(dir, tarball), ...npmFlags], { cwd: dir, stdio: 'inherit' });
  // A module of the scratch project, so that the bare specifier resolves through the package's
  // `exports` with Node's conditions, exactly as in a user's code.
  writeFileSync(join(dir, 'entry.mjs'), "export * from '@pennon/evaluator';\n");
  return {
    dir,
    packageDir: join(dir, 'node_modules', '@pennon', 'evaluator'),
    import: () => import(pathToFileURL(join(dir, 'entry.mjs')).href),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * The golden vectors: `valid` is every tests/vectors/*.json as {file, vector}; `invalidFlags`,
 * `invalidSegments`, `invalidSets` and `invalidRequests` are the cases of
 * tests/vectors/invalid/{flags,segments,sets,requests}.json (segments and sets: [] until they exist).
 */
export function loadVectors() {
  const files = readdirSync(vectorsDir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (files.length === 0) throw new Error(`no vectors in ${vectorsDir}`);
  const read = (path) => JSON.parse(readFileSync(join(vectorsDir, path), 'utf8'));
  return {
    valid: files.map((file) => ({ file, vector: read(file) })),
    invalidFlags: read('invalid/flags.json').cases,
    invalidSegments: existsSync(join(vectorsDir, 'invalid/segments.json')) ? read('invalid/segments.json').cases : [],
    invalidSets: existsSync(join(vectorsDir, 'invalid/sets.json')) ? read('invalid/sets.json').cases : [],
    invalidRequests: read('invalid/requests.json').cases,
  };
}
