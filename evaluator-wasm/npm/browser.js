// Browser and bundler entry point: fetches the wasm next to this file (bundlers treat
// `new URL('…', import.meta.url)` as an asset) and waits for it with top-level await, so the
// exports are ready as soon as the import resolves.
import init from './wasm/pennon_evaluator.js';

await init({ module_or_path: new URL('./wasm/pennon_evaluator_bg.wasm', import.meta.url) });

export { evaluate, evaluateAll, Evaluator, SignatureError } from './core.js';
