// CPU time of the edge worker (not a test): what Cloudflare bills, measured from outside workerd,
// since workerd freezes Date.now() and performance.now() while a request runs and no in-worker timer
// can measure it. Run: scripts/bench-edge cpu (builds first). Loopback only; every loop is bounded.
//
// The worker runs in a bare `workerd serve` (the binary of the `workerd` npm package, the one wrangler
// and Miniflare run) with a config of its own: no Miniflare entry worker and no wrangler proxy in
// front, so the workerd process does nothing but serve this worker. Its CPU time is read from
// /proc: per thread from /proc/<pid>/task/<tid>/schedstat (nanoseconds on CPU), and for the whole
// process from /proc/<pid>/stat (utime + stime, clock ticks, exited threads included) as a check.
// "isolate thread" is the thread that ran the requests (the one that used the most CPU in the
// window): the closest figure to Cloudflare's, which counts the isolate's own execution; "process"
// adds workerd's other threads (V8's background compilers and GC, I/O threads).
//
// 1. Warm requests: wrk (one thread, CPU_CONNECTIONS keep-alive connections, CPU_SECONDS per run)
//    drives one route; CPU per request = the CPU delta over the run / the requests wrk completed.
//    The snapshot TTL is a day, so no request of the window talks to the origin. Routes: OPTIONS
//    (the CORS preflight: workerd's HTTP, the JS shim and the wasm call, a 204 with headers, and
//    nothing of Pennon's work), GET /health, POST /api/evaluate with "flags": [] (the request
//    path without evaluation), and POST /api/evaluate of all 100 flags of the version-1 and the
//    version-2 set (scripts/load-test's users, 64 of them in turn). "net" = a route minus OPTIONS.
// 2. A snapshot install in a warm isolate: the TTL is 0, so every request revalidates, and a
//    scripted origin answers each with the 1,000-flag snapshot (a new revision each time: the
//    worker reads, parses and compiles it, and drops the previous set), or with a 304 (the same
//    round trip and request, no body). The difference is the install.
// 3. The first install of a cold isolate: a fresh workerd per sample, instantiated by two
//    GET /health; then one POST /api/evaluate makes it fetch and compile the 1,000-flag snapshot,
//    against the same with an empty snapshot. The difference is what 1,000 flags cost on a cold
//    isolate: wasm functions run for the first time (compiled lazily by V8, not yet optimised).
// 4. The same snapshot bytes parsed and compiled natively (evaluator's `compile_snapshot` example,
//    release build), for the ratio wasm-in-workerd / native.
//
// Env: CPU_RUNS (5), CPU_SECONDS (5), CPU_CONNECTIONS (4), CPU_COLD_SAMPLES (7),
// CPU_COMPARE_WITH (a directory with another build of the worker, e.g. the previous commit's
// build/edge-worker: the warm routes are measured on both, alternately, in the same run),
// CPU_ONLY (warm, install, cold or native: one part only).
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';

import workerd from 'workerd';

import {
  EDGE_TOKEN, ROOT, admin, freePort, originRevision, postEvaluate, replaceFlags, sleep, startOrigin,
  startProcess, tempDir, workerDir,
} from './harness.mjs';
import { hundredFlags, loadTestUser, v2Flags, v2Segments } from './flag-sets.mjs';

const RUNS = Number(process.env.CPU_RUNS ?? 5);
const SECONDS = Number(process.env.CPU_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CPU_CONNECTIONS ?? 4);
const COLD_SAMPLES = Number(process.env.CPU_COLD_SAMPLES ?? 7);
const COMPARE_WITH = process.env.CPU_COMPARE_WITH;
const ONLY = process.env.CPU_ONLY;
// The package's default export is the path of the binary it installed (CommonJS, seen through ESM).
const WORKERD_BIN = workerd.default ?? workerd;
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const us = (ns) => `${(ns / 1000).toFixed(1)} µs`;
const ms = (ns) => `${(ns / 1e6).toFixed(2)} ms`;

// ---- CPU time of a process, from /proc ----------------------------------------------------------

/** Nanoseconds on CPU of each live thread of `pid`. */
function threadTimes(pid) {
  const times = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      times.set(tid, Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]));
    } catch { /* the thread exited meanwhile */ }
  }
  return times;
}

/** utime + stime of the whole process (exited threads included), in nanoseconds. */
function processTime(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e9) / CLOCK_TICKS;
}

function cpuMark(pid) {
  return { threads: threadTimes(pid), process: processTime(pid) };
}

/**
 * CPU used since `before`: `thread`, the busiest thread's (the isolate's); `threads`, all live
 * threads' (nanosecond precision); `process`, from the clock ticks of the whole process.
 */
function cpuSince(pid, before) {
  const after = cpuMark(pid);
  let thread = 0;
  let threads = 0;
  for (const [tid, ns] of after.threads) {
    const used = ns - (before.threads.get(tid) ?? 0);
    threads += used;
    thread = Math.max(thread, used);
  }
  return { thread, threads, process: after.process - before.process };
}

// ---- the worker in a bare workerd ---------------------------------------------------------------

/**
 * The built worker in `dir` (build/edge-worker's files) served by workerd alone on a free port,
 * with the worker's vars as text bindings, outbound fetches allowed to loopback (the origin).
 */
async function startWorkerd(dir, { originUrl, ttlSeconds }) {
  const home = tempDir('pennon-edge-workerd-');
  const files = readdirSync(dir).filter((f) => /\.(m?js|wasm)$/.test(f));
  for (const file of files) cpSync(join(dir, file), join(home, file));
  const modules = files
    .map((f) => `(name = "${f}", ${f.endsWith('.wasm') ? 'wasm' : 'esModule'} = embed "${f}")`)
    .sort((a, b) => Number(b.includes('"index.js"')) - Number(a.includes('"index.js"')));
  const port = await freePort();
  const text = (name, value) => `(name = "${name}", text = ${JSON.stringify(value)})`;
  writeFileSync(join(home, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "edge")],
);
const edge :Workerd.Worker = (
  modules = [${modules.join(', ')}],
  compatibilityDate = "2026-04-20",
  bindings = [${[
    text('ORIGIN_URL', originUrl),
    text('SNAPSHOT_TTL_SECONDS', String(ttlSeconds)),
    text('EDGE_TOKEN', EDGE_TOKEN),
  ].join(', ')}],
);
`);
  const proc = startProcess('workerd', WORKERD_BIN, ['serve', join(home, 'config.capnp')], {
    cwd: home, env: {}, ready: null, timeoutMs: 0,
  });
  await proc.started;
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${url}/health`);
      await res.arrayBuffer();
      if (res.status === 200) break;
      throw new Error(`GET /health: ${res.status}`);
    } catch (err) {
      if (i > 150) throw new Error(`workerd did not serve: ${err.message}\n${proc.output()}`);
    }
    await sleep(100);
  }
  return { url, pid: proc.child.pid, stop: proc.stop, output: proc.output };
}

// ---- wrk ----------------------------------------------------------------------------------------

/** A wrk script sending `method path` with `bodies` (JSON strings) in turn. */
function wrkScript(method, path, headers, bodies) {
  const lua = (s) => JSON.stringify(s);
  const script = join(tempDir('pennon-cpu-wrk-'), 'script.lua');
  writeFileSync(script, [
    `local bodies = {${bodies.map(lua).join(', ')}}`,
    `local headers = {${Object.entries(headers).map(([k, v]) => `[${lua(k)}] = ${lua(v)}`).join(', ')}}`,
    'local i = 0',
    'request = function()',
    '  i = i % math.max(#bodies, 1) + 1',
    `  return wrk.format(${lua(method)}, ${lua(path)}, headers, bodies[i])`,
    'end',
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format("RESULT requests=%d non2xx=%d errors=%d\\n", summary.requests,',
    '    e.status, e.connect + e.read + e.write + e.timeout))',
    'end',
    '',
  ].join('\n'));
  return script;
}

/**
 * Runs wrk against `url` for `seconds`; resolves to the requests completed (all 2xx, or throws).
 * Asynchronous: the scripted origin of the install figures answers from this process meanwhile.
 */
async function wrk(url, script, { connections, seconds }) {
  const { stdout: out } = await promisify(execFile)('wrk', [
    '-t', '1', '-c', String(connections), '-d', `${seconds}s`, '-s', script, url,
  ], { encoding: 'utf8' });
  const m = out.match(/RESULT requests=(\d+) non2xx=(\d+) errors=(\d+)/);
  if (!m) throw new Error(`wrk said:\n${out}`);
  const [requests, non2xx, errors] = m.slice(1).map(Number);
  if (non2xx || errors || !requests) throw new Error(`wrk: ${requests} requests, ${non2xx} non-2xx, ${errors} errors`);
  return requests;
}

/** CPU per request of one wrk run: { thread, threads, process } in ns, and the requests. */
async function measure(edge, script, options) {
  const before = cpuMark(edge.pid);
  const requests = await wrk(edge.url, script, options);
  const used = cpuSince(edge.pid, before);
  return {
    requests,
    thread: used.thread / requests,
    threads: used.threads / requests,
    process: used.process / requests,
  };
}

// ---- the parts ----------------------------------------------------------------------------------

const JSON_HEADERS = { 'content-type': 'application/json' };
const USERS = Array.from({ length: 64 }, (_, n) => loadTestUser(0, n + 1));

function warmRoutes() {
  const evaluate = (environment, extra = {}) => USERS.map((user) => JSON.stringify({ environment, user, ...extra }));
  return [
    {
      name: 'OPTIONS /api/evaluate (preflight)',
      script: wrkScript('OPTIONS', '/api/evaluate', { origin: 'https://app.example', 'access-control-request-method': 'POST' }, []),
    },
    { name: 'GET /health', script: wrkScript('GET', '/health', {}, []) },
    {
      name: 'POST /api/evaluate, "flags": [] (v2 set)',
      script: wrkScript('POST', '/api/evaluate', JSON_HEADERS, evaluate('prod', { flags: [] })),
    },
    { name: 'POST /api/evaluate, 100 v1 flags', script: wrkScript('POST', '/api/evaluate', JSON_HEADERS, evaluate('staging')) },
    { name: 'POST /api/evaluate, 100 v2 flags', script: wrkScript('POST', '/api/evaluate', JSON_HEADERS, evaluate('prod')) },
  ];
}

async function seedWarmSets(originUrl) {
  await replaceFlags(originUrl, 'staging', hundredFlags());
  for (const segment of v2Segments()) {
    await admin(originUrl, 'POST', '/segments', { ...segment, environment: 'prod' }, 201);
  }
  await replaceFlags(originUrl, 'prod', v2Flags(100));
}

/** Warms each worker on both sets and checks that it answers 100 results. */
async function warmUp(edge) {
  for (const environment of ['staging', 'prod']) {
    const res = await postEvaluate(edge.url, { environment, user: USERS[0] });
    const results = res.status === 200 ? JSON.parse(res.text).results.length : 0;
    if (results !== 100) throw new Error(`${edge.label}: ${environment}: ${res.status}, ${results} results`);
  }
  for (const route of warmRoutes()) await wrk(edge.url, route.script, { connections: CONNECTIONS, seconds: 1 });
}

async function warm(origin) {
  await seedWarmSets(origin.url);
  const edges = [];
  try {
    edges.push({ label: 'this build', ...(await startWorkerd(workerDir(), { originUrl: origin.url, ttlSeconds: 86_400 })) });
    if (COMPARE_WITH) {
      edges.push({ label: `compared: ${COMPARE_WITH}`, ...(await startWorkerd(COMPARE_WITH, { originUrl: origin.url, ttlSeconds: 86_400 })) });
    }
    for (const edge of edges) await warmUp(edge);
    const sample = await postEvaluate(edges[0].url, { environment: 'prod', user: USERS[0] });
    console.log(`warm: ${RUNS} runs of ${SECONDS} s per route, ${CONNECTIONS} connections, snapshot TTL 1 day; ` +
      `v2 answer ${sample.text.length} B`);
    const routes = warmRoutes();
    const samples = new Map();
    // Routes and builds alternate within each run, so that a busy spell of the shared machine
    // falls on all of them rather than on one.
    for (let run = 0; run < RUNS; run++) {
      for (const route of routes) {
        for (const edge of edges) {
          const key = `${edge.label}\u0000${route.name}`;
          if (!samples.has(key)) samples.set(key, []);
          samples.get(key).push(await measure(edge, route.script, { connections: CONNECTIONS, seconds: SECONDS }));
        }
      }
    }
    for (const edge of edges) {
      console.log(`\n${edge.label}: CPU per request, medians of ${RUNS} runs (isolate thread | all threads | process ticks)`);
      const of = (route) => samples.get(`${edge.label}\u0000${route.name}`);
      const floor = median(of(routes[0]).map((s) => s.thread));
      const floorAll = median(of(routes[0]).map((s) => s.threads));
      for (const route of routes) {
        const s = of(route);
        const thread = median(s.map((x) => x.thread));
        const threads = median(s.map((x) => x.threads));
        const ticks = median(s.map((x) => x.process));
        const requests = median(s.map((x) => x.requests));
        const net = route === routes[0] ? '' : `   net of OPTIONS: ${us(thread - floor)} | ${us(threads - floorAll)}`;
        console.log(`  ${route.name.padEnd(42)} ${us(thread).padStart(9)} | ${us(threads).padStart(9)} | ${us(ticks).padStart(9)}` +
          `   (${requests} req/run)${net}`);
      }
    }
  } finally {
    for (const edge of edges) await edge.stop();
  }
}

/**
 * A scripted origin serving `body(revision)` for the snapshot: `mode` 'fresh' answers 200 with a new
 * revision every time, 'same' answers 304 to the ETag of the last one.
 */
async function snapshotServer(body) {
  const state = { mode: 'fresh', revision: 1, fresh: 0, notModified: 0 };
  const server = createServer((req, res) => {
    if (req.headers['x-edge-token'] !== EDGE_TOKEN) {
      res.writeHead(401).end();
      return;
    }
    if (req.method === 'POST') {
      // The edge's evaluation counts (USAGE_REPORT_SECONDS): taken, not part of the figures.
      req.resume();
      req.on('end', () => res.writeHead(202, { 'content-type': 'application/json' }).end('{"accepted":0,"ignored":0}'));
      return;
    }
    if (state.mode === 'same' && req.headers['if-none-match'] === `"${state.revision}"`) {
      state.notModified++;
      res.writeHead(304, { etag: `"${state.revision}"` }).end();
      return;
    }
    state.revision++;
    state.fresh++;
    res.writeHead(200, { 'content-type': 'application/json', etag: `"${state.revision}"` }).end(body(state.revision));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    state,
    stop: () => new Promise((r) => { server.closeAllConnections(); server.close(r); }),
  };
}

/**
 * The origin's own snapshot of 1,000 version-2 flags and their segments (in `dev`, apart from the
 * warm sets), as the bytes it sends an edge, with a function putting another revision in them.
 */
async function thousandFlagSnapshot(originUrl) {
  for (const segment of v2Segments()) {
    await admin(originUrl, 'POST', '/segments', { ...segment, environment: 'dev' }, 201);
  }
  const started = performance.now();
  for (const flag of v2Flags(1000)) {
    await admin(originUrl, 'POST', '/flags', { ...flag, environment: 'dev' }, 201);
  }
  const revision = await originRevision(originUrl, 'dev');
  const res = await fetch(`${originUrl}/api/flags/snapshot?environment=dev`, { headers: { 'x-edge-token': EDGE_TOKEN } });
  const text = await res.text();
  const parsed = JSON.parse(text);
  if (parsed.revision !== revision || parsed.flags.length !== 1000) throw new Error('unexpected snapshot');
  const marker = `"revision":${revision}`;
  const at = text.indexOf(marker);
  if (at < 0 || text.indexOf(marker, at + 1) >= 0) throw new Error('the revision is not where expected');
  const withRevision = (n) => text.slice(0, at) + `"revision":${n}` + text.slice(at + marker.length);
  if (JSON.stringify({ ...parsed, revision: 9 }) !== JSON.stringify(JSON.parse(withRevision(9)))) {
    throw new Error('replacing the revision changed more than the revision');
  }
  console.log(`\n1,000-flag v2 snapshot from the origin: ${text.length} B, ${parsed.segments.length} segments ` +
    `(seeded in ${((performance.now() - started) / 1000).toFixed(0)} s)`);
  return { text, withRevision };
}

/** One flag asked for, so that evaluating and answering weigh the same in every mode. */
const ONE_FLAG = JSON.stringify({ environment: 'dev', user: USERS[0], flags: ['flag_001'] });

async function install(snapshot) {
  const server = await snapshotServer(snapshot.withRevision);
  const edge = await startWorkerd(workerDir(), { originUrl: server.url, ttlSeconds: 0 });
  try {
    const script = wrkScript('POST', '/api/evaluate', JSON_HEADERS, [ONE_FLAG]);
    // One connection: every request revalidates by itself (with more, some would be answered from
    // the snapshot in hand while another revalidates).
    const options = { connections: 1, seconds: SECONDS };
    for (const mode of ['fresh', 'same']) {
      server.state.mode = mode;
      await wrk(edge.url, script, { connections: 1, seconds: 1 });
    }
    const samples = { fresh: [], same: [] };
    for (let run = 0; run < RUNS; run++) {
      for (const mode of ['fresh', 'same']) {
        server.state.mode = mode;
        const before = { ...server.state };
        const s = await measure(edge, script, options);
        const fetched = server.state.fresh - before.fresh + server.state.notModified - before.notModified;
        const wanted = mode === 'fresh' ? server.state.fresh - before.fresh : server.state.notModified - before.notModified;
        // Every request must have revalidated, and answered as the mode says (wrk may leave the
        // last request of a run unanswered when its time is up).
        if (Math.abs(fetched - s.requests) > 1 || Math.abs(wanted - s.requests) > 1) {
          throw new Error(`${mode}: ${s.requests} requests but ${fetched} fetches (${wanted} as ${mode})`);
        }
        samples[mode].push(s);
      }
    }
    const res = await postEvaluate(edge.url, ONE_FLAG);
    if (res.status !== 200) throw new Error(`after the installs: ${res.status} ${res.text}`);
    const med = (mode, k) => median(samples[mode].map((s) => s[k]));
    console.log(`\nsnapshot install in a warm isolate, ${RUNS} runs of ${SECONDS} s each way, one connection, TTL 0:`);
    for (const [mode, what] of [['fresh', '200 + 1,000-flag snapshot'], ['same', '304 (no body)']]) {
      console.log(`  per request, ${what.padEnd(26)} ${ms(med(mode, 'thread')).padStart(9)} isolate thread | ` +
        `${ms(med(mode, 'threads')).padStart(9)} all threads (${median(samples[mode].map((s) => s.requests))} req/run)`);
    }
    console.log(`  => an install (read + parse + compile + drop the old set): ${ms(med('fresh', 'thread') - med('same', 'thread'))} ` +
      `isolate thread, ${ms(med('fresh', 'threads') - med('same', 'threads'))} all threads`);
  } finally {
    await edge.stop();
    await server.stop();
  }
}

async function coldSample(body) {
  const server = await snapshotServer(body);
  const edge = await startWorkerd(workerDir(), { originUrl: server.url, ttlSeconds: 86_400 });
  try {
    // Two /health: the module is instantiated and the request path has run once.
    for (let i = 0; i < 2; i++) await (await fetch(`${edge.url}/health`)).arrayBuffer();
    await sleep(200);
    const before = cpuMark(edge.pid);
    const res = await postEvaluate(edge.url, ONE_FLAG);
    const used = cpuSince(edge.pid, before);
    if (res.status !== 200 || server.state.fresh !== 1) throw new Error(`cold: ${res.status}, ${server.state.fresh} fetches`);
    return used;
  } finally {
    await edge.stop();
    await server.stop();
  }
}

async function cold(snapshot) {
  const empty = (n) => JSON.stringify({ environment: 'dev', revision: n, flags: [], segments: [] });
  const samples = { full: [], empty: [] };
  for (let i = 0; i < COLD_SAMPLES; i++) {
    samples.full.push(await coldSample(snapshot.withRevision));
    samples.empty.push(await coldSample(empty));
  }
  const med = (k, f) => median(samples[k].map((s) => s[f]));
  console.log(`\nfirst request of a fresh isolate (fetch + install + answer), medians of ${COLD_SAMPLES} fresh workerd processes:`);
  console.log(`  1,000-flag snapshot: ${ms(med('full', 'thread'))} isolate thread | ${ms(med('full', 'threads'))} all threads`);
  console.log(`  empty snapshot:      ${ms(med('empty', 'thread'))} isolate thread | ${ms(med('empty', 'threads'))} all threads`);
  console.log(`  => 1,000 flags on a cold isolate: ${ms(med('full', 'thread') - med('empty', 'thread'))} isolate thread, ` +
    `${ms(med('full', 'threads') - med('empty', 'threads'))} all threads`);
}

function native(snapshot) {
  const file = join(tempDir('pennon-cpu-snapshot-'), 'snapshot.json');
  writeFileSync(file, snapshot.text);
  execFileSync('cargo', ['build', '--quiet', '--release', '-p', 'evaluator', '--example', 'compile_snapshot'], { cwd: ROOT, stdio: 'inherit' });
  const targetDir = process.env.CARGO_TARGET_DIR ?? join(ROOT, 'target');
  const out = execFileSync(join(targetDir, 'release', 'examples', 'compile_snapshot'), [file], { encoding: 'utf8' });
  console.log(`\nnative (release build of evaluator, this machine), the same bytes:\n  ${out.trim().split('\n').join('\n  ')}`);
}

async function main() {
  const origin = await startOrigin();
  try {
    if (!ONLY || ONLY === 'warm') await warm(origin);
    if (ONLY === 'warm') return;
    const snapshot = await thousandFlagSnapshot(origin.url);
    if (!ONLY || ONLY === 'install') await install(snapshot);
    if (!ONLY || ONLY === 'cold') await cold(snapshot);
    if (!ONLY || ONLY === 'native') native(snapshot);
  } finally {
    await origin.stop();
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
