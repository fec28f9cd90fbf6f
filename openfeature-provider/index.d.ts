// Types of @pennon/openfeature-provider.
import type {
  EvaluationContext,
  JsonValue,
  Logger,
  OpenFeatureEventEmitter,
  Provider,
  ResolutionDetails,
} from '@openfeature/server-sdk';

export interface PennonProviderOptions {
  /** The origin's base URL, e.g. `"https://flags.example.com"` (no trailing path). */
  url: string;
  /**
   * A token that may read the environment's snapshot: a stored token of role `server` (or higher)
   * acting in `environment`, or the origin's `EDGE_TOKEN`.
   */
  token: string;
  /** The environment to evaluate: `"dev"`, `"staging"` or `"prod"`. Default `"prod"`. */
  environment?: 'dev' | 'staging' | 'prod';
  /** How the token is sent: `Authorization: Bearer` (default) or `x-edge-token`. */
  tokenHeader?: 'authorization' | 'x-edge-token';
  /** Follow the origin's change stream (default `true`); `false` revalidates every `pollIntervalMs`. */
  stream?: boolean;
  /** Revalidation interval while the stream is down (or off). Default 5000. */
  pollIntervalMs?: number;
  /** How long `initialize` waits for the first snapshot before it rejects (loading goes on). Default 10000. */
  initTimeoutMs?: number;
  /** Timeout of each snapshot request, and of the stream's answer. Default 10000. */
  requestTimeoutMs?: number;
  /** A stream silent this long (no event, no heartbeat: the origin sends one every 15 s) is reopened. Default 45000. */
  streamIdleTimeoutMs?: number;
  /** First reconnection delay after a failed attempt; doubles up to `maxReconnectDelayMs`. Default 500. */
  minReconnectDelayMs?: number;
  /** Default 30000. */
  maxReconnectDelayMs?: number;
  /** `fetch` to use (default the global one). */
  fetch?: typeof fetch;
  /** Where warnings go (failed loads, an origin without a stream). Default: nowhere. */
  logger?: Pick<Logger, 'warn'>;
}

/** `flagMetadata` of every successful resolution: Pennon's own reason. */
export interface PennonFlagMetadata {
  pennonReason: 'RULE_MATCH' | 'ROLLOUT' | 'NO_MATCH' | 'FLAG_DISABLED' | 'PREREQUISITE_FAILED';
}

/**
 * An in-process OpenFeature provider: evaluates one environment's snapshot locally (WebAssembly)
 * and keeps it fresh through the origin's change stream.
 */
export declare class PennonProvider implements Provider {
  constructor(options: PennonProviderOptions);
  readonly metadata: { readonly name: 'pennon' };
  readonly runsOn: 'server';
  readonly events: OpenFeatureEventEmitter;
  readonly hooks: [];
  /** The revision of the snapshot in use; undefined before the first. */
  readonly revision: number | undefined;
  /** Whether the change stream is open now. */
  readonly streaming: boolean;
  initialize(context?: EvaluationContext): Promise<void>;
  onClose(): Promise<void>;
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<boolean>>;
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<string>>;
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<number>>;
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext, logger?: Logger): Promise<ResolutionDetails<T>>;
}
