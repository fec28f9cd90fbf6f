// Builds the console into dist/ (committed; the origin embeds it, see origin/build.rs). Every file
// but index.html goes to assets/ under a content-hashed name; nothing is inlined, so the page's
// Content-Security-Policy needs no 'unsafe-inline'. `@pennon/evaluator` is the repo's own build
// (dist/npm, made by scripts/build-npm), not a registry copy.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  base: '/',
  logLevel: 'warn',
  resolve: {
    alias: {
      '@pennon/evaluator': fileURLToPath(new URL('../dist/npm/browser.js', import.meta.url)),
    },
  },
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
