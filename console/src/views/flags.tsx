// The flags of one environment: searchable, with state, type, last change and usage.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, canWrite, type Environment, type Flag, type Usage } from '../api';
import type { Session } from '../app';
import { ErrorText, Loading, Page } from '../components';
import { count, when } from '../format';
import { href } from '../router';

export function total(usage: Usage | undefined): number {
  return usage ? Object.values(usage.last24h).reduce((a, b) => a + b, 0) : 0;
}

export function FlagList({ session, environment }: { session: Session; environment: Environment }) {
  const { api, who } = session;
  const [flags, setFlags] = useState<Flag[] | null>(null);
  const [usage, setUsage] = useState<Record<string, Usage>>({});
  const [error, setError] = useState<string | null>(null);
  const [search, setSearch] = useState('');

  useEffect(() => {
    let live = true;
    setFlags(null);
    setError(null);
    api.listFlags({ environment, usage: true }).then(
      (body) => {
        if (!live) return;
        setFlags(body.flags);
        setUsage(body.usage ?? {});
      },
      (err: unknown) => live && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [api, environment]);

  const needle = search.trim().toLowerCase();
  const shown = (flags ?? []).filter(
    (f) => needle === '' || f.key.toLowerCase().includes(needle) || f.description.toLowerCase().includes(needle),
  );

  return (
    <Page
      title={`Flags in ${environment}`}
      actions={
        canWrite(who, environment) ? (
          <a class="button primary" href={href('flags', environment, 'new')}>
            New flag
          </a>
        ) : null
      }
    >
      <nav class="tabs" aria-label="Environments">
        {who.environments.map((env) => (
          <a key={env} href={href('flags', env)} aria-current={env === environment ? 'page' : undefined}>
            {env}
          </a>
        ))}
      </nav>
      <label for="flag-search">Search flags</label>
      <input
        id="flag-search"
        type="search"
        placeholder="key or description"
        value={search}
        onInput={(e) => setSearch(e.currentTarget.value)}
      />
      <ErrorText message={error} />
      {flags === null && !error ? <Loading what="flags" /> : null}
      {flags !== null ? (
        <>
          <p class="muted flag-count" aria-live="polite">
            {flags.length === 0
              ? `No flags in ${environment} yet.${canWrite(who, environment) ? ' New flag creates one.' : ''}`
              : shown.length === 0
                ? `No flag of the ${flags.length} matches "${search.trim()}".`
                : `${shown.length} of ${flags.length} flags`}
          </p>
          {shown.length === 0 ? null : (
          <table class="flags cards">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">State</th>
                <th scope="col">Type</th>
                <th scope="col">Last change</th>
                <th scope="col">Evaluations (24 h)</th>
                <th scope="col">Last evaluated</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((flag) => {
                const u = usage[flag.id];
                return (
                  <tr key={flag.id}>
                    <th scope="row" data-label="Key">
                      <a href={href('flag', flag.id)}>{flag.key}</a>
                      {flag.description ? <span class="muted block">{flag.description}</span> : null}
                    </th>
                    <td data-label="State">
                      <span class={flag.enabled ? 'pill on' : 'pill off'}>{flag.enabled ? 'on' : 'off'}</span>
                    </td>
                    <td data-label="Type">{flag.type ?? 'boolean'}</td>
                    <td data-label="Last change">{when(flag.updatedAt)}</td>
                    <td data-label="Evaluations (24 h)">{u ? count(total(u)) : '—'}</td>
                    <td data-label="Last evaluated">{when(u?.lastEvaluatedAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          )}
        </>
      ) : null}
    </Page>
  );
}
