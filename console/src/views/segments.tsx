// The segments of one environment, with the flags that name each; one segment (read, edit its
// description, rules and include list, delete); a new segment.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { ApiError, canWrite, type Environment, type Flag, type Json, type JsonObject, type Segment } from '../api';
import type { Session } from '../app';
import { EnvironmentField, ErrorText, Loading, Page, TextField } from '../components';
import { count, when } from '../format';
import { go, href } from '../router';
import { useSaver, SaveRow } from '../save';
import { rulesDraftOf, rulesOfDraft, SegmentRulesEditor, type RulesDraft } from '../form/segment-rules';
import { flagsUsing, ids, includeChange, parseIdFile, parseIds, ruleNumbers, rulesNaming, searchIds, type FileIds } from '../segments';
import { SegmentPreview } from './preview';

function message(err: unknown): string {
  return err instanceof ApiError ? err.message : String(err);
}

/** The flags of an environment (for "used by"), or the message that they could not be read. */
function useFlags(session: Session, environment: Environment | null): { flags: Flag[] | null; error: string | null; reload: () => void } {
  const [flags, setFlags] = useState<Flag[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!environment) return;
    let live = true;
    setError(null);
    session.api.listFlags({ environment }).then(
      (body) => live && setFlags(body.flags),
      (err: unknown) => live && setError(`Which flags use it is unknown: ${message(err)}`),
    );
    return () => {
      live = false;
    };
  }, [session.api, environment, tick]);
  // Another environment's flags say nothing of this one's segments: drop them when it changes.
  const [shownFor, setShownFor] = useState(environment);
  if (shownFor !== environment) {
    setShownFor(environment);
    setFlags(null);
  }
  return { flags, error, reload: () => setTick((t) => t + 1) };
}

/** The flags, linked; with `segment`, each followed by the rules of it that name that segment. */
function FlagLinks({ flags, segment }: { flags: Flag[]; segment?: string }) {
  if (flags.length === 0) return <span class="muted">no flag</span>;
  return (
    <span class="flag-links">
      {flags.map((f, k) => (
        <span key={f.id}>
          {k ? ', ' : ''}
          <a href={href('flag', f.id)}>{f.key}</a>
          {segment ? ` — ${ruleNumbers(rulesNaming(f.rules, segment))}` : ''}
        </span>
      ))}
    </span>
  );
}

export function SegmentList({ session, environment }: { session: Session; environment: Environment }) {
  const [segments, setSegments] = useState<Segment[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const used = useFlags(session, environment);
  useEffect(() => {
    let live = true;
    setSegments(null);
    session.api.listSegments(environment).then(
      (body) => live && setSegments(body.segments),
      (err: unknown) => live && setError(message(err)),
    );
    return () => {
      live = false;
    };
  }, [session.api, environment]);
  return (
    <Page
      title={`Segments in ${environment}`}
      actions={
        canWrite(session.who, environment) ? (
          <a class="button primary" href={href('segments', environment, 'new')}>
            New segment
          </a>
        ) : null
      }
    >
      <nav class="tabs" aria-label="Environments">
        {session.who.environments.map((env) => (
          <a key={env} href={href('segments', env)} aria-current={env === environment ? 'page' : undefined}>
            {env}
          </a>
        ))}
      </nav>
      <ErrorText message={error} />
      <ErrorText message={used.error} />
      {segments === null && !error ? <Loading what="segments" /> : null}
      {segments ? (
        segments.length === 0 ? (
          <p class="muted">No segments in {environment}.</p>
        ) : (
          <table class="cards">
            <thead>
              <tr>
                <th scope="col">Key</th>
                <th scope="col">Included ids</th>
                <th scope="col">Rules</th>
                <th scope="col">Used by</th>
                <th scope="col">Last change</th>
              </tr>
            </thead>
            <tbody>
              {segments.map((s) => (
                <tr key={s.id}>
                  <th scope="row" data-label="Key">
                    <a href={href('segment', s.id)}>{s.key}</a>
                    {s.description ? <span class="muted block">{s.description}</span> : null}
                  </th>
                  <td data-label="Included ids">{count(s.include.length)}</td>
                  <td data-label="Rules">{count(s.rules.length)}</td>
                  <td data-label="Used by">{used.flags ? <FlagLinks flags={flagsUsing(used.flags, s.key)} /> : '…'}</td>
                  <td data-label="Last change">{when(s.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      ) : null}
    </Page>
  );
}

/** How many matches of a search in the include list are rendered (the rest are counted). */
const SHOWN_MATCHES = 100;

interface Uploaded {
  name: string;
  read: FileIds;
  /** The box's text when the file was chosen (what "add" adds to). */
  before: string;
  /** The text the file put in the box; the file's summary shows while the box still holds it. */
  applied: string;
}

/**
 * The include list editor: a textarea of ids, one per line or comma-separated, and what it holds;
 * a file of ids (one per line, or CSV's first column) that replaces the list or is added to it;
 * a search within the list that renders only its first matches.
 */
function IncludeField({
  id,
  text,
  onText,
  saved,
  error,
}: {
  id: string;
  text: string;
  onText: (text: string) => void;
  saved: readonly string[] | null;
  error: string | null;
}) {
  const [mode, setMode] = useState<'add' | 'replace'>('add');
  const [uploaded, setUploaded] = useState<Uploaded | null>(null);
  const [fileError, setFileError] = useState<string | null>(null);
  const [query, setQuery] = useState('');
  // A save or a discarded edit loads another saved list: a file chosen before is done with.
  useEffect(() => setUploaded(null), [saved]);
  const pasted = useMemo(() => parseIds(text), [text]);
  const change = useMemo(() => (saved ? includeChange(saved, pasted.ids) : null), [saved, pasted]);
  const found = useMemo(() => searchIds(pasted.ids, query, SHOWN_MATCHES), [pasted, query]);
  const dropped = [
    pasted.duplicates ? `${count(pasted.duplicates)} duplicate${pasted.duplicates === 1 ? '' : 's'}` : '',
    pasted.blanks ? `${count(pasted.blanks)} blank${pasted.blanks === 1 ? '' : 's'}` : '',
  ].filter((s) => s !== '');

  const apply = (file: Omit<Uploaded, 'applied'>, how: 'add' | 'replace') => {
    let next = file.read.ids;
    if (how === 'add') {
      const current = parseIds(file.before).ids;
      const have = new Set(current);
      next = [...current, ...file.read.ids.filter((i) => !have.has(i))];
    }
    const applied = next.join('\n');
    setUploaded({ ...file, applied });
    onText(applied);
  };
  const upload = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    setFileError(null);
    try {
      apply({ name: file.name, read: parseIdFile(await file.text()), before: text }, mode);
    } catch (err) {
      setFileError(`${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
    input.value = '';
  };
  const choose = (how: 'add' | 'replace') => {
    setMode(how);
    if (uploaded && uploaded.applied === text) apply(uploaded, how);
  };
  const file = uploaded && uploaded.applied === text ? uploaded : null;
  const fileChange = file ? includeChange(saved ?? [], pasted.ids) : null;
  const skipped = file
    ? [
        file.read.duplicates ? `${count(file.read.duplicates)} duplicate${file.read.duplicates === 1 ? '' : 's'}` : '',
        file.read.blanks ? `${count(file.read.blanks)} empty line${file.read.blanks === 1 ? '' : 's'}` : '',
      ].filter((s) => s !== '')
    : [];

  return (
    <>
      <label for={id}>Included ids (one per line or comma-separated; paste a list)</label>
      <textarea
        id={id}
        rows={Math.min(16, Math.max(4, text.split('\n').length + 1))}
        spellcheck={false}
        value={text}
        onInput={(e) => onText(e.currentTarget.value)}
        aria-describedby={error === null ? `${id}-count` : `${id}-count ${id}-error`}
        aria-invalid={error !== null}
      />
      <p id={`${id}-count`} class="muted" aria-live="polite">
        <span class="include-count">{ids(pasted.ids.length)}</span>
        {dropped.length ? ` (${dropped.join(' and ')} dropped)` : ''}
        {change ? (
          <>
            {' · '}
            <span class="include-change">
              {change.added.length === 0 && change.removed.length === 0
                ? 'no change to the saved list'
                : `saving adds ${ids(change.added.length)} and removes ${ids(change.removed.length)}`}
            </span>
          </>
        ) : null}
      </p>
      <ErrorText id={`${id}-error`} message={error} />
      <fieldset class="include-file">
        <legend>Or upload a file of ids (one per line, or CSV: the first column)</legend>
        <label class="inline">
          <input type="radio" name={`${id}-mode`} value="add" checked={mode === 'add'} onChange={() => choose('add')} /> Add its ids to the list
        </label>
        <label class="inline">
          <input type="radio" name={`${id}-mode`} value="replace" checked={mode === 'replace'} onChange={() => choose('replace')} /> Replace the
          list with them
        </label>
        <label class="file">
          File of ids
          <input id={`${id}-file`} type="file" accept=".txt,.csv,text/plain,text/csv" onChange={(e) => void upload(e.currentTarget)} />
        </label>
        {file && fileChange ? (
          <p class="include-file-summary" role="status">
            {file.name} has {ids(file.read.ids.length)}
            {skipped.length ? ` (${skipped.join(' and ')} skipped)` : ''}
            {mode === 'add' ? ', added to the list' : ', in place of the list'}:{' '}
            {saved ? `saving adds ${ids(fileChange.added.length)} and removes ${ids(fileChange.removed.length)}` : `the list holds ${ids(pasted.ids.length)}`}.
          </p>
        ) : null}
        <ErrorText message={fileError} />
      </fieldset>
      <label for={`${id}-search`}>Find in the list</label>
      <input
        id={`${id}-search`}
        type="search"
        value={query}
        autoComplete="off"
        spellcheck={false}
        placeholder="part of an id"
        onInput={(e) => setQuery(e.currentTarget.value)}
        aria-describedby={`${id}-matches`}
      />
      <p id={`${id}-matches`} class="muted include-matches" aria-live="polite">
        {query.trim() === '' ? '' : `${count(found.matches)} of ${ids(pasted.ids.length)} match "${query.trim()}"`}
      </p>
      {found.shown.length ? (
        <ul class="include-found" aria-label="Ids that match">
          {found.shown.map((i) => (
            <li key={i}>{i}</li>
          ))}
          {found.matches > found.shown.length ? <li class="muted more">and {count(found.matches - found.shown.length)} more</li> : null}
        </ul>
      ) : null}
    </>
  );
}

const pretty = (value: Json) => JSON.stringify(value, null, 2);

/** What the conflict diff compares: the fields a person edits, and the version. */
function shown(s: Segment): JsonObject {
  return { description: s.description, include: s.include, rules: s.rules, version: s.version, updatedAt: s.updatedAt };
}

export function SegmentView({ session, id }: { session: Session; id: string }) {
  const [segment, setSegment] = useState<Segment | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let live = true;
    setSegment(null);
    setError(null);
    session.api.getSegment(id).then(
      (body) => live && setSegment(body.segment),
      (err: unknown) => live && setError(message(err)),
    );
    return () => {
      live = false;
    };
  }, [session.api, id]);
  const used = useFlags(session, segment?.environment ?? null);

  if (error) return <Page title="Segment"><ErrorText message={error} /></Page>;
  if (!segment) return <Loading what="the segment" />;
  const writable = canWrite(session.who, segment.environment);
  const users = used.flags ? flagsUsing(used.flags, segment.key) : null;
  return (
    <Page title={segment.key}>
      <dl class="facts">
        <dt>Environment</dt>
        <dd>
          <a href={href('segments', segment.environment)}>{segment.environment}</a>
        </dd>
        <dt>Included ids</dt>
        <dd>{count(segment.include.length)}</dd>
        <dt>Rules</dt>
        <dd>{count(segment.rules.length)}</dd>
        <dt>Version</dt>
        <dd>{segment.version}</dd>
        <dt>Last change</dt>
        <dd>{when(segment.updatedAt)}</dd>
      </dl>
      <section aria-labelledby="used-title">
        <h2 id="used-title">Used by</h2>
        <ErrorText message={used.error} />
        {users ? (
          <div class="used-by">
            {users.length === 0 ? <p>No flag in {segment.environment} names it.</p> : <>Flags that name it: <FlagLinks flags={users} segment={segment.key} /></>}
          </div>
        ) : used.error ? null : (
          <Loading what="the flags" />
        )}
      </section>
      {writable ? (
        <>
          <SegmentEditor session={session} segment={segment} onSaved={setSegment} />
          <DeleteSegment session={session} segment={segment} flags={used.flags} onFlagsChanged={used.reload} />
        </>
      ) : (
        <section aria-labelledby="definition-title">
          <h2 id="definition-title">Definition</h2>
          <pre class="json">{pretty({ description: segment.description, include: segment.include, rules: segment.rules })}</pre>
        </section>
      )}
    </Page>
  );
}

function SegmentEditor({ session, segment, onSaved }: { session: Session; segment: Segment; onSaved: (s: Segment) => void }) {
  const [base, setBase] = useState(segment);
  const [description, setDescription] = useState(segment.description);
  const [includeText, setIncludeText] = useState(segment.include.join('\n'));
  const [rulesDraft, setRulesDraft] = useState<RulesDraft>(() => rulesDraftOf(segment.rules));
  const saver = useSaver<Segment>(
    session,
    (id, body, version) => session.api.updateSegment(id, body, version).then((b) => b.segment),
    (id) => session.api.getSegment(id).then((b) => b.segment),
  );

  const load = (s: Segment) => {
    setBase(s);
    setDescription(s.description);
    setIncludeText(s.include.join('\n'));
    setRulesDraft((d) => rulesDraftOf(s.rules, d.mode));
  };

  const include = useMemo(() => parseIds(includeText).ids, [includeText]);
  const rules = rulesOfDraft(rulesDraft);
  const save = async (e: Event) => {
    e.preventDefault();
    if (typeof rules === 'string') {
      saver.setLocal(rules);
      return;
    }
    const change = includeChange(base.include, include);
    await saver.save(base, { description, include, rules }, (stored) => {
      load(stored);
      onSaved(stored);
      return `Saved: version ${stored.version} (${ids(change.added.length)} added, ${ids(change.removed.length)} removed).`;
    });
  };

  const error = saver.error;
  const at = (field: string) => (error && error.topField === field ? error.message : null);
  const general = error && !['description', 'include'].includes(error.topField ?? '') ? error : null;
  const formProblem = rulesDraft.mode === 'form' && typeof rules === 'string';
  return (
    <>
    <form class="editor" onSubmit={save} aria-labelledby="edit-title">
      <h2 id="edit-title">Edit</h2>
      <TextField id="segment-description" label="Description" value={description} setValue={setDescription} error={at('description')} />
      <IncludeField id="segment-include" text={includeText} onText={setIncludeText} saved={base.include} error={at('include')} />
      <SegmentRulesEditor
        draft={rulesDraft}
        setDraft={(d) => {
          setRulesDraft(d);
          if (saver.local) saver.setLocal(null);
        }}
        error={general}
        local={saver.local}
        jsonId="segment-rules"
      />
      <SaveRow
        saver={saver}
        base={base}
        shown={shown}
        load={load}
        setBase={setBase}
        onStored={onSaved}
        disabled={formProblem}
        why={formProblem ? `Not yet: ${rules}` : null}
      />
    </form>
    <SegmentPreview session={session} segment={base} edit={{ description, include, rules }} />
    </>
  );
}

/** `segment "beta" is used by flags: a, b` → `["a", "b"]`; null for any other message. */
function usedBy(text: string): string[] | null {
  const match = /is used by flags: (.+)$/.exec(text);
  return match ? match[1]!.split(', ').map((k) => k.trim()) : null;
}

function DeleteSegment({
  session,
  segment,
  flags,
  onFlagsChanged,
}: {
  session: Session;
  segment: Segment;
  flags: Flag[] | null;
  onFlagsChanged: () => void;
}) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  const opener = useRef<HTMLButtonElement>(null);
  const asked = useRef(false);
  useEffect(() => {
    // The confirmation takes the focus, and gives it back to the button that opened it (not <body>).
    if (asking) confirm.current?.focus();
    else if (asked.current) opener.current?.focus();
    asked.current = asking;
  }, [asking]);

  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      await session.api.deleteSegment(segment.id, segment.version);
      go(href('segments', segment.environment));
    } catch (err) {
      setError(message(err));
      setAsking(false);
      onFlagsChanged();
    } finally {
      setBusy(false);
    }
  };
  const named = error ? usedBy(error) : null;
  return (
    <section aria-labelledby="delete-title" class="delete">
      <h2 id="delete-title">Delete</h2>
      {named ? (
        <div class="conflict" role="alert">
          <h3>Not deleted: flags name it</h3>
          <p>{error}</p>
          <div>
            Remove the segment from their rules first:{' '}
            {named.map((key, k) => {
              const flag = flags?.find((f) => f.key === key);
              return (
                <span key={key}>
                  {k ? ', ' : ''}
                  {flag ? <a href={href('flag', flag.id)}>{key}</a> : key}
                </span>
              );
            })}
          </div>
        </div>
      ) : (
        <ErrorText message={error} />
      )}
      {asking ? (
        <div
          class="confirm"
          role="alertdialog"
          aria-labelledby="delete-confirm-title"
          onKeyDown={(e) => {
            if (e.key === 'Escape') setAsking(false);
          }}
        >
          <h3 id="delete-confirm-title">
            Delete segment {segment.key} in {segment.environment}?
          </h3>
          <p>Its ids and rules are gone for good; the audit log keeps what it was.</p>
          <div class="actions">
            <button type="button" class="danger" ref={confirm} disabled={busy} onClick={remove}>
              Delete {segment.key}
            </button>
            <button type="button" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </div>
        </div>
      ) : (
        <button type="button" class="danger" ref={opener} onClick={() => setAsking(true)}>
          Delete segment…
        </button>
      )}
    </section>
  );
}

export function NewSegment({ session, environment }: { session: Session; environment: Environment }) {
  const writable = session.who.environments;
  const [key, setKey] = useState('');
  const [env, setEnv] = useState<Environment>(environment);
  const [description, setDescription] = useState('');
  const [includeText, setIncludeText] = useState('');
  const [rulesDraft, setRulesDraft] = useState<RulesDraft>(() => rulesDraftOf([]));
  const [error, setError] = useState<ApiError | null>(null);
  const [local, setLocal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const create = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const rules = rulesOfDraft(rulesDraft);
    if (typeof rules === 'string') {
      setLocal(rules);
      return;
    }
    setLocal(null);
    setBusy(true);
    try {
      const body = await session.api.createSegment({ key, environment: env, description, include: parseIds(includeText).ids, rules });
      go(href('segment', body.segment.id));
    } catch (err) {
      if (!(err instanceof ApiError)) {
        setLocal(`not sent: ${message(err)}`);
        return;
      }
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const at = (field: string) => (error && error.topField === field ? error.message : null);
  const general = error && !['key', 'environment', 'description', 'include'].includes(error.topField ?? '') ? error : null;
  const rules = rulesOfDraft(rulesDraft);
  const formProblem = rulesDraft.mode === 'form' && typeof rules === 'string';
  return (
    <Page title="New segment">
      <form class="editor" onSubmit={create}>
        <TextField id="new-segment-key" label="Key" autoComplete="off" required value={key} setValue={setKey} error={at('key')} />
        <EnvironmentField id="new-segment-environment" value={env} setValue={setEnv} choices={writable} error={at('environment')} />
        <TextField id="new-segment-description" label="Description" value={description} setValue={setDescription} error={at('description')} />
        <IncludeField id="new-segment-include" text={includeText} onText={setIncludeText} saved={null} error={at('include')} />
        <SegmentRulesEditor
          draft={rulesDraft}
          setDraft={(d) => {
            setRulesDraft(d);
            setLocal(null);
          }}
          error={general}
          local={local}
          jsonId="new-segment-rules"
        />
        <div class="actions">
          <button type="submit" class="primary" disabled={busy || formProblem} aria-describedby={formProblem ? 'save-why' : undefined}>
            Create segment
          </button>
          {formProblem ? (
            <span id="save-why" class="muted">
              Not yet: {rules}
            </span>
          ) : null}
          <a class="button" href={href('segments', env)}>
            Cancel
          </a>
        </div>
      </form>
    </Page>
  );
}
