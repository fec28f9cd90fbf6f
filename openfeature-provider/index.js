// @pennon/openfeature-provider: an in-process OpenFeature provider for Node servers. It holds one
// environment's snapshot, evaluates it locally with @pennon/evaluator (WebAssembly, the same code
// as the origin), and keeps it fresh through the origin's change stream (see sync.js).
import { Evaluator } from '@pennon/evaluator';
import {
  ErrorCode,
  FlagNotFoundError,
  GeneralError,
  InvalidContextError,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderNotReadyError,
  TargetingKeyMissingError,
  TypeMismatchError,
} from '@openfeature/server-sdk';
import { changedFlags } from './changes.js';
import { ContextError, contextMessage, userOf } from './context.js';
import { OriginError, Sync } from './sync.js';

/** Pennon's reasons as OpenFeature names them (as the origin's OFREP does). */
const REASONS = {
  RULE_MATCH: 'TARGETING_MATCH',
  ROLLOUT: 'SPLIT',
  NO_MATCH: 'DEFAULT',
  FLAG_DISABLED: 'DISABLED',
  PREREQUISITE_FAILED: 'DISABLED',
};

const DEFAULTS = {
  environment: 'prod',
  tokenHeader: 'authorization',
  stream: true,
  pollIntervalMs: 5_000,
  initTimeoutMs: 10_000,
  requestTimeoutMs: 10_000,
  streamIdleTimeoutMs: 45_000,
  minReconnectDelayMs: 500,
  maxReconnectDelayMs: 30_000,
};

const typeOf = (value) =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

function options(given) {
  const merged = { ...DEFAULTS, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v !== undefined)) };
  if (typeof merged.url !== 'string' || !/^https?:\/\//.test(merged.url)) {
    throw new TypeError('PennonProvider: `url` must be the origin\'s http(s) URL, e.g. "http://127.0.0.1:3000"');
  }
  merged.url = merged.url.replace(/\/+$/, '');
  if (typeof merged.token !== 'string' || merged.token === '') {
    throw new TypeError('PennonProvider: `token` must be a server token (role server or higher) for the environment');
  }
  if (merged.tokenHeader !== 'authorization' && merged.tokenHeader !== 'x-edge-token') {
    throw new TypeError('PennonProvider: `tokenHeader` must be "authorization" or "x-edge-token"');
  }
  for (const key of Object.keys(DEFAULTS)) {
    if (key.endsWith('Ms') && !(Number.isFinite(merged[key]) && merged[key] > 0)) {
      throw new TypeError(`PennonProvider: \`${key}\` must be a positive number of milliseconds`);
    }
  }
  return merged;
}

export class PennonProvider {
  metadata = { name: 'pennon' };
  runsOn = 'server';
  events = new OpenFeatureEventEmitter();
  hooks = [];

  #options;
  #sync;
  #evaluator = undefined;
  #snapshot = undefined;
  /** What this provider last told the SDK: NOT_READY until initialize resolves. */
  #status = 'NOT_READY';
  #initialized = false;
  #logger;

  /**
   * @param {import('./index.js').PennonProviderOptions} given
   */
  constructor(given) {
    this.#options = options(given);
    this.#logger = this.#options.logger;
    this.#sync = new Sync(this.#options, {
      snapshot: (snapshot) => this.#install(snapshot),
      state: (state, message) => this.#state(state, message),
      log: (message) => this.#logger?.warn?.(`pennon: ${message}`),
    });
  }

  /** The revision of the snapshot in use, or undefined before the first. */
  get revision() {
    return this.#snapshot?.revision;
  }

  /** Whether the change stream is open now. */
  get streaming() {
    return this.#sync.streaming;
  }

  async initialize() {
    let lastError;
    let refused;
    const loaded = this.#sync.start((err) => {
      lastError = err;
      this.#logger?.warn?.(`pennon: loading the snapshot: ${err.message}`);
      if (err instanceof OriginError && err.refused) refused?.(err);
    });
    let timer;
    try {
      await Promise.race([
        loaded,
        new Promise((_, reject) => {
          refused = (err) => reject(new GeneralError(`the origin refused the snapshot of ${this.#options.environment}: ${err.message}`));
          timer = setTimeout(
            () =>
              reject(
                new ProviderNotReadyError(
                  `no snapshot of ${this.#options.environment} from ${this.#options.url} in ${this.#options.initTimeoutMs} ms` +
                    (lastError ? `: ${lastError.message}` : ''),
                ),
              ),
            this.#options.initTimeoutMs,
          );
        }),
      ]);
      this.#status = 'READY';
    } catch (err) {
      // The SDK emits Error; the sync keeps trying, and Ready follows the first snapshot.
      this.#status = 'ERROR';
      throw err;
    } finally {
      clearTimeout(timer);
      refused = undefined;
      this.#initialized = true;
    }
  }

  async onClose() {
    this.#sync.close();
    this.#evaluator?.free();
    this.#evaluator = undefined;
  }

  /** Compiles a snapshot and puts it in use; throws (and keeps the old one) when it cannot. */
  #install(snapshot) {
    let evaluator;
    try {
      evaluator = new Evaluator(snapshot);
    } catch (err) {
      throw new OriginError(`snapshot: cannot be evaluated: ${err.message}`, { status: 200 });
    }
    const before = this.#snapshot;
    const old = this.#evaluator;
    this.#evaluator = evaluator;
    this.#snapshot = snapshot;
    old?.free();
    if (before === undefined) {
      if (this.#initialized) this.#state('READY');
      return;
    }
    const flagsChanged = changedFlags(before, snapshot);
    if (flagsChanged.length > 0) {
      this.events.emit(ProviderEvents.ConfigurationChanged, {
        flagsChanged,
        metadata: { revision: snapshot.revision ?? -1 },
      });
    }
  }

  #state(state, message) {
    if (!this.#initialized || (this.#evaluator === undefined && state === 'READY')) return;
    if (state === this.#status) return;
    this.#status = state;
    if (state === 'READY') this.events.emit(ProviderEvents.Ready, { message: message ?? 'in sync with the origin' });
    else if (state === 'STALE') this.events.emit(ProviderEvents.Stale, { message: `serving revision ${this.revision}: ${message}` });
    else this.events.emit(ProviderEvents.Error, { message: `serving revision ${this.revision}: ${message}` });
  }

  #resolve(flagKey, defaultValue, context, type) {
    const evaluator = this.#evaluator;
    if (evaluator === undefined) throw new ProviderNotReadyError('no snapshot from the origin yet');
    let user;
    try {
      user = userOf(context);
    } catch (err) {
      if (err instanceof ContextError && err.code === ErrorCode.TARGETING_KEY_MISSING) throw new TargetingKeyMissingError(err.message);
      throw new InvalidContextError(err.message);
    }
    let result;
    try {
      result = evaluator.evaluateFlag(flagKey, user);
    } catch (err) {
      throw new InvalidContextError(contextMessage(err.message));
    }
    if (result.reason === 'FLAG_NOT_FOUND') {
      throw new FlagNotFoundError(`no flag ${JSON.stringify(flagKey)} in ${this.#options.environment}`);
    }
    const actual = typeOf(result.value);
    if (actual !== type) {
      throw new TypeMismatchError(`flag ${JSON.stringify(flagKey)} is of type ${actual === 'object' ? 'object' : actual}, not ${type}`);
    }
    return {
      value: result.value,
      variant: result.variant,
      reason: REASONS[result.reason] ?? 'UNKNOWN',
      flagMetadata: { pennonReason: result.reason },
    };
  }

  async resolveBooleanEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, 'boolean');
  }

  async resolveStringEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, 'string');
  }

  async resolveNumberEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, 'number');
  }

  async resolveObjectEvaluation(flagKey, defaultValue, context) {
    return this.#resolve(flagKey, defaultValue, context, 'object');
  }
}
