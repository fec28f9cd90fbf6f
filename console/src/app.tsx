// The shell: sign-in, who is signed in, the navigation, and the view the hash names.
import { Fragment } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Api, ApiError, canRead, canWrite, OriginUnreachable, type Environment, type Identity } from './api';
import { ErrorText, focusTitle } from './components';
import { href, useRoute } from './router';
import { forgetToken, storedToken, storeToken } from './session';
import { AuditView } from './views/audit';
import { FlagView } from './views/flag';
import { FlagList } from './views/flags';
import { KillSwitch } from './views/kill';
import { NewFlag } from './views/new-flag';
import { Reauth } from './views/reauth';
import { NewSegment, SegmentList, SegmentView } from './views/segments';
import { SignIn } from './views/signin';

export interface Session {
  api: Api;
  who: Identity;
}

export function App() {
  const [token, setToken] = useState(storedToken);
  const [who, setWho] = useState<Identity | null>(null);
  const [error, setError] = useState<string | null>(null);
  /** The origin answered 401 after the sign-in (the token revoked): ask for a token again. */
  const [expired, setExpired] = useState(false);
  /** Bumped to reload the view after signing in again (when it holds no edit). */
  const [epoch, setEpoch] = useState(0);
  const signedIn = useRef(false);
  /** Whether the token came from the tab's storage (a reload) rather than the sign-in form. */
  const restored = useRef(token !== null);
  /** The origin did not answer the sign-in's whoami: the token is kept for another try. */
  const [unreachable, setUnreachable] = useState(false);
  const [tries, setTries] = useState(0);
  const api = useMemo(() => (token ? new Api(token, () => signedIn.current && setExpired(true)) : null), [token]);

  useEffect(() => {
    if (!api) return;
    let live = true;
    api.whoami().then(
      (body) => {
        if (!live) return;
        signedIn.current = true;
        setWho(body.token);
      },
      (err: unknown) => {
        if (!live) return;
        if (err instanceof OriginUnreachable) {
          setUnreachable(true);
          return;
        }
        const message = err instanceof ApiError ? err.message : String(err);
        forgetToken();
        setToken(null);
        // A token kept from before (a reload) that the origin no longer accepts: it was revoked.
        const refused = err instanceof ApiError && err.status === 401 && restored.current;
        setError(refused ? `The origin no longer accepts this tab's token (${message}): sign in again.` : message);
      },
    );
    return () => {
      live = false;
    };
  }, [api, tries]);

  const signIn = (value: string) => {
    restored.current = false;
    setError(null);
    storeToken(value);
    setToken(value);
  };
  const signOut = () => {
    signedIn.current = false;
    forgetToken();
    setToken(null);
    setWho(null);
    setExpired(false);
    setUnreachable(false);
    location.hash = '#/';
  };
  const signedInAgain = (value: string, identity: Identity) => {
    api?.setToken(value);
    storeToken(value);
    setWho(identity);
    setExpired(false);
    // A view with an edit open keeps it (save again); any other reloads what the 401 refused.
    if (!document.querySelector('#main form.editor')) setEpoch((n) => n + 1);
  };

  if (!api) return <SignIn onSignIn={signIn} error={error} />;
  if (!who && unreachable) {
    return (
      <main class="signin">
        <div class="unreachable">
          <h1>Pennon</h1>
          <p role="alert">The origin did not answer (it is down or out of reach). This tab keeps its token: try again once it answers.</p>
          <div class="actions">
            <button
              type="button"
              class="primary"
              onClick={() => {
                setUnreachable(false);
                setTries((n) => n + 1);
              }}
            >
              Try again
            </button>
            <button type="button" onClick={signOut}>
              Sign out
            </button>
          </div>
        </div>
      </main>
    );
  }
  if (!who) return <p aria-live="polite">Signing in…</p>;
  return (
    <>
      <Shell session={{ api, who }} onSignOut={signOut} epoch={epoch} />
      {expired ? <Reauth onSignedIn={signedInAgain} onSignOut={signOut} /> : null}
    </>
  );
}

function Shell({ session, onSignOut, epoch }: { session: Session; onSignOut: () => void; epoch: number }) {
  const { who } = session;
  const route = useRoute();
  const first: Environment = who.environments[0] ?? 'dev';
  const [section = 'flags', arg, extra] = route.parts;
  /** The environment a path names, when the token acts in it; else its first one. */
  const environmentOf = (name: string | undefined): Environment => who.environments.find((e) => e === name) ?? first;
  const environment = environmentOf(section === 'flags' ? arg : undefined);

  useEffect(() => {
    focusTitle();
  }, [route.parts.join('/')]);

  let view;
  if (!canRead(who)) {
    view = (
      <ErrorText
        message={`This token (role ${who.role}) cannot read flags; sign in with a viewer, editor or admin token.`}
      />
    );
  } else if (section === 'flag' && arg) {
    view = <FlagView key={arg} session={session} id={arg} />;
  } else if (section === 'flags' && extra === 'new' && canWrite(who, environment)) {
    view = <NewFlag session={session} environment={environment} />;
  } else if (section === 'kill' && canWrite(who)) {
    view = <KillSwitch key={route.query.get('key') ?? ''} session={session} initialKey={route.query.get('key') ?? ''} />;
  } else if (section === 'audit') {
    view = <AuditView session={session} flagId={route.query.get('flag') ?? ''} />;
  } else if (section === 'segment' && arg) {
    view = <SegmentView key={arg} session={session} id={arg} />;
  } else if (section === 'segments' && extra === 'new' && canWrite(who, environmentOf(arg))) {
    view = <NewSegment session={session} environment={environmentOf(arg)} />;
  } else if (section === 'segments') {
    view = <SegmentList session={session} environment={environmentOf(arg)} />;
  } else {
    view = <FlagList session={session} environment={environment} />;
  }

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main')?.focus(); }}>
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href={href('flags', first)}>
          Pennon
        </a>
        {canRead(who) ? (
          <nav aria-label="Sections">
            <a href={href('flags', environment)} aria-current={section === 'flags' || section === 'flag' ? 'page' : undefined}>
              Flags
            </a>
            <a href={href('segments', environment)} aria-current={section === 'segments' || section === 'segment' ? 'page' : undefined}>
              Segments
            </a>
            <a href={href('audit')} aria-current={section === 'audit' ? 'page' : undefined}>
              Audit log
            </a>
            {canWrite(who) ? (
              <a class="danger-link" href={href('kill')} aria-current={section === 'kill' ? 'page' : undefined}>
                Kill switch
              </a>
            ) : null}
          </nav>
        ) : null}
        <div class="who" role="group" aria-label="Signed in as">
          <span>
            {who.name} · <strong data-role={who.role}>{who.role}</strong> · {who.environments.join(', ')}
          </span>
          <button type="button" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        <Fragment key={epoch}>{view}</Fragment>
      </main>
    </>
  );
}
