// Evaluations per second from Node through the built package (dist/npm): `Evaluator.evaluate(user)`
// over 100 flags for one user, the same flags and user as the native criterion bench
// `evaluate_all/flags/100` (evaluator/benches/evaluate.rs), so the ratio is the cost of the boundary.
//
//   node tests/npm/bench.mjs [runs=7] [seconds per run=1]     (PENNON_NPM_DIR: another build's directory)
import { pathToFileURL } from 'node:url';

const packageDir = process.env.PENNON_NPM_DIR
  ? pathToFileURL(`${process.env.PENNON_NPM_DIR}/`)
  : new URL('../../dist/npm/', import.meta.url);
const { Evaluator } = await import(new URL('node.js', packageDir).href);

const runs = Number(process.argv[2] ?? 7);
const seconds = Number(process.argv[3] ?? 1);

const user = {
  id: 'user-8f14e45f-ceea-467e-a9b6',
  email: 'jane@example.com',
  country: 'DE',
  attributes: { plan: 'pro', age: 34, beta: true, org: { tier: 'gold', seats: 40 } },
};

// evaluator/benches/evaluate.rs: missing_rule, flag_with_rules, mixed_flags.
function missingRule(i) {
  switch (i % 5) {
    case 0: return { field: 'country', operator: 'in', value: ['US', 'CA', 'MX', 'BR', 'AR', 'CL'] };
    case 1: return { field: 'email', operator: 'ends_with', value: '@pennon.dev' };
    case 2: return { field: 'attributes.org.tier', operator: 'eq', value: 'platinum' };
    case 3: return { all: [{ field: 'attributes.plan', operator: 'eq', value: 'pro' },
                           { field: 'attributes.age', operator: 'in', value: [18, 19, 20, 21] }] };
    default: return { field: 'id', operator: 'starts_with', value: 'internal-' };
  }
}
function mixedFlags(n) {
  return Array.from({ length: n }, (_, i) => ({
    key: `team-${i % 7}.feature_${String(i).padStart(4, '0')}`,
    enabled: i % 10 !== 0,
    rolloutPercentage: 50,
    rules: Array.from({ length: i % 3 === 0 ? 0 : 1 + (i % 5) }, (_, r) => missingRule(r)),
  }));
}

/**
 * Calls per second, by the wall clock and by the process's CPU time: on a machine shared with other
 * work, the CPU-time rate is the steadier of the two.
 */
function measure(fn) {
  const wall = [];
  const cpu = [];
  for (let run = 0; run < runs; run += 1) {
    let calls = 0;
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    const end = start + BigInt(Math.round(seconds * 1e9));
    let now = start;
    while (now < end) {
      for (let i = 0; i < 100; i += 1) fn();
      calls += 100;
      now = process.hrtime.bigint();
    }
    const used = process.cpuUsage(cpuStart);
    wall.push(calls / (Number(now - start) / 1e9));
    cpu.push(calls / ((used.user + used.system) / 1e6));
  }
  const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { median: median(wall), min: wall[0], max: wall[wall.length - 1], cpu: median(cpu) };
}

const evaluator = new Evaluator(mixedFlags(100));
if (evaluator.evaluate(user).length !== 100) throw new Error('expected 100 results');
for (let i = 0; i < 20_000; i += 1) evaluator.evaluate(user); // warm-up

const fmt = (n) => Math.round(n).toLocaleString('en-US');
const report = (name, r, perCall = 1) =>
  console.log(`${name}: median ${fmt(r.median)} calls/s (min ${fmt(r.min)}, max ${fmt(r.max)}), ` +
    `${(1e6 / r.median).toFixed(2)} µs/call` + (perCall > 1 ? `, ${fmt(r.median * perCall)} flag evaluations/s` : '') +
    `; per CPU second: ${fmt(r.cpu)} calls`);

console.log(`node ${process.version}, ${runs} runs of ${seconds} s`);
report('Evaluator.evaluate(user), 100 flags', measure(() => evaluator.evaluate(user)), 100);
report('Evaluator.evaluateFlag(key, user)', measure(() => evaluator.evaluateFlag('team-3.feature_0042', user)));
evaluator.free();
