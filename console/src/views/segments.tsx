// The segments of one environment, read-only in this version of the console.
import { useEffect, useState } from 'preact/hooks';
import { ApiError, type Environment, type Segment } from '../api';
import type { Session } from '../app';
import { ErrorText, Loading, Page } from '../components';
import { count, when } from '../format';
import { href } from '../router';

export function SegmentList({ session, environment }: { session: Session; environment: Environment }) {
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setSegments(null);
    session.api.listSegments(environment).then(
      (body) => live && setSegments(body.segments),
      (err: unknown) => live && setError(err instanceof ApiError ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [session.api, environment]);
  return (
    <Page title={`Segments in ${environment}`}>
      <nav class="tabs" aria-label="Environments">
        {session.who.environments.map((env) => (
          <a key={env} href={href('segments', env)} aria-current={env === environment ? 'page' : undefined}>
            {env}
          </a>
        ))}
      </nav>
      <ErrorText message={error} />
      {segments === null && !error ? <Loading what="segments" /> : null}
      {segments ? (
        <table class="cards">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Included ids</th>
              <th scope="col">Rules</th>
              <th scope="col">Last change</th>
            </tr>
          </thead>
          <tbody>
            {segments.map((s) => (
              <tr key={s.id}>
                <th scope="row" data-label="Key">
                  {s.key}
                  {s.description ? <span class="muted block">{s.description}</span> : null}
                </th>
                <td data-label="Included ids">{count(s.include.length)}</td>
                <td data-label="Rules">{count(s.rules.length)}</td>
                <td data-label="Last change">{when(s.updatedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </Page>
  );
}
