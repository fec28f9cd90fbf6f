// Builds the console into dist/ (committed; the origin embeds it, see origin/build.rs). Every file
// but index.html goes to assets/ under a content-hashed name; nothing is inlined, so the page's
// Content-Security-Policy needs no 'unsafe-inline'. `@pennon/evaluator` is the repo's own build
// (dist/npm, made by scripts/build-npm), not a registry copy; PENNON_EVALUATOR_DIR points at
// another build of it (scripts/test-console uses this to rebuild with the bundle's own wasm).
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const evaluator = process.env.PENNON_EVALUATOR_DIR
  ? resolve(process.env.PENNON_EVALUATOR_DIR)
  : fileURLToPath(new URL('../dist/npm', import.meta.url));

export default defineConfig({
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: {
      '@pennon/evaluator': resolve(evaluator, 'browser.js'),
    },
  },
  // The impact preview's worker (src/preview/worker.ts) imports the evaluator, whose entry awaits
  // its wasm at the top level: an ES module worker, not the default classic script.
  worker: { format: 'es' },
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    sourcemap: false,
  },
});
