// Plumbing of the OpenFeature tests: real origin processes (the `origin` binary, SQLite or a fresh
// PostgreSQL database, restartable on the same port and store), the admin API, the golden vectors,
// and a scratch project with the built packages installed the way a user installs them.
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const HERE = join(ROOT, 'tests', 'openfeature');
export const ADMIN_TOKEN = 'openfeature-test-admin';
export const EDGE_TOKEN = 'openfeature-test-edge';
export const ORIGIN_BIN = process.env.ORIGIN_BIN
  ?? join(process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target'), 'debug', 'origin');
export const PG_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Whatever a run starts is stopped when it ends, even half-way through a failed test.
const live = new Set();
const cleanups = [];
process.on('exit', () => {
  for (const child of live) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
  for (const cleanup of cleanups) {
    try { cleanup(); } catch { /* best effort */ }
  }
});

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** A fresh PostgreSQL database; dropped when the run ends. Resolves to its URL. */
export function createPgDatabase() {
  const name = `pennon_of_${process.pid}_${Date.now().toString(36)}`;
  execFileSync('psql', [PG_URL, '-qc', `CREATE DATABASE ${name}`], { stdio: ['ignore', 'ignore', 'inherit'] });
  cleanups.push(() => execFileSync('psql', [PG_URL, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`], { stdio: 'ignore' }));
  return PG_URL.replace(/\/[^/]*$/, `/${name}`);
}

/**
 * An origin process: `start()` (again after `kill()`: same store, same port), `kill()` (SIGKILL:
 * no goodbye to its streams), `url`. `databaseUrl` defaults to a fresh SQLite file.
 */
export function originProcess({ databaseUrl, env = {}, port: fixedPort = 0 } = {}) {
  const dir = tempDir('pennon-of-origin-');
  const db = databaseUrl ?? `sqlite://${join(dir, 'o.db')}`;
  let child;
  let port = fixedPort;
  const origin = {
    url: undefined,
    async start() {
      child = spawn(ORIGIN_BIN, [], {
        cwd: dir,
        env: {
          ...process.env,
          DATABASE_URL: db,
          HOST: '127.0.0.1',
          PORT: String(port),
          ADMIN_TOKEN,
          EDGE_TOKEN,
          RUST_LOG: 'warn',
          ...env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      live.add(child);
      let output = '';
      const url = await new Promise((resolveUrl, reject) => {
        const timer = setTimeout(() => reject(new Error(`origin not ready in 30 s:\n${output}`)), 30_000);
        const onData = (chunk) => {
          output += chunk;
          const match = /pennon origin listening on (http:\/\/\S+)/.exec(output);
          if (match) { clearTimeout(timer); resolveUrl(match[1]); }
        };
        child.stdout.on('data', onData);
        child.stderr.on('data', onData);
        child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`origin exited (${code}):\n${output}`)); });
      });
      child.removeAllListeners('exit');
      child.on('exit', () => live.delete(child));
      origin.url = url;
      port = Number(new URL(url).port);
      return origin;
    },
    async kill() {
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
  return origin;
}

/** An admin API call; throws on an unexpected status; resolves to the parsed body (or null). */
export async function admin(originUrl, method, path, body, expected) {
  const res = await fetch(`${originUrl}/api/admin${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN, 'x-actor': 'openfeature-tests' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expected) throw new Error(`${method} ${path}: expected ${expected}, got ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}

/** A token of `role` in `environments`; resolves to its secret. */
export async function createToken(originUrl, role, environments) {
  const { secret } = await admin(originUrl, 'POST', '/tokens', { name: `openfeature ${role}`, role, environments }, 201);
  return secret;
}

/**
 * The golden vectors the origin can hold: every tests/vectors/*.json but v2-dangling.json, whose
 * documents name flags and segments that are not there (the origin refuses to store them by design,
 * so no provider fed by an origin can meet them).
 */
export function loadVectors() {
  const dir = join(ROOT, 'tests', 'vectors');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && f !== 'v2-dangling.json')
    .sort()
    .map((file) => ({ file, ...JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
}

/** A vector file's segments, then its flags in file order, into the origin through the admin API. */
export async function loadVectorIntoOrigin(originUrl, vector) {
  const inEnv = (doc) => ({ environment: vector.environment, ...doc });
  for (const segment of vector.segments ?? []) await admin(originUrl, 'POST', '/segments', inEnv(segment), 201);
  for (const flag of vector.flags) await admin(originUrl, 'POST', '/flags', inEnv(flag), 201);
}

/** A vector case's user as an OpenFeature context, or undefined when no context can say it. */
export function contextOf(user) {
  const { id, email, country } = user;
  const attributes = user.attributes ?? {};
  if (['targetingKey', 'email', 'country'].some((k) => Object.hasOwn(attributes, k))) return undefined;
  const context = { targetingKey: id, ...attributes };
  if (email !== undefined) context.email = email;
  if (country !== undefined) context.country = country;
  return context;
}

/** Pennon's reason as OpenFeature's, as the contract's OFREP section maps it. */
export const OPENFEATURE_REASON = {
  RULE_MATCH: 'TARGETING_MATCH',
  ROLLOUT: 'SPLIT',
  NO_MATCH: 'DEFAULT',
  FLAG_DISABLED: 'DISABLED',
  PREREQUISITE_FAILED: 'DISABLED',
};

/** The typed call for a value: [method suffix, a default of that type that no vector serves]. */
export function typedCall(value) {
  if (typeof value === 'boolean') return ['Boolean', !value];
  if (typeof value === 'string') return ['String', '\u0000default'];
  if (typeof value === 'number') return ['Number', -424242.5];
  return ['Object', { __default: true }];
}

/**
 * npm-installs the built packages (dist/npm, dist/openfeature-provider, packed to tarballs) with the
 * pinned SDK of tests/openfeature (its package-lock.json) into a throw-away project, as a user
 * would. Needs the registry only if npm's cache lacks the SDK. `import()` gives
 * {PennonProvider, OpenFeature, ProviderEvents, ...} from that project.
 */
export function installScratch() {
  for (const pkg of ['npm', 'openfeature-provider']) {
    if (!existsSync(join(ROOT, 'dist', pkg, 'package.json'))) {
      throw new Error(`dist/${pkg} is missing: run scripts/build-npm and scripts/build-openfeature-provider`);
    }
  }
  const dir = tempDir('pennon-of-scratch-');
  const flags = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'];
  copyFileSync(join(HERE, 'package.json'), join(dir, 'package.json'));
  copyFileSync(join(HERE, 'package-lock.json'), join(dir, 'package-lock.json'));
  execFileSync('npm', ['ci', ...flags], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  const tarballs = ['npm', 'openfeature-provider'].map((pkg) =>
    join(dir, execFileSync('npm', ['pack', join(ROOT, 'dist', pkg), '--pack-destination', dir, ...flags], { encoding: 'utf8' })
      .trim().split('\n').pop()));
  execFileSync('npm', ['install', '--no-save', ...flags, ...tarballs], { cwd: dir, stdio: ['ignore', 'ignore', 'inherit'] });
  writeFileSync(join(dir, 'entry.mjs'), [
    "export * from '@pennon/openfeature-provider';",
    "export { OpenFeature, ProviderEvents, ErrorCode, ServerProviderStatus } from '@openfeature/server-sdk';",
    '',
  ].join('\n'));
  return { dir, import: () => import(pathToFileURL(join(dir, 'entry.mjs')).href) };
}

export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? sorted[(n - 1) / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { n, median, p90: sorted[Math.min(n - 1, Math.ceil(0.9 * n) - 1)], max: sorted[n - 1] };
}

export const ms = (x) => `${x.toFixed(1)} ms`;
