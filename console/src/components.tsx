// Small pieces the views share.
import type { ComponentChildren } from 'preact';
import type { Json } from './api';
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
    <pre class="diff" aria-label={label}>
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

export function Page({ title, children, actions }: { title: string; children: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <section class="page" aria-labelledby="page-title">
      <div class="page-head">
        <h1 id="page-title" tabIndex={-1}>
          {title}
        </h1>
        {actions ? <div class="actions">{actions}</div> : null}
      </div>
      {children}
    </section>
  );
}
