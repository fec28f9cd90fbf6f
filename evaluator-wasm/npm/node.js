// Node entry point: loads the wasm synchronously from the package directory, so that
// `import { Evaluator } from '@pennon/evaluator'` is ready to use on the next line.
import { readFileSync } from 'node:fs';
import { initSync } from './wasm/pennon_evaluator.js';

initSync({ module: readFileSync(new URL('./wasm/pennon_evaluator_bg.wasm', import.meta.url)) });

export { evaluate, evaluateAll, Evaluator } from './core.js';
