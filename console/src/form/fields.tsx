// What every part of the structured editor shares: the messages by path (the form's own and the
// server's 400 placed where its path points), inputs wired to them, ids made from paths.
import type { ComponentChildren } from 'preact';
import type { Json } from '../api';
import { ErrorText } from '../components';

/** The message to show at a path (the form's own check or the server's 400), or null. */
export interface Problems {
  at: (path: string) => string | null;
}

/** An element id from a path: `rules[1].all[0].value` → `f-rules-1-all-0-value`. */
export const idOf = (path: string, suffix = '') => `f-${path.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/-+$/, '')}${suffix ? `-${suffix}` : ''}`;

/** aria-describedby / aria-invalid for an input whose messages are at `path`. */
export function described(p: Problems, path: string, id: string, hint?: string) {
  const message = p.at(path);
  const ids = [hint, message ? `${id}-error` : undefined].filter((s) => s !== undefined).join(' ');
  return { 'aria-describedby': ids || undefined, 'aria-invalid': message ? true : undefined };
}

export function Problem({ p, path, id }: { p: Problems; path: string; id: string }) {
  return <ErrorText id={`${id}-error`} message={p.at(path)} />;
}

/**
 * A labelled control with its message under it. A label `Rule 2 serves: split 1 weight (%)` shows
 * `weight (%)` beside a row that says the rest; screen readers read it whole (the rest is in the
 * label, visually hidden).
 */
export function Labelled({ id, label, children, p, path, class: cls }: { id: string; label: string; children: ComponentChildren; p: Problems; path: string; class?: string }) {
  const cut = label.lastIndexOf(': ');
  const seen = cut < 0 ? label : short(label.slice(cut + 2));
  return (
    <div class={`field ${cls ?? ''}`}>
      <label for={id}>
        {seen === label ? label : (
          <>
            <span class="sr">{label.slice(0, label.length - seen.length)}</span>
            {seen}
          </>
        )}
      </label>
      {children}
      <Problem p={p} path={path} id={id} />
    </div>
  );
}

/** Up, down and remove for one item of an ordered list, each named for the item. */
export function ItemButtons({ what, index, count, onMove, onRemove }: { what: string; index: number; count: number; onMove?: (to: number) => void; onRemove: () => void }) {
  return (
    <div class="item-buttons">
      {onMove ? (
        <>
          <button type="button" disabled={index === 0} onClick={() => onMove(index - 1)} aria-label={`Move ${what} up`}>
            ↑ Up
          </button>
          <button type="button" disabled={index === count - 1} onClick={() => onMove(index + 1)} aria-label={`Move ${what} down`}>
            ↓ Down
          </button>
        </>
      ) : null}
      <button type="button" onClick={onRemove} aria-label={`Remove ${what}`}>
        Remove
      </button>
    </div>
  );
}

/** `split 1 weight (%)` → `weight (%)`: the row already says which split. */
const short = (text: string) => text.replace(/^split \d+ /, '');

/** **Form** and **JSON**: which of the two edits the draft (each a toggle button, pressed when shown). */
export function ModeSwitch({ mode, label, onSwitch }: { mode: 'form' | 'json'; label: string; onSwitch: (mode: 'form' | 'json') => void }) {
  return (
    <div class="switch" role="group" aria-label={label}>
      <button type="button" aria-pressed={mode === 'form'} onClick={() => onSwitch('form')}>
        Form
      </button>
      <button type="button" aria-pressed={mode === 'json'} onClick={() => onSwitch('json')}>
        JSON
      </button>
    </div>
  );
}

/**
 * The JSON box's text, read when switching to the form: the parsed value when it is the kind
 * wanted (`object` for a definition, `array` for a list of rules), else why it stays JSON.
 */
export function readForForm(text: string, want: 'object' | 'array', what: string): { value: Json } | { message: string } {
  let parsed: Json;
  try {
    parsed = JSON.parse(text) as Json;
  } catch (err) {
    return { message: `Still JSON: it does not parse: ${err instanceof Error ? err.message : String(err)}` };
  }
  const isArray = Array.isArray(parsed);
  const fits = want === 'array' ? isArray : parsed !== null && typeof parsed === 'object' && !isArray;
  return fits ? { value: parsed } : { message: `Still JSON: ${what} must be a JSON ${want}` };
}
