// Processes and HTTP helpers for the edge worker's tests: a real origin (the `origin` binary on a
// temporary SQLite file), the built worker under `wrangler dev` (workerd), and a scripted fake origin
// for the cache behaviours that need counting or slowness. Everything listens on 127.0.0.1 only.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADMIN_TOKEN = 'edge-test-admin-token';
export const EDGE_TOKEN = 'edge-test-edge-token';
const TARGET_DIR = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target');
export const ORIGIN_BIN = process.env.ORIGIN_BIN ?? join(TARGET_DIR, 'debug', 'origin');
const WRANGLER = join(ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');
const BUILD_DIR = join(ROOT, 'build', 'edge-worker');

let workerCopy;
/**
 * A private copy of the built worker, made once per test process: wrangler dev reloads when its
 * `main` changes, and another run of scripts/build-edge-worker (a concurrent suite) rewrites
 * build/edge-worker, which would restart the isolates under test mid-request.
 */
export function workerDir() {
  if (!workerCopy) {
    workerCopy = tempDir('pennon-edge-build-');
    cpSync(BUILD_DIR, workerCopy, { recursive: true });
  }
  return workerCopy;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Whatever a run leaves behind is removed when it ends, even when a test failed half-way: the
// process groups it started (origin, wrangler + workerd) and its temporary directories.
const liveGroups = new Set();
const tempDirs = [];
process.on('exit', () => {
  for (const pid of liveGroups) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

/** A port that is free now (the OS picks it; the socket is closed before use). */
export async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/**
 * Spawns `cmd` in its own process group and resolves once `ready` matches its output (at once when
 * `ready` is null: the caller probes it itself).
 */
export function startProcess(name, cmd, args, { env, cwd, ready, timeoutMs }) {
  const child = spawn(cmd, args, {
    cwd,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  let exited = false;
  liveGroups.add(child.pid);
  const exitPromise = new Promise((r) => child.on('exit', () => { exited = true; r(); }));
  const stop = async () => {
    if (exited) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000);
    await exitPromise;
    clearTimeout(timer);
    liveGroups.delete(child.pid);
  };
  // A process that never got ready is stopped before the error is passed on: the caller holds no
  // handle to stop it, and its open pipes would keep the test file from ever finishing.
  const starting = new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${name} not ready within ${timeoutMs} ms; output:\n${output}`));
    }, timeoutMs);
    if (ready === null) { clearTimeout(timer); resolveStart(null); }
    const onData = (chunk) => {
      output += chunk.toString();
      if (ready === null) return;
      const match = output.match(ready);
      if (match) { clearTimeout(timer); resolveStart(match); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before it was ready; output:\n${output}`));
    });
  });
  const started = starting.catch(async (err) => {
    await stop();
    throw err;
  });
  return { child, started, stop, output: () => output };
}

/** The real origin on a fresh SQLite file (more variables in `env`); resolves to { url, stop, dir }. */
export async function startOrigin(env = {}) {
  const dir = tempDir('pennon-edge-origin-');
  const proc = startProcess('origin', ORIGIN_BIN, [], {
    cwd: dir,
    env: {
      DATABASE_URL: `sqlite://${join(dir, 'e.db')}`,
      HOST: '127.0.0.1',
      PORT: '0',
      ADMIN_TOKEN,
      EDGE_TOKEN,
      RUST_LOG: 'warn',
      ...env,
    },
    ready: /pennon origin listening on (http:\/\/\S+)/,
    timeoutMs: 30_000,
  });
  const match = await proc.started;
  return { url: match[1], stop: proc.stop, dir };
}

/**
 * The built worker under `wrangler dev` with its own config in a temp dir (no [build]: the tests
 * build once), EDGE_TOKEN through .dev.vars as a local secret, more vars in `vars` (such as
 * USAGE_REPORT_SECONDS). Every start is a fresh isolate.
 */
export async function startEdge({ originUrl, ttlSeconds = 1, edgeToken = EDGE_TOKEN, vars = {}, hub = false, port, dir }) {
  // `dir`: an earlier edge's, to start again on its local state (.wrangler/state: the hubs'
  // storage and the Cache API).
  dir ??= tempDir('pennon-edge-wrangler-');
  port ??= await freePort();
  writeFileSync(join(dir, 'wrangler.toml'), [
    'name = "pennon-edge-test"',
    `main = ${JSON.stringify(join(workerDir(), 'index.js'))}`,
    'compatibility_date = "2026-04-20"',
    // The hub of each environment (edge-worker/src/hub.rs), as in the root wrangler.toml.
    ...(hub ? HUB_CONFIG : []),
    '[vars]',
    `ORIGIN_URL = ${JSON.stringify(originUrl)}`,
    `SNAPSHOT_TTL_SECONDS = "${ttlSeconds}"`,
    ...Object.entries(vars).map(([name, value]) => `${name} = ${JSON.stringify(String(value))}`),
    '',
  ].join('\n'));
  writeFileSync(join(dir, '.dev.vars'), `EDGE_TOKEN=${edgeToken}\n`);
  return startEdgeProcess(dir, port);
}

/** The Durable Object binding and migration of the hubs (the root wrangler.toml's). */
const HUB_CONFIG = [
  '[[durable_objects.bindings]]',
  'name = "SNAPSHOT_HUB"',
  'class_name = "SnapshotHub"',
  '[[migrations]]',
  'tag = "v1"',
  'new_sqlite_classes = ["SnapshotHub"]',
];

/** The hub's status through the worker: { environment, version, stale, nowMs, counts }. */
export async function hubStatus(edgeUrl, environment = 'prod', token = EDGE_TOKEN) {
  const res = await fetch(`${edgeUrl}/api/edge/hub?environment=${environment}`, { headers: { 'x-edge-token': token } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`hub status: ${res.status} ${text}`);
  return JSON.parse(text);
}

async function startEdgeProcess(dir, port) {
  const proc = startProcess('wrangler dev', process.execPath, [
    WRANGLER, 'dev', '--config', join(dir, 'wrangler.toml'),
    '--ip', '127.0.0.1', '--port', String(port), '--inspector-port', String(await freePort()),
  ], {
    cwd: dir,
    env: {
      WRANGLER_SEND_METRICS: 'false',
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      CI: 'true',
    },
    ready: /Ready on/,
    timeoutMs: 60_000,
  });
  await proc.started;
  const url = `http://127.0.0.1:${port}`;
  // "Ready" is printed as workerd starts listening; make sure it answers (whatever the status: a
  // misconfigured worker answers 503) before handing it out.
  for (let i = 0; i < 100; i++) {
    try {
      await (await fetch(`${url}/health`)).arrayBuffer();
      break;
    } catch { /* not yet */ }
    await sleep(100);
  }
  return { url, stop: proc.stop, output: proc.output, dir };
}

/** POST /api/evaluate with a raw body; resolves to { status, headers, text }. */
export async function postEvaluate(baseUrl, body) {
  const send = () => fetch(`${baseUrl}/api/evaluate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  let res;
  try {
    res = await send();
  } catch (err) {
    // A kept-alive connection that the server closed while idle: undici retries only idempotent
    // requests by itself. Anything else (a refused connection, a second failure) is thrown.
    if (err?.cause?.code !== 'UND_ERR_SOCKET') throw err;
    res = await send();
  }
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/**
 * A poller of what the edge serves `body`'s environment: each call answers the revision served and
 * whether it was said stale, and asserts it never goes below one served before.
 */
export function servedRevision(edgeUrl, body) {
  let highest = 0;
  return async () => {
    const res = await postEvaluate(edgeUrl, body);
    assert.equal(res.status, 200, res.text);
    const revision = Number(res.headers.get('x-pennon-revision'));
    assert.ok(revision >= highest, `the edge served ${revision} after ${highest}`);
    highest = revision;
    return { revision, stale: res.headers.get('x-pennon-snapshot') === 'stale' };
  };
}

/**
 * POST an OFREP request: the bulk route when `key` is '', else the single flag `key`. `body` is
 * sent as it is when a string, else as JSON; `headers` add to (or replace) the JSON content type.
 */
export async function postOfrep(baseUrl, key, body, headers = {}) {
  const path = key === '' ? '/ofrep/v1/evaluate/flags' : `/ofrep/v1/evaluate/flags/${encodeURIComponent(key)}`;
  const send = () => fetch(`${baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: new TextEncoder().encode(typeof body === 'string' ? body : JSON.stringify(body)),
  });
  let res;
  try {
    res = await send();
  } catch (err) {
    if (err?.cause?.code !== 'UND_ERR_SOCKET') throw err;
    res = await send();
  }
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The evaluate request's user as an OFREP body: `id` → `targetingKey`, the attributes beside. */
export function contextOf(user) {
  const context = { targetingKey: user.id };
  for (const field of ['email', 'country']) {
    if (field in user) context[field] = user[field];
  }
  return { context: { ...context, ...(user.attributes ?? {}) } };
}

const OPEN_FEATURE_REASONS = {
  RULE_MATCH: 'TARGETING_MATCH',
  ROLLOUT: 'SPLIT',
  NO_MATCH: 'DEFAULT',
  FLAG_DISABLED: 'DISABLED',
  PREREQUISITE_FAILED: 'DISABLED',
};

/** Pennon's reason as OpenFeature's (the contract's table). */
export function openFeatureReason(reason) {
  const mapped = OPEN_FEATURE_REASONS[reason];
  if (!mapped) throw new Error(`no OFREP reason for ${reason}`);
  return mapped;
}

/** The OFREP item an evaluate result (of a flag that exists) must be. */
export function expectedOfrepItem(result) {
  return {
    key: result.flagKey,
    variant: result.variant,
    value: result.value,
    reason: openFeatureReason(result.reason),
    metadata: { pennonReason: result.reason },
  };
}

/** An admin API call on the origin; throws on an unexpected status. */
export async function admin(originUrl, method, path, body, expected) {
  const res = await fetch(`${originUrl}/api/admin${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-admin-token': ADMIN_TOKEN, 'x-actor': 'edge-tests' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== expected) {
    throw new Error(`${method} ${path}: expected ${expected}, got ${res.status}: ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

/** The origin's current revision of `environment`, as the edge would see it. */
export async function originRevision(originUrl, environment) {
  const res = await fetch(`${originUrl}/api/flags/snapshot?environment=${environment}`, {
    headers: { 'x-edge-token': EDGE_TOKEN },
  });
  if (res.status !== 200) throw new Error(`snapshot: ${res.status} ${await res.text()}`);
  return (await res.json()).revision;
}

/** Replaces every flag of `environment` on the origin with `flags` (vector Flag JSON). */
export async function replaceFlags(originUrl, environment, flags) {
  const { flags: existing } = await admin(originUrl, 'GET', `/flags?environment=${environment}`, undefined, 200);
  for (const flag of existing) {
    await admin(originUrl, 'DELETE', `/flags/${flag.id}`, undefined, 204);
  }
  for (const flag of flags) {
    await admin(originUrl, 'POST', '/flags', { ...flag, environment }, 201);
  }
  return originRevision(originUrl, environment);
}

/**
 * Evaluates on the edge until it serves `revision` of `environment` (it revalidates after its TTL);
 * resolves to the milliseconds that took.
 */
export async function waitForEdgeRevision(edgeUrl, environment, revision, timeoutMs = 15_000) {
  const start = performance.now();
  const body = { environment, user: { id: 'sync-probe' }, flags: [] };
  for (;;) {
    const res = await postEvaluate(edgeUrl, body);
    if (res.status === 200 && Number(res.headers.get('x-pennon-revision')) >= revision) {
      return performance.now() - start;
    }
    if (performance.now() - start > timeoutMs) {
      throw new Error(`edge still at revision ${res.headers.get('x-pennon-revision')} (status ${res.status}), want ${revision}`);
    }
    await sleep(20);
  }
}

export function loadVectors() {
  const dir = join(ROOT, 'tests', 'vectors');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, ...JSON.parse(readFileSync(join(dir, f), 'utf8')) }));
}

export function loadInvalidRequests() {
  return JSON.parse(readFileSync(join(ROOT, 'tests', 'vectors', 'invalid', 'requests.json'), 'utf8')).cases;
}

/**
 * A scripted origin for the cache's timing: serves one snapshot per environment with an ETag,
 * answers 304 to a matching If-None-Match, and records every request. `delayMs` and `status` can be
 * changed between requests. `POST /api/usage` (the edge's evaluation counts) is recorded apart, in
 * `usage` ({ headers, body, at, status }), and answered with `usageStatus` after `usageDelayMs`.
 */
export async function startFakeOrigin(snapshot) {
  const state = {
    snapshot, delayMs: 0, status: null, requests: [], usage: [], usageStatus: 202, usageDelayMs: 0,
  };
  const server = createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/api/usage') {
      const chunks = [];
      for await (const chunk of req) chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = state.usageStatus;
      state.usage.push({ headers: req.headers, text, at: performance.now(), status });
      if (state.usageDelayMs) await sleep(state.usageDelayMs);
      const counts = JSON.parse(text).counts ?? [];
      res.writeHead(status, { 'content-type': 'application/json' })
        .end(status === 202 ? JSON.stringify({ accepted: counts.length, ignored: 0 }) : '{"error":"scripted"}');
      return;
    }
    state.requests.push({ url: req.url, headers: req.headers, at: performance.now() });
    if (state.delayMs) await sleep(state.delayMs);
    if (req.headers['x-edge-token'] !== EDGE_TOKEN) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"bad edge token"}');
      return;
    }
    if (state.status) {
      res.writeHead(state.status, { 'content-type': 'application/json' }).end('{"error":"scripted"}');
      return;
    }
    const etag = `"${state.snapshot.revision}"`;
    if (req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', etag }).end(JSON.stringify(state.snapshot));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}`;
  const stop = () => new Promise((r) => { server.closeAllConnections(); server.close(r); });
  return { url, state, stop };
}
