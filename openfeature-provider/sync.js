// Keeps one environment's snapshot fresh from the origin: the I/O shell of the provider.
//
// - `GET /api/flags/snapshot?environment=` with the server token, `If-None-Match: "<revision>"`
//   once one is held (a 304 costs nothing);
// - the change stream `GET /api/stream?environment=` (SSE over fetch), sent `Last-Event-ID:
//   <revision>` so an origin that has nothing newer says nothing; each event naming another
//   revision refetches the snapshot (one fetch at a time; events during a fetch fold into one more);
// - while the stream is down: revalidation every `pollIntervalMs`, and reconnection after the
//   origin's `retry:` hint, then with exponential backoff and jitter up to `maxReconnectDelayMs`;
//   a stream silent for `streamIdleTimeoutMs` (no event, no heartbeat) is dropped and reopened.
//
// It reports to its owner through `handlers`: `snapshot(snapshot)` for each new snapshot (throws
// when it cannot be used), `state('READY' | 'STALE' | 'ERROR', message)` as the origin is reached,
// unreachable, or refuses.

import { SseParser } from './sse.js';

/** An answer of the origin that is not what was asked for. */
export class OriginError extends Error {
  constructor(message, { status, retryAfterMs } = {}) {
    super(message);
    this.status = status;
    this.retryAfterMs = retryAfterMs;
    /** 4xx other than 408/429: the origin refuses (a token or a setting is wrong), not a fault. */
    this.refused = status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

const jitter = (ms) => Math.round(ms * (0.8 + Math.random() * 0.4));

/**
 * An AbortSignal that fires on `parent` or after `ms`; `clearTimer()` drops the timeout only,
 * `clear()` also stops following `parent` (once the request is over).
 */
function linked(parent, ms) {
  const controller = new AbortController();
  const abort = () => controller.abort(parent.reason);
  parent.addEventListener('abort', abort, { once: true });
  const timer = ms > 0 ? setTimeout(() => controller.abort(new Error(`no answer in ${ms} ms`)), ms) : undefined;
  return {
    controller,
    signal: controller.signal,
    clearTimer() {
      clearTimeout(timer);
    },
    clear() {
      clearTimeout(timer);
      parent.removeEventListener('abort', abort);
    },
  };
}

async function errorOf(res, what) {
  let detail = '';
  try {
    const body = await res.text();
    try {
      detail = JSON.parse(body).error ?? body;
    } catch {
      detail = body;
    }
  } catch {
    // the body could not be read: the status says enough
  }
  const retryAfter = Number(res.headers.get('retry-after'));
  return new OriginError(`${what}: ${res.status}${detail ? ` ${String(detail).slice(0, 200)}` : ''}`, {
    status: res.status,
    retryAfterMs: Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : undefined,
  });
}

const describe = (err) => (err instanceof OriginError ? err.message : `cannot reach the origin: ${err?.cause?.message ?? err?.message ?? err}`);

export class Sync {
  #options;
  #handlers;
  #closing = new AbortController();
  #fetch;
  #revision = undefined;
  /** The newest revision the stream announced. */
  #announced = undefined;
  #refreshing = undefined;
  #again = false;
  #streamOpen = false;
  #pollTimer = undefined;
  #started = false;

  constructor(options, handlers) {
    this.#options = options;
    this.#handlers = handlers;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** The revision of the snapshot held, or undefined before the first. */
  get revision() {
    return this.#revision;
  }

  /** Whether the change stream is open now. */
  get streaming() {
    return this.#streamOpen;
  }

  #url(path) {
    return `${this.#options.url}${path}?environment=${encodeURIComponent(this.#options.environment)}`;
  }

  #headers(extra) {
    const { token, tokenHeader } = this.#options;
    const auth = tokenHeader === 'x-edge-token' ? { 'x-edge-token': token } : { authorization: `Bearer ${token}` };
    return { ...auth, ...extra };
  }

  /** One snapshot request; installs a new snapshot through the handler. Throws on any failure. */
  async #fetchSnapshot() {
    const request = linked(this.#closing.signal, this.#options.requestTimeoutMs);
    try {
      const headers = this.#headers({ accept: 'application/json' });
      if (this.#revision !== undefined) headers['if-none-match'] = `"${this.#revision}"`;
      const res = await this.#fetch(this.#url('/api/flags/snapshot'), { headers, signal: request.signal });
      if (res.status === 304) {
        await res.body?.cancel();
        return false;
      }
      if (res.status !== 200) throw await errorOf(res, 'snapshot');
      const snapshot = await res.json();
      if (snapshot === null || typeof snapshot !== 'object' || !Array.isArray(snapshot.flags)) {
        throw new OriginError('snapshot: the origin answered something that is not a snapshot', { status: 200 });
      }
      this.#handlers.snapshot(snapshot);
      if (Number.isSafeInteger(snapshot.revision)) this.#revision = snapshot.revision;
      return true;
    } finally {
      request.clear();
    }
  }

  #behind() {
    return this.#announced !== undefined && this.#revision !== undefined && this.#revision < this.#announced;
  }

  /** Revalidates now; concurrent calls share one fetch, and a call during a fetch adds one more. */
  refresh() {
    if (this.#refreshing) {
      this.#again = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      try {
        do {
          this.#again = false;
          await this.#fetchSnapshot();
          // An origin that heard of a change from another announces it at once and reloads the
          // set in the background: for a few milliseconds its snapshot may still be the older
          // one. Ask again, briefly, until it has the revision it announced.
          for (let wait = 5; this.#behind() && wait <= 640 && !this.#closing.signal.aborted; wait *= 2) {
            await sleep(wait, this.#closing.signal);
            await this.#fetchSnapshot();
          }
        } while (this.#again && !this.#closing.signal.aborted);
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  /**
   * Loads the first snapshot (retrying with backoff until it comes or the sync is closed), then
   * follows the stream (or polls, with `stream: false`). Resolves when the first snapshot is held;
   * `onAttemptFailed(err)` hears each failure before then.
   */
  async start(onAttemptFailed) {
    if (this.#started) throw new Error('the sync has started already');
    this.#started = true;
    let delay = this.#options.minReconnectDelayMs;
    for (;;) {
      if (this.#closing.signal.aborted) return;
      try {
        await this.refresh();
        break;
      } catch (err) {
        onAttemptFailed?.(err);
        await sleep(jitter(err.retryAfterMs ?? delay), this.#closing.signal);
        delay = Math.min(delay * 2, this.#options.maxReconnectDelayMs);
      }
    }
    if (this.#closing.signal.aborted) return;
    if (this.#options.stream) {
      this.#streamLoop();
    } else {
      this.#startPolling(false);
    }
  }

  close() {
    this.#streamOpen = false;
    this.#closing.abort(new Error('the provider was closed'));
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  #report(err) {
    if (this.#closing.signal.aborted) return;
    this.#handlers.state(err instanceof OriginError && (err.refused || err.status === 200) ? 'ERROR' : 'STALE', describe(err));
  }

  /** Revalidates every pollIntervalMs while the stream is down (always, without a stream). */
  #startPolling(now) {
    if (this.#pollTimer !== undefined || this.#closing.signal.aborted) return;
    const tick = async () => {
      try {
        await this.refresh();
        if (!this.#closing.signal.aborted) this.#handlers.state('READY');
      } catch (err) {
        this.#report(err);
      }
      if (this.#options.stream && this.#streamOpen) {
        this.#pollTimer = undefined;
        return;
      }
      if (!this.#closing.signal.aborted) this.#pollTimer = setTimeout(tick, this.#options.pollIntervalMs);
    };
    this.#pollTimer = setTimeout(tick, now ? 0 : this.#options.pollIntervalMs);
  }

  #stopPolling() {
    clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
  }

  async #streamLoop() {
    let delay = this.#options.minReconnectDelayMs;
    let hint;
    while (!this.#closing.signal.aborted) {
      let opened = false;
      let failure;
      try {
        await this.#follow(
          () => {
            opened = true;
            delay = this.#options.minReconnectDelayMs;
          },
          (ms) => {
            hint = ms;
          },
        );
        failure = new Error('the change stream ended');
      } catch (err) {
        failure = err;
      }
      if (this.#closing.signal.aborted) break;
      this.#streamOpen = false;
      if (failure instanceof OriginError && failure.status === 404) {
        // An origin without the change stream: revalidate on the interval instead, for good.
        this.#handlers.log?.('the origin has no change stream (404); revalidating every pollIntervalMs instead');
        this.#startPolling(true);
        return;
      }
      // Only a refusal says something about us (the token); whether the origin can be reached
      // at all is for the revalidation below to find out (a stream refused for load, 503, is not
      // a stale provider while snapshots still come).
      if (failure instanceof OriginError && failure.refused) this.#report(failure);
      // Revalidate at once (a change may have slipped between the stream's end and its return),
      // then on the interval until the stream is back.
      this.#startPolling(true);
      const wait = failure?.retryAfterMs ?? (opened && hint !== undefined ? hint : delay);
      await sleep(jitter(wait), this.#closing.signal);
      if (!opened) delay = Math.min(delay * 2, this.#options.maxReconnectDelayMs);
    }
  }

  /** One connection of the change stream, until it ends (resolves) or fails (throws). */
  async #follow(onOpen, onRetry) {
    const request = linked(this.#closing.signal, this.#options.requestTimeoutMs);
    let idle;
    try {
      const headers = this.#headers({ accept: 'text/event-stream', 'cache-control': 'no-cache' });
      if (this.#revision !== undefined) headers['last-event-id'] = String(this.#revision);
      const res = await this.#fetch(this.#url('/api/stream'), { headers, signal: request.signal });
      if (res.status !== 200) throw await errorOf(res, 'change stream');
      request.clearTimer(); // the answer came: from now on silence is what the idle timer watches
      const resetIdle = () => {
        clearTimeout(idle);
        idle = setTimeout(
          () => request.controller.abort(new Error(`the change stream was silent for ${this.#options.streamIdleTimeoutMs} ms`)),
          this.#options.streamIdleTimeoutMs,
        );
      };
      resetIdle();
      this.#streamOpen = true;
      this.#stopPolling();
      onOpen();
      // Open with Last-Event-ID = our revision: the origin sends an event only if it is elsewhere,
      // so an open stream means we are current (or about to refetch).
      this.#handlers.state('READY');
      const parser = new SseParser();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          resetIdle();
          for (const event of parser.push(value)) this.#onEvent(event);
          if (parser.retryMs !== undefined) onRetry(parser.retryMs);
        }
      } finally {
        reader.cancel().catch(() => {});
      }
    } finally {
      clearTimeout(idle);
      request.clear();
    }
  }

  #onEvent(event) {
    if (event.type !== 'message') return;
    let message;
    try {
      message = JSON.parse(event.data);
    } catch {
      message = undefined;
    }
    // Pennon's events name the revision: one we hold already needs nothing. Anything else
    // (another OFREP event type aside) is a reason to revalidate, which a 304 makes cheap.
    if (message?.type !== undefined && message.type !== 'refetchEvaluation') return;
    if (Number.isSafeInteger(message?.revision)) {
      if (message.revision === this.#revision) return;
      this.#announced = Math.max(this.#announced ?? 0, message.revision);
    }
    this.refresh().then(
      () => {
        this.#handlers.state('READY');
        // Still behind what was announced after the retries: the interval tries again.
        if (this.#behind()) this.#startPolling(false);
      },
      (err) => {
        this.#report(err);
        this.#startPolling(false);
      },
    );
  }
}
