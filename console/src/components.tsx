// Small pieces the views share.
import type { ComponentChildren, TargetedEvent } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Environment, Json } from './api';
import { diffJson } from './diff';

export function ErrorText({ id, message }: { id?: string; message: string | null | undefined }) {
  if (!message) return null;
  return (
    <p class="error" id={id} role="alert">
      {message}
    </p>
  );
}

export function Diff({ before, after, label }: { before: Json | undefined; after: Json | undefined; label: string }) {
  const lines = diffJson(before, after);
  return (
    <pre class="diff" role="figure" aria-label={label}>
      {lines.map((line, k) =>
        line.kind === 'fold' ? (
          <span key={k} class="fold">
            {`  … ${line.count} unchanged line${line.count === 1 ? '' : 's'}\n`}
          </span>
        ) : (
          <span key={k} class={line.kind}>
            {`${line.kind === 'added' ? '+ ' : line.kind === 'removed' ? '- ' : '  '}${line.text}\n`}
          </span>
        ),
      )}
    </pre>
  );
}

export function Loading({ what }: { what: string }) {
  return <p aria-live="polite">Loading {what}…</p>;
}

/** Set when a route changed before its page's title was there (a view still loading). */
let titleWanted = false;

/**
 * Moves the focus to the page's title after a change of route, so that the keyboard and a screen
 * reader start at the new page, not at <body> (the link followed is gone). A view that is still
 * loading has no title yet: its Page takes the focus when it mounts, unless the person has put
 * the focus somewhere meanwhile.
 */
export function focusTitle(): void {
  const title = document.getElementById('page-title');
  titleWanted = title === null;
  title?.focus();
}

export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  // The tab's title names the page (WCAG 2.4.2), and the history entries with it.
  useEffect(() => {
    document.title = `${title} · Pennon`;
  }, [title]);
  useEffect(() => {
    if (!titleWanted) return;
    titleWanted = false;
    const active = document.activeElement;
    if (active === null || active === document.body || active.id === 'main') heading.current?.focus();
  }, []);
  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions ? <div class="actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}

/**
 * Runs a choice that removes the notice (and the button pressed with it), then gives the focus to
 * the form's Save button, enabled again by then, rather than leaving it to <body>.
 */
function thenFocusSave(e: Event, choice: () => void): void {
  const form = (e.currentTarget as HTMLElement).closest('form');
  choice();
  requestAnimationFrame(() => form?.querySelector<HTMLButtonElement>('button[type="submit"]')?.focus());
}

/**
 * A write refused because another version was stored since the page opened (If-Match): who wrote
 * it, the diff of the version opened and the version stored, and the two ways on. The edit is kept
 * until one of them is chosen. Used by the flag and the segment pages.
 */
export function ConflictNotice({
  opened,
  stored,
  openedVersion,
  storedVersion,
  actor,
  onDiscard,
  onKeep,
}: {
  opened: Json;
  stored: Json;
  openedVersion: number;
  storedVersion: number;
  actor: string | null;
  onDiscard: () => void;
  onKeep: () => void;
}) {
  return (
    <div class="conflict" role="alert">
      <h3>Changed{actor ? ` by ${actor}` : ''} since you opened it</h3>
      <p>
        You opened version {openedVersion}; version {storedVersion} is stored now. What changed:
      </p>
      <Diff label="Changes since you opened it" before={opened} after={stored} />
      <div class="actions">
        <button type="button" onClick={(e) => thenFocusSave(e, onDiscard)}>
          Discard my edit, load version {storedVersion}
        </button>
        <button type="button" onClick={(e) => thenFocusSave(e, onKeep)}>
          Keep my edit (save it over version {storedVersion})
        </button>
      </div>
    </div>
  );
}

/**
 * A labelled text input with the message about it below, which describes the input while it is
 * shown (`errorId`, else `<id>-error`).
 */
export function TextField({
  id,
  label,
  value,
  setValue,
  error,
  errorId = `${id}-error`,
  secret = false,
  required = false,
  autoComplete,
}: {
  id: string;
  label: string;
  value: string;
  setValue: (value: string) => void;
  error: string | null;
  errorId?: string;
  /** A password input: what is typed is not shown. */
  secret?: boolean;
  required?: boolean;
  autoComplete?: 'off';
}) {
  const input = {
    id,
    autoComplete,
    value,
    onInput: (e: TargetedEvent<HTMLInputElement>) => setValue(e.currentTarget.value),
    'aria-describedby': error ? errorId : undefined,
    required,
  };
  return (
    <>
      <label for={id}>{label}</label>
      {secret ? <input type="password" {...input} /> : <input {...input} />}
      <ErrorText id={errorId} message={error} />
    </>
  );
}


/** The environment a new flag or segment goes to: those the token may write, and the message about it. */
export function EnvironmentField({
  id,
  value,
  setValue,
  choices,
  error,
}: {
  id: string;
  value: Environment;
  setValue: (value: Environment) => void;
  choices: readonly Environment[];
  error: string | null;
}) {
  return (
    <>
      <label for={id}>Environment</label>
      <select id={id} value={value} onChange={(e) => setValue(e.currentTarget.value as Environment)}>
        {choices.map((e) => (
          <option key={e} value={e}>
            {e}
          </option>
        ))}
      </select>
      <ErrorText message={error} />
    </>
  );
}
