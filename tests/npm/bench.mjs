// Evaluations per second from Node through the built package (dist/npm): `Evaluator.evaluate(user)`
// over the 100 flags and the user of the native criterion benches `evaluate_all/flags/100` (v1) and
// `evaluate_all_v2/flags/100` (v2) — the same sets, from bench-sets.mjs — so the ratio to the native
// figure is the cost of the package around the evaluation.
//
//   node tests/npm/bench.mjs [runs=7] [seconds per run=1]
//   PENNON_NPM_DIR=<another build's directory>   measure that build instead of dist/npm
//   PENNON_NATIVE_V1_US=<µs> PENNON_NATIVE_V2_US=<µs>   the criterion medians, to print the ratios
import { pathToFileURL } from 'node:url';
import { SETS, median } from './bench-sets.mjs';

const packageDir = process.env.PENNON_NPM_DIR
  ? pathToFileURL(`${process.env.PENNON_NPM_DIR}/`)
  : new URL('../../dist/npm/', import.meta.url);
const { Evaluator } = await import(new URL('node.js', packageDir).href);

const runs = Number(process.argv[2] ?? 7);
const seconds = Number(process.argv[3] ?? 1);
const native = { v1: Number(process.env.PENNON_NATIVE_V1_US), v2: Number(process.env.PENNON_NATIVE_V2_US) };

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
  return { median: median(wall), min: Math.min(...wall), max: Math.max(...wall), cpu: median(cpu) };
}

const fmt = (n) => Math.round(n).toLocaleString('en-US');
function report(name, r, nativeUs) {
  const us = 1e6 / r.median;
  const cpuUs = 1e6 / r.cpu;
  let line = `${name}: median ${fmt(r.median)} calls/s (min ${fmt(r.min)}, max ${fmt(r.max)}), ${us.toFixed(2)} µs/call; ` +
    `per CPU second: ${fmt(r.cpu)} calls, ${cpuUs.toFixed(2)} µs/call`;
  if (nativeUs > 0) line += `; native ${nativeUs} µs: ${(us / nativeUs).toFixed(2)}× (CPU time ${(cpuUs / nativeUs).toFixed(2)}×)`;
  console.log(line);
}

console.log(`node ${process.version}, ${runs} runs of ${seconds} s, ${packageDir.pathname}`);
for (const set of SETS) {
  const evaluator = new Evaluator(set.source());
  if (evaluator.evaluate(set.user).length !== 100) throw new Error(`${set.name}: expected 100 results`);
  for (let i = 0; i < 20_000; i += 1) evaluator.evaluate(set.user); // warm-up
  report(`${set.name} Evaluator.evaluate(user), 100 flags (${set.native})`, measure(() => evaluator.evaluate(set.user)), native[set.name]);
  if (set.name === 'v1') {
    report('v1 Evaluator.evaluateFlag(key, user)', measure(() => evaluator.evaluateFlag('team-0.feature_0042', set.user)));
  }
  evaluator.free();
}
