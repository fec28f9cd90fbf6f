// The impact preview: while a flag is edited, the saved and the edited flag are decided side by
// side for a sample of users, in a worker (preview/worker.ts) with @pennon/evaluator over the
// environment's whole snapshot (prerequisites and segments count), and the page shows how many
// users change variant, from what to what, with examples. The users are the origin's recent
// evaluation contexts (`GET /api/admin/contexts`, when it keeps them) or pasted/uploaded by the
// person. Recomputed 250 ms after the edit stops changing; a stale answer is dropped.
// A segment edit is previewed the same way (SegmentPreview): the edited segment in place of the
// saved one, and every flag that names it (and every flag that needs those) decided both ways.
import type { User } from '@pennon/evaluator';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, type Environment, type Flag, type Json, type JsonObject, type Segment } from '../api';
import type { Session } from '../app';
import { ErrorText } from '../components';
import { count, when } from '../format';
import { changesLine, headline, type Dependent, type Impact } from '../preview/impact';
import type { Reply, Request, SnapshotEdit, Subject } from '../preview/protocol';
import { parseUsers } from '../preview/users';
import { ruleNumbers } from '../segments';

/** What the editor holds now: the definition parsed, or why it does not parse. */
export interface Edit {
  description: string;
  enabled: boolean;
  definition: JsonObject | string;
}

type Source = 'origin' | 'paste';

interface Sample {
  users: User[];
  /** Where they come from, as the page says it. */
  label: string;
}

const DEBOUNCE_MS = 250;

/** What a run answers: the edited flag's impact (none for a segment) and the other flags the edit reaches. */
interface Result {
  impact: Impact | null;
  dependents: Dependent[];
  ms: number;
}

/**
 * The frame of every preview: the users (the origin's sample, or pasted or uploaded), the worker
 * loaded with the snapshot and them, a run 250 ms after the edit stops changing, and the result
 * shown by `show` (dimmed while a newer run is pending).
 */
function ImpactPreview({
  session,
  environment,
  subject,
  version,
  edit,
  intro,
  show,
}: {
  session: Session;
  environment: Environment;
  subject: Subject;
  /** The saved version: when it changes (a save), the snapshot is read again. */
  version: number;
  /** The edited flag or segment, or why there is none (`the definition is not valid (…)`). */
  edit: SnapshotEdit | string;
  intro: ComponentChildren;
  show: (result: Result, stale: boolean) => ComponentChildren;
}) {
  const [source, setSource] = useState<Source>('origin');
  const [sample, setSample] = useState<Sample | null>(null);
  const [sampleError, setSampleError] = useState<string | null>(null);
  const [noSample, setNoSample] = useState(false);
  const [pasted, setPasted] = useState('');
  const [loading, setLoading] = useState(false);
  /** The seq of the worker's last 'load' that answered; runs wait for it. */
  const [ready, setReady] = useState<number | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [runError, setRunError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const worker = useRef<Worker | null>(null);
  const seq = useRef(0);
  const latestRun = useRef(0);

  useEffect(() => () => worker.current?.terminate(), []);

  const post = (request: Request) => {
    if (!worker.current) {
      const w = new Worker(new URL('../preview/worker.ts', import.meta.url), { type: 'module', name: 'impact-preview' });
      w.onmessage = (e: MessageEvent<Reply>) => {
        const reply = e.data;
        if (reply.kind === 'loaded') {
          setReady(reply.seq);
          return;
        }
        if (reply.seq !== latestRun.current) return; // a newer load or run is on its way
        setRunning(false);
        if (reply.kind === 'impact') {
          setResult({ impact: reply.impact, dependents: reply.dependents, ms: reply.ms });
          setRunError(null);
        } else {
          setResult(null);
          setRunError(reply.message);
        }
      };
      w.onerror = (e) => {
        setRunning(false);
        setRunError(`the preview's worker failed: ${e.message}`);
      };
      worker.current = w;
    }
    worker.current.postMessage(request);
  };

  /** Sends the users and a fresh snapshot (the saved flags and segments) to the worker. */
  const load = async (users: User[], label: string) => {
    setLoading(true);
    try {
      const snapshot = await session.api.snapshot(environment);
      const n = ++seq.current;
      latestRun.current = n;
      setReady(null);
      setResult(null);
      setRunError(null);
      setSample({ users, label });
      post({ kind: 'load', seq: n, snapshot, subject, users });
    } catch (err) {
      setSampleError(err instanceof Error ? err.message : String(err));
    } finally {
      setLoading(false);
    }
  };

  const loadOrigin = async () => {
    setSampleError(null);
    setNoSample(false);
    setLoading(true);
    try {
      const body = await session.api.contexts(environment);
      if (body.contexts.length === 0) {
        setLoading(false);
        setSampleError(`The origin keeps a sample (up to ${count(body.size)} users) but has seen no evaluation in ${environment} yet.`);
        return;
      }
      const newest = body.contexts[0]?.seenAt;
      await load(
        body.contexts.map((c) => c.user),
        `${count(body.contexts.length)} users the origin saw evaluated in ${environment} (latest ${when(newest)})`,
      );
    } catch (err) {
      setLoading(false);
      if (err instanceof ApiError && err.status === 404) setNoSample(true);
      else setSampleError(err instanceof Error ? err.message : String(err));
    }
  };

  const usePasted = async (text: string, what: string) => {
    setSampleError(null);
    const parsed = parseUsers(text);
    if ('error' in parsed) {
      setSampleError(`${what}: ${parsed.error}`);
      return;
    }
    await load(parsed.users, `${count(parsed.users.length)} users ${what === 'file' ? 'from the file' : 'pasted'}`);
  };

  const upload = async (input: HTMLInputElement) => {
    const file = input.files?.[0];
    if (!file) return;
    await usePasted(await file.text(), 'file');
  };

  // After a save the saved flag or segment is another one: reload the snapshot for the same users.
  const saved = useRef(version);
  useEffect(() => {
    if (saved.current === version) return;
    saved.current = version;
    if (sample) void load(sample.users, sample.label);
  }, [version]);

  // The edit, and a run 250 ms after it stops changing.
  const editText = typeof edit === 'string' ? null : JSON.stringify(edit);
  useEffect(() => {
    if (ready === null || editText === null) return;
    setRunning(true);
    const timer = setTimeout(() => {
      const n = ++seq.current;
      latestRun.current = n;
      post({ kind: 'run', seq: n, edit: JSON.parse(editText) as SnapshotEdit });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [ready, editText]);

  return (
    <section class="preview" aria-labelledby="preview-title">
      <h2 id="preview-title">Impact preview</h2>
      <p class="muted">{intro}</p>
      <fieldset class="sources">
        <legend>Users</legend>
        <label class="block">
          <input type="radio" name="preview-source" value="origin" checked={source === 'origin'} onChange={() => setSource('origin')} /> The origin's
          sample of recent users in {environment}
        </label>
        <label class="block">
          <input type="radio" name="preview-source" value="paste" checked={source === 'paste'} onChange={() => setSource('paste')} /> Users I paste or
          upload
        </label>
      </fieldset>
      {source === 'origin' ? (
        <div class="actions">
          <button type="button" onClick={() => void loadOrigin()} disabled={loading}>
            {sample ? 'Reload' : 'Load'} the origin's sample
          </button>
        </div>
      ) : (
        <div>
          <label for="preview-users">Users (a JSON array as POST /api/evaluate takes them, or one JSON user per line)</label>
          <textarea
            id="preview-users"
            rows={4}
            spellcheck={false}
            placeholder={'{"id": "user-1", "country": "DE"}\n{"id": "user-2", "attributes": {"plan": "pro"}}'}
            value={pasted}
            onInput={(e) => setPasted(e.currentTarget.value)}
          />
          <div class="actions">
            <button type="button" onClick={() => void usePasted(pasted, 'pasted users')} disabled={loading}>
              Preview with these users
            </button>
            <label class="file">
              Or upload a file (.json, .jsonl)
              <input type="file" accept=".json,.jsonl,.ndjson,.txt,application/json" onChange={(e) => void upload(e.currentTarget)} />
            </label>
          </div>
        </div>
      )}
      {noSample ? (
        <p class="notice" role="alert">
          This origin keeps no sample of contexts. Start it with <code>CONTEXT_SAMPLE_SIZE=10000</code> to keep the
          latest users evaluated per environment in its memory (personal data: see the origin's documentation, "The
          context sample"), or paste users instead.
        </p>
      ) : null}
      <ErrorText id="preview-sample-error" message={sampleError} />
      {sample ? <p class="muted">{sample.label}.</p> : null}
      <div aria-live="polite" class="impact">
        {sample && typeof edit === 'string' ? (
          <p class="error">No preview: {edit}.</p>
        ) : runError ? (
          <p class="error" role="alert">
            No preview: the evaluator refuses the edited {subject.kind}: {runError}
          </p>
        ) : result ? (
          show(result, running)
        ) : sample ? (
          <p class="muted">Deciding…</p>
        ) : null}
      </div>
    </section>
  );
}

/** The impact preview of a flag's edit, and its knock-on effects on the flags that need it. */
export function Preview({ session, flag, edit }: { session: Session; flag: Flag; edit: Edit }) {
  const edited: SnapshotEdit | string =
    typeof edit.definition === 'string'
      ? `the definition is not valid (${edit.definition})`
      : { kind: 'flag', flag: { id: flag.id, key: flag.key, environment: flag.environment, description: edit.description, enabled: edit.enabled, ...edit.definition } };
  const variants = Object.keys(flag.variants ?? { on: true, off: false });
  return (
    <ImpactPreview
      session={session}
      environment={flag.environment}
      subject={{ kind: 'flag', key: flag.key }}
      version={flag.version}
      edit={edited}
      intro={
        <>
          Who this edit would serve another variant, before you save it: the saved and the edited flag decided in this page
          for a sample of users, with the rest of {flag.environment}'s flags and segments. Nothing about the users is sent.
        </>
      }
      show={(r, stale) => (
        <>
          {r.impact ? <ImpactView impact={r.impact} variants={[...variants]} stale={stale} /> : null}
          {r.dependents.length ? (
            <Reached
              title={`Flags that need ${flag.key}`}
              intro={`${r.dependents.length === 1 ? '1 flag takes' : `${count(r.dependents.length)} flags take`} ${flag.key} as a prerequisite, directly or through another: each decided for the same users with the saved and with the edited ${flag.key}.`}
              label="Knock-on effect on"
              dependents={r.dependents}
              stale={stale}
            />
          ) : null}
        </>
      )}
    />
  );
}

/** What the segment editor holds now: the rules parsed, or why they cannot be sent. */
export interface SegmentEdit {
  description: string;
  include: string[];
  rules: Json[] | string;
}

/** The impact preview of a segment's edit: every flag that names it, and every flag that needs those. */
export function SegmentPreview({ session, segment, edit }: { session: Session; segment: Segment; edit: SegmentEdit }) {
  const edited: SnapshotEdit | string =
    typeof edit.rules === 'string'
      ? `the rules are not valid (${edit.rules})`
      : { kind: 'segment', segment: { id: segment.id, key: segment.key, environment: segment.environment, description: edit.description, include: edit.include, rules: edit.rules } };
  return (
    <ImpactPreview
      session={session}
      environment={segment.environment}
      subject={{ kind: 'segment', key: segment.key }}
      version={segment.version}
      edit={edited}
      intro={
        <>
          Who this edit would serve another variant of the flags that name {segment.key} (as a rule or in a group), and of
          the flags that need those, before you save it: each decided in this page for a sample of users with the saved and
          with the edited segment, with the rest of {segment.environment}'s flags and segments. Nothing about the users is sent.
        </>
      }
      show={(r, stale) => <SegmentImpact segment={segment.key} environment={segment.environment} result={r} stale={stale} />}
    />
  );
}

function SegmentImpact({ segment, environment, result, stale }: { segment: string; environment: Environment; result: Result; stale: boolean }) {
  const flags = result.dependents;
  const changing = flags.filter((d) => d.impact.changed > 0).length;
  const users = flags[0] ? flags[0].impact.total + flags[0].impact.refused : 0;
  return (
    <div class={stale ? 'stale' : undefined}>
      <p class="impact-summary" role="status">
        <strong>
          {flags.length === 0
            ? `No flag of ${environment} names ${segment}: the edit changes no flag's variant.`
            : `${count(changing)} of ${count(flags.length)} ${flags.length === 1 ? 'flag' : 'flags'} ${changing === 1 ? 'changes' : 'change'} variant for some of the ${count(users)} sampled users.`}
        </strong>
      </p>
      {flags.length ? (
        <Reached title={`Flags that name ${segment}, and the flags that need them`} intro={null} label="Effect on" dependents={flags} stale={stale} prefix />
      ) : null}
      <p class="muted timing" data-ms={result.ms.toFixed(1)}>
        Decided {flags.length === 1 ? '1 flag' : `${count(flags.length)} flags`} in {result.ms < 10 ? result.ms.toFixed(1) : Math.round(result.ms)} ms, off
        the page's main thread.
      </p>
    </div>
  );
}

function ImpactView({ impact, variants, stale }: { impact: Impact; variants: string[]; stale: boolean }) {
  for (const v of [...Object.keys(impact.before), ...Object.keys(impact.after)]) if (!variants.includes(v)) variants.push(v);
  return (
    <div class={stale ? 'stale' : undefined}>
      <p class="impact-summary" role="status">
        <strong>{headline(impact, count)}</strong>
      </p>
      <Transitions impact={impact} label="Users who change variant" />
      <table class="cards variants" aria-label="Users per variant">
        <thead>
          <tr>
            <th scope="col">Variant</th>
            <th scope="col">Saved</th>
            <th scope="col">Edited</th>
          </tr>
        </thead>
        <tbody>
          {variants.map((v) => (
            <tr key={v}>
              <th scope="row">{v}</th>
              <td data-label="Saved">{count(impact.before[v] ?? 0)}</td>
              <td data-label="Edited">{count(impact.after[v] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {impact.refused > 0 ? (
        <p class="error">
          {count(impact.refused)} users could not be decided and are left out; the first: {impact.firstRefusal}
        </p>
      ) : null}
      <p class="muted timing" data-ms={impact.ms.toFixed(1)}>
        Decided in {impact.ms < 10 ? impact.ms.toFixed(1) : Math.round(impact.ms)} ms, off the page's main thread.
      </p>
    </div>
  );
}

function Transitions({ impact, label }: { impact: Impact; label: string }) {
  if (impact.transitions.length === 0) return null;
  return (
    <table class="cards transitions" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">Users</th>
          <th scope="col">For example</th>
        </tr>
      </thead>
      <tbody>
        {impact.transitions.map((t) => (
          <tr key={`${t.from}→${t.to}`}>
            <td data-label="From">{t.from}</td>
            <td data-label="To">{t.to}</td>
            <td data-label="Users">{count(t.count)}</td>
            <td data-label="For example">{t.examples.join(', ')}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** Flags the edit reaches (the flags that need an edited flag; the flags that name an edited segment, then those that need them): who of the sample changes variant of each. */
function Reached({
  title,
  intro,
  label,
  dependents,
  stale,
  prefix = false,
}: {
  title: string;
  intro: string | null;
  /** Each flag's section is named `${label} ${key}`. */
  label: string;
  dependents: Dependent[];
  stale: boolean;
  /** Whether each flag's line names it and counts every transition (`checkout.theme: 12 of 166 sampled users change variant: 12 off → on.`) rather than the flag preview's headline. */
  prefix?: boolean;
}) {
  return (
    <div class={stale ? 'dependents stale' : 'dependents'}>
      <h3>{title}</h3>
      {intro ? <p class="muted">{intro}</p> : null}
      {dependents.map((d) => (
        <section key={d.key} class="dependent" aria-label={`${label} ${d.key}`}>
          <h4>
            {d.key}{' '}
            <span class="muted">{d.rules.length ? `— ${ruleNumbers(d.rules)}` : `(needs ${d.needs.join(', ')})`}</span>
          </h4>
          <p class="dependent-summary">{prefix ? `${d.key}: ${changesLine(d.impact, count)}` : headline(d.impact, count)}</p>
          <Transitions impact={d.impact} label={`Users of ${d.key} who change variant`} />
          {d.impact.refused > 0 ? (
            <p class="error">
              {count(d.impact.refused)} users could not be decided and are left out; the first: {d.impact.firstRefusal}
            </p>
          ) : null}
        </section>
      ))}
    </div>
  );
}
