// Figures of the edge worker (not a test): warm POST /api/evaluate for 100 flags inside workerd over
// loopback, measured with wrk, and the time from an admin write to the edge serving it at the
// default TTL. Run: scripts/bench-edge (builds first). Loopback only; every loop is bounded.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { Miniflare } from 'miniflare';

import {
  EDGE_TOKEN, admin, originRevision, postEvaluate, replaceFlags, sleep, startEdge, startOrigin, tempDir, waitForEdgeRevision, workerDir,
} from './harness.mjs';
import { hundredFlags } from './flag-sets.mjs';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WRITES = Number(process.env.BENCH_WRITES ?? 8);

const USER = {
  id: 'user-4711',
  email: 'someone@example.org',
  country: 'SE',
  attributes: { plan: 'free', org: { tier: 3 } },
};

/**
 * The built worker in workerd through Miniflare's own server: the figure without wrangler dev's
 * proxy in front (the tests use wrangler dev; its extra hop is measured once for comparison).
 */
async function startMiniflare(originUrl) {
  const dir = workerDir();
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(dir, 'index.js'),
    modulesRoot: dir,
    modulesRules: [{ type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-04-20',
    bindings: { ORIGIN_URL: originUrl, SNAPSHOT_TTL_SECONDS: '10', EDGE_TOKEN },
    host: '127.0.0.1',
    port: 0,
  });
  const url = String(await mf.ready).replace(/\/$/, '');
  return { url, stop: () => mf.dispose() };
}

function wrk(url, body, connections, path = '/api/evaluate') {
  const dir = tempDir('pennon-bench-');
  const script = join(dir, 'post.lua');
  writeFileSync(script, [
    `wrk.method = "${body === null ? 'GET' : 'POST'}"`,
    body === null ? '' : `wrk.body = ${JSON.stringify(body)}`,
    'wrk.headers["content-type"] = "application/json"',
    // Any non-200 is counted so that a broken run cannot pass for a fast one.
    'local bad = 0',
    'response = function(status) if status ~= 200 then bad = bad + 1 end end',
    '',
  ].join('\n'));
  const out = execFileSync('wrk', [
    '-t', connections > 1 ? '2' : '1', '-c', String(connections), '-d', `${SECONDS}s`,
    '--latency', '-s', script, `${url}${path}`,
  ], { encoding: 'utf8' });
  const pct = (p) => out.match(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'))?.[1];
  const rps = out.match(/Requests\/sec:\s+(\S+)/)?.[1];
  const errors = out.match(/Non-2xx or 3xx responses: (\d+)/)?.[1] ?? '0';
  return { p50: pct(50), p90: pct(90), p99: pct(99), rps, errors };
}

async function main() {
  const origin = await startOrigin();
  // The default TTL (10 s) for both figures: the warm path never waits on the origin within it.
  const edge = await startMiniflare(origin.url);
  const viaWrangler = await startEdge({ originUrl: origin.url, ttlSeconds: 10 });
  try {
    const revision = await replaceFlags(origin.url, 'prod', hundredFlags());
    await waitForEdgeRevision(edge.url, 'prod', revision);
    const request = { environment: 'prod', user: USER };
    const sample = await postEvaluate(edge.url, request);
    const results = JSON.parse(sample.text).results.length;
    if (sample.status !== 200 || results !== 100) throw new Error(`warm-up: ${sample.status}, ${results} results`);
    const body = JSON.stringify(request);
    console.log(`POST /api/evaluate, ${results} flags, body ${body.length} B -> response ${sample.text.length} B`);
    for (const connections of [1, 8]) {
      for (let run = 1; run <= RUNS; run++) {
        const r = wrk(edge.url, body, connections);
        console.log(`edge  c=${connections} run ${run}: p50 ${r.p50}  p90 ${r.p90}  p99 ${r.p99}  ${r.rps} req/s  non-2xx ${r.errors}`);
      }
    }
    // The same chain (wrangler's dev proxy -> workerd) without evaluation: what the 100 flags cost.
    for (let run = 1; run <= RUNS; run++) {
      const h = wrk(edge.url, null, 1, '/health');
      console.log(`edge  GET /health baseline c=1 run ${run}: p50 ${h.p50}  p90 ${h.p90}  p99 ${h.p99}  ${h.rps} req/s`);
    }
    await postEvaluate(viaWrangler.url, request);
    const w = wrk(viaWrangler.url, body, 1);
    console.log(`through wrangler dev's proxy c=1: p50 ${w.p50}  p90 ${w.p90}  p99 ${w.p99}  ${w.rps} req/s  non-2xx ${w.errors}`);
    const o = wrk(origin.url, body, 1);
    console.log(`origin (debug build) c=1 for comparison: p50 ${o.p50}  p99 ${o.p99}  ${o.rps} req/s`);

    // Write -> edge serving it, at TTL 10 s, with a client polling every 50 ms (as live traffic
    // would): the wait depends on when in the TTL window the write lands.
    const { flags: [flag] } = await admin(origin.url, 'GET', '/flags?environment=prod&key=bench.flag-001', undefined, 200);
    const probe = { environment: 'prod', user: USER, flags: ['bench.flag-001'] };
    const waits = [];
    for (let i = 0; i < WRITES; i++) {
      // A random point in the TTL window, so the waits sample it evenly (0 .. TTL).
      await sleep(Math.random() * 10_000);
      await admin(origin.url, 'PUT', `/flags/${flag.id}`, { enabled: i % 2 === 1 }, 200);
      const written = performance.now();
      const want = await originRevision(origin.url, 'prod');
      for (;;) {
        const res = await postEvaluate(edge.url, probe);
        if (Number(res.headers.get('x-pennon-revision')) >= want) break;
        if (performance.now() - written > 20_000) throw new Error('edge never caught up');
        await sleep(50);
      }
      waits.push(performance.now() - written);
    }
    waits.sort((a, b) => a - b);
    const fmt = (ms) => `${(ms / 1000).toFixed(2)} s`;
    console.log(`write -> edge serving it (TTL 10 s, ${WRITES} writes): min ${fmt(waits[0])}, median ${fmt(waits[Math.floor(waits.length / 2)])}, max ${fmt(waits.at(-1))}`);
  } finally {
    await edge.stop();
    await viaWrangler.stop();
    await origin.stop();
  }
}

main().catch((err) => { console.error(err); process.exitCode = 1; });
