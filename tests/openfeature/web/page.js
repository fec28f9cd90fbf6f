// The page of the web tests, bundled by esbuild with the real @openfeature/web-sdk and
// @openfeature/ofrep-web-provider: it exposes `window.pennonWeb` for the harness to drive
// (web/harness.mjs), which works against any OFREP base URL (the origin; the edge later).
import { OpenFeature, ProviderEvents } from '@openfeature/web-sdk';
import { OFREPWebProvider } from '@openfeature/ofrep-web-provider';

let domains = 0;
let current;

const now = () => performance.timeOrigin + performance.now();

window.pennonWeb = {
  /** A fresh provider on `baseUrl` for the context; resolves once it is ready. */
  async start({ baseUrl, token, environment, context, pollIntervalMs }) {
    const headers = []; // the provider takes [name, value] pairs
    if (token) headers.push(['authorization', `Bearer ${token}`]);
    if (environment) headers.push(['x-pennon-environment', environment]);
    const domain = `web-${++domains}`;
    // The origin advertises its stream; the edge has none, and its clients poll (If-None-Match).
    const detection = pollIntervalMs ? { changeDetection: 'polling', pollInterval: pollIntervalMs } : { changeDetection: 'sse' };
    const provider = new OFREPWebProvider({ baseUrl, headers, cacheMode: 'disabled', ...detection });
    await OpenFeature.setContext(domain, context);
    await OpenFeature.setProviderAndWait(domain, provider);
    const client = OpenFeature.getClient(domain);
    const changes = [];
    client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
      changes.push({ at: now(), flagsChanged: details?.flagsChanged });
      current?.check();
    });
    current?.close?.();
    current = { domain, client, changes, check() {}, close: () => OpenFeature.clearProviders(domain) };
    return { domain };
  },
  /** Switches the context (the provider refetches the bulk answer). */
  async setContext(context) {
    await OpenFeature.setContext(current.domain, context);
  },
  /** Typed details for each [type, key, default]; `type` is Boolean, String, Number or Object. */
  details(calls) {
    return calls.map(([type, key, fallback]) => {
      const d = current.client[`get${type}Details`](key, fallback);
      return { value: d.value, variant: d.variant, reason: d.reason, errorCode: d.errorCode, flagMetadata: { ...d.flagMetadata } };
    });
  },
  /** Arms a wait for `key` (boolean) to turn `value` after a ConfigurationChanged event. */
  arm(key, value) {
    current.waiting = new Promise((resolve) => {
      current.check = () => {
        if (current.client.getBooleanValue(key, !value) === value) {
          current.check = () => {};
          resolve(now());
        }
      };
    });
  },
  /** Resolves with the time (epoch ms) the armed value was seen, or null after `timeoutMs`. */
  waitArmed(timeoutMs) {
    return Promise.race([current.waiting, new Promise((r) => setTimeout(() => r(null), timeoutMs))]);
  },
  /** Whether an EventSource of the provider is open (SSE in use). */
  changeCount() {
    return current.changes.length;
  },
};
window.pennonWebReady = true;
