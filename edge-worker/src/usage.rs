//! The isolate's evaluation counts, batched for the origin's `POST /api/usage`, as a plain state
//! machine.
//!
//! It holds no clock and does no I/O: the caller passes `now_ms` and sends what [`UsageBook::poll`]
//! hands it, so every decision (count, when a batch is due, the bounds, the body) is unit-tested
//! on the host. The wasm glue in `report.rs` drives it.
//!
//! Counting is an index and two stores per result: each environment counts into a [`Tally`] of the
//! compiled set that served the request, one cell per (flag, variant) of that set, found by the
//! result's flag number and variant number. No key is compared, hashed or copied on a request;
//! names are resolved when a batch is written, or when the environment's set is replaced (the
//! old set's counts are then moved under their names so that the new set's numbers can start).

use std::collections::BTreeMap;
use std::rc::Rc;

use evaluator::{CompiledFlagSet, Environment, FlagResult};
use serde::Serialize;

/// `USAGE_REPORT_SECONDS` when the var is not set.
pub const DEFAULT_REPORT_SECONDS: u64 = 10;
/// An environment with this many series pending is reported at once, before its interval is up.
pub const FLUSH_SERIES: usize = 1_000;
/// At most this many series wait per environment (the origin's limit per batch): past it, a result
/// of a series not yet pending is not counted, only noted as dropped.
pub const MAX_SERIES: usize = 10_000;
/// The origin's limit on a batch's body; a larger batch is written as several bodies.
pub const MAX_BODY_BYTES: usize = http_contract::MAX_BODY_BYTES;
/// A wake-up armed for a due time that has not come back this long after it is presumed lost
/// (workerd may cancel a `waitUntil` task); the next request arms another.
pub const ARM_GRACE_MS: u64 = 5_000;

/// What the caller does after a request was counted, or when an armed wake-up fires.
#[derive(Debug, PartialEq, Eq)]
pub enum Poll {
    /// Nothing pending, or a wake-up is already armed for the due time.
    Idle,
    /// Send these now (off the request's path); they are no longer pending.
    Send(Vec<Batch>),
    /// Nothing is due yet: wake up after `delay_ms` and call [`UsageBook::wake`], so that the
    /// counts go out even if no request comes after them.
    Arm { delay_ms: u64 },
}

/// One body for `POST /api/usage`: one environment's counts (or a part of them, when they do not
/// fit in one body).
#[derive(Debug, PartialEq, Eq)]
pub struct Batch {
    pub environment: Environment,
    pub body: Vec<u8>,
    /// The entries in `body`.
    pub series: usize,
    /// Results not counted because the environment had [`MAX_SERIES`] series pending (carried by
    /// the first batch of the environment), for the log.
    pub dropped: u64,
}

/// A count and the time of the last evaluation counted in it (ms since the Unix epoch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Cell {
    count: u64,
    last_ms: u64,
}

impl Cell {
    fn add(&mut self, other: Cell) {
        self.count += other.count;
        self.last_ms = self.last_ms.max(other.last_ms);
    }
}

/// The counts of one compiled set, by (flag number, variant number).
#[derive(Debug)]
struct Tally {
    set: Rc<CompiledFlagSet>,
    /// Flag `f`'s cells start at `first[f]`, one per variant.
    first: Box<[u32]>,
    cells: Box<[Cell]>,
    /// Cells with a count.
    series: usize,
}

impl Tally {
    fn new(set: &Rc<CompiledFlagSet>) -> Self {
        let mut first = Vec::with_capacity(set.len());
        let mut next = 0usize;
        for index in 0..set.len() {
            first.push(u32::try_from(next).unwrap_or(u32::MAX));
            next += set.flag_at(index).map_or(0, |(_, variants)| variants.len());
        }
        Tally {
            set: Rc::clone(set),
            first: first.into_boxed_slice(),
            cells: vec![Cell::default(); next].into_boxed_slice(),
            series: 0,
        }
    }

    /// The cell of `result`; `None` for a flag not found (no flag number, no variant).
    #[inline]
    fn cell(&self, result: &FlagResult<'_>) -> Option<usize> {
        let flag = result.flag_index()?;
        let variant = result.variant_id()?;
        Some(*self.first.get(flag)? as usize + variant.index())
    }

    /// Moves every count into `named` under its flag's and variant's names, leaving zeros.
    fn drain_into(&mut self, named: &mut BTreeMap<(String, String), Cell>) {
        if self.series == 0 {
            return;
        }
        for (flag, &first) in self.first.iter().enumerate() {
            let Some((key, variants)) = self.set.flag_at(flag) else {
                continue;
            };
            for (variant, name, _) in variants.iter() {
                let Some(cell) = self.cells.get_mut(first as usize + variant.index()) else {
                    continue;
                };
                if cell.count > 0 {
                    named
                        .entry((key.to_owned(), name.as_str().to_owned()))
                        .or_default()
                        .add(*cell);
                }
                *cell = Cell::default();
            }
        }
        self.series = 0;
    }
}

/// One environment's pending counts.
#[derive(Debug, Default)]
struct Pending {
    /// The counts of the set that serves now.
    tally: Option<Tally>,
    /// Counts of earlier sets of this environment, by name.
    named: BTreeMap<(String, String), Cell>,
    dropped: u64,
}

impl Pending {
    /// Series pending (an upper bound: a name may be both in `named` and in the tally).
    fn series(&self) -> usize {
        self.named.len() + self.tally.as_ref().map_or(0, |tally| tally.series)
    }

    fn is_empty(&self) -> bool {
        self.series() == 0 && self.dropped == 0
    }

    /// Makes the tally `set`'s, the current one's counts moved under their names first when `set`
    /// is another set (the environment's snapshot was replaced).
    fn use_set(&mut self, set: &Rc<CompiledFlagSet>) {
        let current = self
            .tally
            .as_ref()
            .is_some_and(|tally| Rc::ptr_eq(&tally.set, set));
        if !current {
            if let Some(old) = &mut self.tally {
                old.drain_into(&mut self.named);
            }
            self.tally = Some(Tally::new(set));
        }
    }

    fn record(&mut self, set: &Rc<CompiledFlagSet>, results: &[FlagResult<'_>], now_ms: u64) {
        self.use_set(set);
        let Some(tally) = &mut self.tally else {
            return;
        };
        let earlier = self.named.len();
        let mut dropped = 0;
        for result in results {
            let Some(index) = tally.cell(result) else {
                continue;
            };
            let room = earlier + tally.series < MAX_SERIES;
            let Some(cell) = tally.cells.get_mut(index) else {
                continue;
            };
            if cell.count == 0 {
                if !room {
                    dropped += 1;
                    continue;
                }
                tally.series += 1;
            }
            cell.count += 1;
            cell.last_ms = now_ms;
        }
        self.dropped += dropped;
    }

    /// Everything pending as bodies, and empty again (the tally keeps its set and its cells).
    fn take(&mut self, environment: Environment) -> Vec<Batch> {
        if let Some(tally) = &mut self.tally {
            tally.drain_into(&mut self.named);
        }
        let named = std::mem::take(&mut self.named);
        let dropped = std::mem::take(&mut self.dropped);
        let mut batches = write_bodies(environment, &named, MAX_BODY_BYTES);
        match batches.first_mut() {
            Some(first) => first.dropped = dropped,
            // Only dropped results: an empty batch is not sent, but the drop is still reported.
            None if dropped > 0 => batches.push(Batch {
                environment,
                body: Vec::new(),
                series: 0,
                dropped,
            }),
            None => {}
        }
        batches
    }
}

/// The isolate's pending counts, one slot per environment, and when they are due.
#[derive(Debug)]
pub struct UsageBook {
    /// 0: counting and reporting are off.
    interval_ms: u64,
    /// When the first count since the last batch was taken was made: the batch is due one
    /// interval after it.
    opened_ms: Option<u64>,
    /// The due time a wake-up is armed for.
    armed_for_ms: Option<u64>,
    slots: [Pending; 3],
}

fn index(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

impl UsageBook {
    pub fn new(interval_ms: u64) -> Self {
        UsageBook {
            interval_ms,
            opened_ms: None,
            armed_for_ms: None,
            slots: Default::default(),
        }
    }

    /// A new interval (the var was edited) applies from the next poll; counts already made stay.
    pub fn set_interval_ms(&mut self, interval_ms: u64) {
        self.interval_ms = interval_ms;
    }

    /// Counts one request's results, served by `set` for `environment` at `now_ms`; a result
    /// naming no flag of the set (`FLAG_NOT_FOUND`) is not counted. Nothing when reporting is off.
    pub fn record(
        &mut self,
        environment: Environment,
        set: &Rc<CompiledFlagSet>,
        results: &[FlagResult<'_>],
        now_ms: u64,
    ) {
        if self.interval_ms == 0 || results.is_empty() {
            return;
        }
        self.slots[index(environment)].record(set, results, now_ms);
        if self.opened_ms.is_none() && !self.slots[index(environment)].is_empty() {
            self.opened_ms = Some(now_ms);
        }
    }

    /// What to do now: send what is due (the interval is up since the first pending count, or an
    /// environment reached [`FLUSH_SERIES`]), else make sure a wake-up is armed for the due time.
    pub fn poll(&mut self, now_ms: u64) -> Poll {
        let Some(opened_ms) = self.opened_ms else {
            return Poll::Idle;
        };
        if self.interval_ms == 0 {
            // Turned off with counts pending: they are not sent.
            self.clear();
            return Poll::Idle;
        }
        let due_ms = opened_ms.saturating_add(self.interval_ms);
        let full = self.slots.iter().any(|slot| slot.series() >= FLUSH_SERIES);
        if now_ms >= due_ms || full {
            return Poll::Send(self.take());
        }
        let armed = self
            .armed_for_ms
            .is_some_and(|armed| now_ms <= armed.saturating_add(ARM_GRACE_MS));
        if armed {
            return Poll::Idle;
        }
        self.armed_for_ms = Some(due_ms);
        // At most one interval, even if the clock went backwards.
        let delay_ms = (due_ms - now_ms).min(self.interval_ms);
        Poll::Arm { delay_ms }
    }

    /// An armed wake-up fired: it is no longer armed; then as [`UsageBook::poll`] (which may arm
    /// it again, when a batch was sent meanwhile and newer counts are not yet due).
    pub fn wake(&mut self, now_ms: u64) -> Poll {
        self.armed_for_ms = None;
        self.poll(now_ms)
    }

    /// Results counted and pending, over every environment (for tests and the log).
    pub fn pending_series(&self) -> usize {
        self.slots.iter().map(Pending::series).sum()
    }

    fn take(&mut self) -> Vec<Batch> {
        self.opened_ms = None;
        let mut batches = Vec::new();
        for environment in Environment::ALL {
            batches.extend(self.slots[index(environment)].take(environment));
        }
        batches
    }

    fn clear(&mut self) {
        self.opened_ms = None;
        self.slots = Default::default();
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    flag: &'a str,
    variant: &'a str,
    count: u64,
    last_evaluated_at: u64,
}

/// `{"environment": ..., "counts": [{"flag", "variant", "count", "lastEvaluatedAt"}, ...]}`, in
/// bodies of at most `limit` bytes (and at most [`MAX_SERIES`] entries), entries in name order.
fn write_bodies(
    environment: Environment,
    named: &BTreeMap<(String, String), Cell>,
    limit: usize,
) -> Vec<Batch> {
    const CLOSE: &[u8] = b"]}";
    let open = format!(r#"{{"environment":"{}","counts":["#, environment.as_str());
    let mut batches = Vec::new();
    let mut body = Vec::new();
    let mut series = 0;
    let mut entry = Vec::new();
    for ((flag, variant), cell) in named {
        entry.clear();
        let written = serde_json::to_writer(
            &mut entry,
            &Entry {
                flag,
                variant,
                count: cell.count,
                last_evaluated_at: cell.last_ms,
            },
        );
        if written.is_err() {
            continue;
        }
        let fits = body.len() + 1 + entry.len() + CLOSE.len() <= limit && series < MAX_SERIES;
        if series > 0 && !fits {
            body.extend_from_slice(CLOSE);
            batches.push(Batch {
                environment,
                body: std::mem::take(&mut body),
                series,
                dropped: 0,
            });
            series = 0;
        }
        if series == 0 {
            body.extend_from_slice(open.as_bytes());
        } else {
            body.push(b',');
        }
        body.extend_from_slice(&entry);
        series += 1;
    }
    if series > 0 {
        body.extend_from_slice(CLOSE);
        batches.push(Batch {
            environment,
            body,
            series,
            dropped: 0,
        });
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;
    use evaluator::{Flag, User};
    use serde_json::{json, Value};

    const PROD: Environment = Environment::Prod;
    const SECOND: u64 = 1_000;
    const T0: u64 = 1_764_201_600_000;

    fn set(json: &str) -> Rc<CompiledFlagSet> {
        let flags: Vec<Flag> = serde_json::from_str(json).expect("valid flags");
        Rc::new(CompiledFlagSet::new(&flags).expect("compiles"))
    }

    /// `a` (on for everyone), `b` (disabled: its off variant), and a string flag `c` that serves
    /// `x` to user `u1` (the one in `DE`) and `y` to everyone else.
    fn three() -> Rc<CompiledFlagSet> {
        set(r#"[
            {"key":"a","enabled":true,"rolloutPercentage":100},
            {"key":"b","enabled":false,"rolloutPercentage":100},
            {"key":"c","enabled":true,"type":"string","variants":{"x":"X","y":"Y"},
             "offVariant":"y","rules":[{"field":"country","operator":"eq","value":"DE","serve":"x"}],
             "fallthrough":"y"}]"#)
    }

    fn user(id: &str) -> User {
        let country = if id == "u1" { "DE" } else { "FR" };
        User::from_json_str(&format!(r#"{{"id":"{id}","country":"{country}"}}"#))
            .expect("valid user")
    }

    fn evaluate(book: &mut UsageBook, set: &Rc<CompiledFlagSet>, id: &str, now: u64) {
        let results = set.evaluate_all(&user(id));
        book.record(PROD, set, &results, now);
    }

    fn sent(poll: Poll) -> Vec<Batch> {
        match poll {
            Poll::Send(batches) => batches,
            other => panic!("expected Send, got {other:?}"),
        }
    }

    fn body(batch: &Batch) -> Value {
        serde_json::from_slice(&batch.body).expect("JSON body")
    }

    #[test]
    fn counts_per_variant_with_the_last_time_and_writes_the_origins_body() {
        let set = three();
        let mut book = UsageBook::new(10 * SECOND);
        evaluate(&mut book, &set, "u1", T0);
        evaluate(&mut book, &set, "u2", T0 + 5);
        evaluate(&mut book, &set, "u3", T0 + 7);
        assert_eq!(book.pending_series(), 4);
        let batches = sent(book.poll(T0 + 10 * SECOND));
        assert_eq!(batches.len(), 1);
        assert_eq!((batches[0].environment, batches[0].series), (PROD, 4));
        assert_eq!(
            String::from_utf8(batches[0].body.clone()).expect("UTF-8"),
            concat!(
                r#"{"environment":"prod","counts":["#,
                r#"{"flag":"a","variant":"on","count":3,"lastEvaluatedAt":1764201600007},"#,
                r#"{"flag":"b","variant":"off","count":3,"lastEvaluatedAt":1764201600007},"#,
                r#"{"flag":"c","variant":"x","count":1,"lastEvaluatedAt":1764201600000},"#,
                r#"{"flag":"c","variant":"y","count":2,"lastEvaluatedAt":1764201600007}]}"#
            )
        );
        assert_eq!(book.pending_series(), 0);
        assert_eq!(book.poll(T0 + 20 * SECOND), Poll::Idle);
    }

    #[test]
    fn flags_not_found_are_not_counted() {
        let set = three();
        let mut book = UsageBook::new(10 * SECOND);
        let keys = ["zz".to_owned(), "a".to_owned()];
        let results = set.evaluate_keys(&user("u1"), &keys);
        assert_eq!(results.len(), 2);
        book.record(PROD, &set, &results, T0);
        let batches = sent(book.poll(T0 + 10 * SECOND));
        assert_eq!(
            body(&batches[0])["counts"],
            json!([{"flag": "a", "variant": "on", "count": 1, "lastEvaluatedAt": T0}])
        );
        // Only unknown keys: nothing pending, nothing due.
        let missing = set.evaluate_keys(&user("u1"), &keys[..1]);
        book.record(PROD, &set, &missing, T0 + 11 * SECOND);
        assert_eq!(book.poll(T0 + 30 * SECOND), Poll::Idle);
    }

    #[test]
    fn a_batch_is_due_one_interval_after_its_first_count_and_a_wake_up_is_armed_once() {
        let set = three();
        let mut book = UsageBook::new(10 * SECOND);
        assert_eq!(book.poll(T0), Poll::Idle);
        evaluate(&mut book, &set, "u1", T0);
        assert_eq!(book.poll(T0), Poll::Arm { delay_ms: 10_000 });
        evaluate(&mut book, &set, "u1", T0 + 4 * SECOND);
        assert_eq!(book.poll(T0 + 4 * SECOND), Poll::Idle, "already armed");
        // The wake-up fires a little early (timers are coarse): armed again for the rest.
        assert_eq!(
            book.wake(T0 + 9_990),
            Poll::Arm { delay_ms: 10 },
            "not due yet"
        );
        let batches = sent(book.wake(T0 + 10 * SECOND));
        assert_eq!(body(&batches[0])["counts"][0]["count"], json!(2));
        // The next batch opens with the next count, and is due one interval after it.
        evaluate(&mut book, &set, "u1", T0 + 25 * SECOND);
        assert_eq!(book.poll(T0 + 25 * SECOND), Poll::Arm { delay_ms: 10_000 });
        assert!(matches!(book.poll(T0 + 35 * SECOND), Poll::Send(_)));
    }

    #[test]
    fn a_lost_wake_up_is_armed_again_after_the_grace() {
        let set = three();
        let mut book = UsageBook::new(10 * SECOND);
        evaluate(&mut book, &set, "u1", T0);
        assert_eq!(book.poll(T0), Poll::Arm { delay_ms: 10_000 });
        // A request after the due time sends without the wake-up, whether or not it came.
        assert!(matches!(book.poll(T0 + 10 * SECOND), Poll::Send(_)));
        evaluate(&mut book, &set, "u1", T0 + 11 * SECOND);
        // Armed for T0 + 10 s, which never woke: presumed lost only after the grace.
        assert_eq!(book.poll(T0 + 11 * SECOND), Poll::Idle);
        assert_eq!(
            book.poll(T0 + 10 * SECOND + ARM_GRACE_MS + 1),
            Poll::Arm { delay_ms: 5_999 }
        );
    }

    #[test]
    fn a_clock_that_goes_backwards_arms_at_most_one_interval() {
        let set = three();
        let mut book = UsageBook::new(10 * SECOND);
        evaluate(&mut book, &set, "u1", T0);
        assert_eq!(book.poll(T0 - 60 * SECOND), Poll::Arm { delay_ms: 10_000 });
    }

    #[test]
    fn an_interval_of_zero_counts_nothing_and_never_reports() {
        let set = three();
        let mut book = UsageBook::new(0);
        evaluate(&mut book, &set, "u1", T0);
        assert_eq!(book.pending_series(), 0);
        assert_eq!(book.poll(T0 + 86_400 * SECOND), Poll::Idle);
        // Turned off with counts pending: dropped, not sent.
        let mut book = UsageBook::new(10 * SECOND);
        evaluate(&mut book, &set, "u1", T0);
        book.set_interval_ms(0);
        assert_eq!(book.poll(T0 + 20 * SECOND), Poll::Idle);
        assert_eq!(book.pending_series(), 0);
    }

    #[test]
    fn environments_are_batched_separately() {
        let set = three();
        let mut book = UsageBook::new(10 * SECOND);
        let results = set.evaluate_all(&user("u1"));
        book.record(Environment::Dev, &set, &results[..1], T0);
        book.record(PROD, &set, &results, T0 + 1);
        let batches = sent(book.poll(T0 + 10 * SECOND));
        let named: Vec<_> = batches
            .iter()
            .map(|b| (b.environment, b.series, body(b)["environment"].clone()))
            .collect();
        assert_eq!(
            named,
            [
                (Environment::Dev, 1, json!("dev")),
                (PROD, 3, json!("prod"))
            ]
        );
    }

    #[test]
    fn a_replaced_set_keeps_its_counts_under_their_names() {
        let old = three();
        let mut book = UsageBook::new(10 * SECOND);
        evaluate(&mut book, &old, "u1", T0);
        // The new set has a flag before `a` (the numbers all move) and lost `b`.
        let new = set(r#"[
            {"key":"0","enabled":true,"rolloutPercentage":100},
            {"key":"a","enabled":true,"rolloutPercentage":100}]"#);
        evaluate(&mut book, &new, "u1", T0 + 2);
        let batches = sent(book.poll(T0 + 10 * SECOND));
        assert_eq!(
            body(&batches[0])["counts"],
            json!([
                {"flag": "0", "variant": "on", "count": 1, "lastEvaluatedAt": T0 + 2},
                {"flag": "a", "variant": "on", "count": 2, "lastEvaluatedAt": T0 + 2},
                {"flag": "b", "variant": "off", "count": 1, "lastEvaluatedAt": T0},
                {"flag": "c", "variant": "x", "count": 1, "lastEvaluatedAt": T0},
            ])
        );
    }

    fn many(flags: usize) -> Rc<CompiledFlagSet> {
        let flags: Vec<String> = (0..flags)
            .map(|i| format!(r#"{{"key":"f{i:05}","enabled":true,"rolloutPercentage":100}}"#))
            .collect();
        set(&format!("[{}]", flags.join(",")))
    }

    #[test]
    fn reaching_the_flush_size_sends_before_the_interval() {
        let set = many(FLUSH_SERIES);
        let mut book = UsageBook::new(10 * SECOND);
        let results = set.evaluate_all(&user("u1"));
        book.record(PROD, &set, &results[..FLUSH_SERIES - 1], T0);
        assert_eq!(book.poll(T0), Poll::Arm { delay_ms: 10_000 });
        book.record(PROD, &set, &results, T0 + 1);
        let batches = sent(book.poll(T0 + 1));
        assert_eq!(
            batches.iter().map(|b| b.series).sum::<usize>(),
            FLUSH_SERIES
        );
        assert_eq!(book.pending_series(), 0);
    }

    #[test]
    fn past_the_bound_only_pending_series_count_and_the_rest_is_noted_as_dropped() {
        let old = many(MAX_SERIES - 1);
        let mut book = UsageBook::new(10 * SECOND);
        let results = old.evaluate_all(&user("u1"));
        book.record(PROD, &old, &results, T0);
        // A new set: the old counts are moved under their names, leaving room for one series.
        let new = three();
        evaluate(&mut book, &new, "u1", T0 + 1);
        evaluate(&mut book, &new, "u1", T0 + 2);
        assert_eq!(book.pending_series(), MAX_SERIES);
        // (`a` of the new set took the last place; `b` and `c` were dropped twice each.)
        let batches = sent(book.poll(T0 + 10 * SECOND));
        assert_eq!(batches[0].dropped, 4);
        let counted: Vec<Value> = batches
            .iter()
            .flat_map(|b| body(b)["counts"].as_array().cloned().unwrap_or_default())
            .collect();
        assert_eq!(counted.len(), MAX_SERIES);
        assert_eq!(
            counted[0],
            json!({"flag": "a", "variant": "on", "count": 2, "lastEvaluatedAt": T0 + 2})
        );
        assert!(counted.iter().all(|c| c["flag"] != "b" && c["flag"] != "c"));
    }

    #[test]
    fn only_dropped_results_still_report_the_drop_without_a_body() {
        let mut pending = Pending {
            dropped: 3,
            ..Pending::default()
        };
        let batches = pending.take(PROD);
        assert_eq!(
            batches,
            [Batch {
                environment: PROD,
                body: Vec::new(),
                series: 0,
                dropped: 3
            }]
        );
    }

    #[test]
    fn bodies_are_split_at_the_byte_limit_and_every_entry_is_in_one() {
        let mut named = BTreeMap::new();
        for i in 0..50 {
            let cell = Cell {
                count: i + 1,
                last_ms: T0,
            };
            named.insert((format!("flag-{i:02}"), "on".to_owned()), cell);
        }
        let whole = write_bodies(PROD, &named, MAX_BODY_BYTES);
        assert_eq!(whole.len(), 1);
        let limit = 1_000;
        let parts = write_bodies(PROD, &named, limit);
        assert!(parts.len() > 1);
        let mut entries = Vec::new();
        for part in &parts {
            assert!(part.body.len() <= limit, "{}", part.body.len());
            let value = body(part);
            assert_eq!(value["environment"], json!("prod"));
            let counts = value["counts"].as_array().cloned().unwrap_or_default();
            assert_eq!(counts.len(), part.series);
            entries.extend(counts);
        }
        assert_eq!(
            Value::Array(entries),
            body(&whole[0])["counts"],
            "the parts hold the whole"
        );
    }

    #[test]
    fn the_longest_names_fit_the_origins_limits() {
        // 128-character keys, 64-character variant names, huge counts: 10,000 series in bodies of
        // at most 1 MiB each.
        let mut named = BTreeMap::new();
        for i in 0..MAX_SERIES {
            let cell = Cell {
                count: u64::MAX,
                last_ms: u64::MAX,
            };
            named.insert((format!("{i:0>128}"), "v".repeat(64)), cell);
        }
        let parts = write_bodies(PROD, &named, MAX_BODY_BYTES);
        assert!(parts.iter().all(|p| p.body.len() <= MAX_BODY_BYTES));
        assert_eq!(parts.iter().map(|p| p.series).sum::<usize>(), MAX_SERIES);
    }
}
