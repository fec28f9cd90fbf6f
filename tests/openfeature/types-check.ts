// Compiled by tsc --strict in the scratch project (provider.test.mjs): the provider's types against
// the real @openfeature/server-sdk.
import { OpenFeature, ProviderEvents, type Provider } from '@openfeature/server-sdk';
import { PennonProvider, type PennonProviderOptions } from '@pennon/openfeature-provider';

const options: PennonProviderOptions = { url: 'http://127.0.0.1:3000', token: 'pennon_x', environment: 'staging', pollIntervalMs: 1000 };
const provider: Provider = new PennonProvider(options);
await OpenFeature.setProviderAndWait(provider);
const client = OpenFeature.getClient();
const on: boolean = await client.getBooleanValue('a', false, { targetingKey: 'u', plan: 'pro' });
const theme: string = (await client.getStringDetails('b', 'light', { targetingKey: 'u' })).value;
const limit: number = await client.getNumberValue('c', 1, { targetingKey: 'u' });
client.addHandler(ProviderEvents.ConfigurationChanged, (details) => {
  const changed: string[] | undefined = details?.flagsChanged;
  void changed;
});
const revision: number | undefined = new PennonProvider(options).revision;
void [on, theme, limit, revision];

// @ts-expect-error an environment Pennon does not have
new PennonProvider({ url: 'http://127.0.0.1:3000', token: 't', environment: 'qa' });
// @ts-expect-error the token is required
new PennonProvider({ url: 'http://127.0.0.1:3000' });
