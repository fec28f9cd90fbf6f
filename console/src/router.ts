// Hash routing: `/#/flags/prod`, `/#/flag/<id>`, … The fragment never reaches the server, so the
// origin serves only `/` and the hashed assets, and any other path stays its JSON 404.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** The path segments after `#/`, decoded. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const raw = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = raw.split('?', 2);
  return {
    parts: path.split('/').filter((p) => p !== '').map(decodeURIComponent),
    query: new URLSearchParams(query),
  };
}

export function href(...parts: string[]): string {
  return '#/' + parts.map(encodeURIComponent).join('/');
}

export function go(to: string): void {
  location.hash = to;
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', update);
    return () => window.removeEventListener('hashchange', update);
  }, []);
  return route;
}
