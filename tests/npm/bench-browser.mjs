// The Node bench (bench.mjs) in headless Chromium: `Evaluator.evaluate(user)` over the v1 and v2
// 100-flag sets of bench-sets.mjs, through the package's browser build (browser.js) on a page served
// from localhost. A page has no CPU clock: the figures are wall-clock medians.
//
//   node tests/npm/bench-browser.mjs [runs=7] [seconds per run=1]
//   PENNON_NPM_DIR=<another build's directory>   measure that build instead of dist/npm
//   PENNON_NATIVE_V1_US=<µs> PENNON_NATIVE_V2_US=<µs>   the criterion medians, to print the ratios
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { fileIn, serve, startBrowser } from './chromium.mjs';

const here = new URL('.', import.meta.url);
const packageDir = process.env.PENNON_NPM_DIR ?? fileURLToPath(new URL('../../dist/npm/', import.meta.url));
const runs = Number(process.argv[2] ?? 7);
const seconds = Number(process.argv[3] ?? 1);
const native = { v1: Number(process.env.PENNON_NATIVE_V1_US), v2: Number(process.env.PENNON_NATIVE_V2_US) };

const server = await serve(async (path) => {
  if (path === '/') return { body: await readFile(new URL('bench-page.html', here)), type: 'text/html; charset=utf-8' };
  if (path === '/bench-sets.mjs') return { body: await readFile(new URL('bench-sets.mjs', here)), type: 'text/javascript' };
  if (path.startsWith('/pkg/')) return fileIn(packageDir, path.slice('/pkg/'.length));
  throw Object.assign(new Error('not found'), { code: 'ENOENT' });
});
const browser = await startBrowser();
try {
  const report = await browser.run(`${server.url}?runs=${runs}&seconds=${seconds}`);
  if (report.fatal !== undefined) throw new Error(`the page failed: ${report.fatal}`);
  console.log(`Chromium ${browser.version}, ${runs} runs of ${seconds} s, ${packageDir}`);
  const fmt = (n) => Math.round(n).toLocaleString('en-US');
  for (const r of report.results) {
    const us = 1e6 / r.median;
    let line = `${r.name}: median ${fmt(r.median)} calls/s (min ${fmt(r.min)}, max ${fmt(r.max)}), ${us.toFixed(2)} µs/call`;
    const nativeUs = native[r.set];
    if (nativeUs > 0) line += `; native ${nativeUs} µs: ${(us / nativeUs).toFixed(2)}×`;
    console.log(line);
  }
} finally {
  await browser.close();
  await server.close();
}
