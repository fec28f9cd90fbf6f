// Node entry point: loads the wasm synchronously from the package directory, so that
// `import { Evaluator } from '@pennon/evaluator'` is ready to use on the next line.
import { webcrypto } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { initSync } from './wasm/pennon_evaluator.js';
import { useSubtle } from './signature.js';

initSync({ module: readFileSync(new URL('./wasm/pennon_evaluator_bg.wasm', import.meta.url)) });

// Node 18 has Web Crypto only as `node:crypto`'s webcrypto (no global `crypto`).
useSubtle(webcrypto.subtle);

export { evaluate, evaluateAll, Evaluator, SignatureError } from './core.js';
