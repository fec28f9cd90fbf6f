//! Keeps the isolate's snapshots in step with the origin: drives the `cache` state machine with the
//! Workers runtime's clock, `fetch`, timers and `AbortController`; with `SNAPSHOT_PUBLIC_KEYS` set,
//! verifies each new snapshot's signature (`signing`) before it is installed.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use evaluator::{CompiledFlagSet, Environment};
use futures_util::future::{select, Either};
use worker::{
    console_error, console_warn, AbortController, AbortSignal, Context, Date, Delay, Env, Fetch,
    Headers, Method, Request, RequestInit, Stub,
};

use crate::cache::{Outcome, Plan, SnapshotCache};
use crate::config::{Config, DEFAULT_TTL_SECONDS, FETCH_TIMEOUT_MS};
use crate::hub::{self, HubReply};
use crate::last_good;
use crate::pointer::{self, Check, Entry, Pointer};
use crate::pointer_cache;
use crate::signing::{self, SignatureLog};

/// How often a request waiting for another request's fetch looks at the cache again.
const WAIT_TICK_MS: u64 = 5;
/// A fetch not settled after this long is presumed lost with its request (workerd cancels the I/O
/// of a request that goes away); waiters stop waiting and the next request fetches anew.
const IN_FLIGHT_LIMIT_MS: u64 = FETCH_TIMEOUT_MS + 1_000;

thread_local! {
    // One isolate runs one thread: the cache lives as long as the isolate does.
    static CACHE: RefCell<SnapshotCache<CompiledFlagSet>> =
        RefCell::new(SnapshotCache::new(DEFAULT_TTL_SECONDS * 1000, IN_FLIGHT_LIMIT_MS));
    // Per environment: since when this isolate's checks have found a live lease, checks in a row
    // (`pointer::decide`), and its last round trip to the hub (`pointer::lease_ms`).
    static DEFERRING_SINCE: Cell<[Option<u64>; Environment::ALL.len()]> =
        const { Cell::new([None; Environment::ALL.len()]) };
    static HUB_ROUND_TRIP_MS: Cell<Option<u64>> = const { Cell::new(None) };
    // This isolate's leases, for `/health`.
    static LEASES: Cell<crate::api::Leases> = const {
        Cell::new(crate::api::Leases { taken: 0, deferred: 0 })
    };
    // What the signatures of the snapshots fetched said, for `/health`.
    static SIGNATURES: RefCell<SignatureLog> = RefCell::new(SignatureLog::default());
}

/// The compiled set a request is answered from.
pub struct Served {
    pub set: Rc<CompiledFlagSet>,
    pub revision: u64,
    /// The origin could not confirm this snapshot on the last attempt.
    pub stale: bool,
    /// The clock when it was handed out (ms since the Unix epoch), for usage counting.
    pub now_ms: u64,
}

fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// The snapshot for `environment`.
///
/// Without a hub (no `SNAPSHOT_HUB` binding): fetched or revalidated with the origin first when
/// the TTL has run out. With a hub: a warm isolate answers at once from memory and, at most every
/// `HUB_CHECK_MS`, checks for a newer version after the answer (`wait_until`): the location's
/// pointer first, the hub only when the pointer is missing or names a version that the location's
/// last good copy does not hold (`check`). A cold one waits for that check, else the location's
/// last good copy, else the origin.
/// None: this isolate never got one and neither the hub nor the origin can be reached now.
pub async fn snapshot_for(
    environment: Environment,
    config: &Config,
    env: &Env,
    ctx: &Context,
) -> Option<Served> {
    let hubs = hub::namespace(env);
    let planned_at = now_ms();
    let plan = CACHE.with_borrow_mut(|cache| {
        cache.set_ttl_ms(match hubs {
            Some(_) => config.hub_check_ms,
            None => config.ttl_ms,
        });
        cache.plan(environment, planned_at)
    });
    // workerd's clock moves only across I/O: a request served from memory reads it once.
    let now_ms = match (plan, hubs) {
        (Plan::Serve, _) => planned_at,
        (Plan::Lead { ticket, etag }, None) => {
            let outcome = fetch_snapshot(environment, config, etag.as_deref()).await;
            let now = now_ms();
            CACHE.with_borrow_mut(|cache| cache.finish(environment, ticket, outcome, now));
            now
        }
        (Plan::Lead { ticket, .. }, Some(hubs)) => {
            let stub = hub::stub(&hubs, environment);
            if CACHE.with_borrow(|cache| cache.get(environment).is_some()) {
                let config = config.clone();
                ctx.wait_until(async move {
                    let outcome = check(stub.as_ref(), environment, &config).await;
                    CACHE.with_borrow_mut(|cache| {
                        cache.finish(environment, ticket, outcome, now_ms())
                    });
                });
                planned_at
            } else {
                // Cold: the pointer and the location's copy, or the hub; else the location's last
                // good copy (Cache API) whatever its version, served stale; else the origin.
                let mut outcome = check(stub.as_ref(), environment, config).await;
                if matches!(outcome, Outcome::Failed) {
                    outcome = from_last_good(environment, config).await;
                }
                if matches!(outcome, Outcome::Failed) {
                    outcome = fetch_snapshot(environment, config, None).await;
                }
                let now = now_ms();
                CACHE.with_borrow_mut(|cache| cache.finish(environment, ticket, outcome, now));
                now
            }
        }
        (Plan::Wait { ticket }, _) => {
            wait_until_settled(environment, ticket).await;
            now_ms()
        }
    };
    CACHE.with_borrow(|cache| {
        cache.get(environment).map(|cached| Served {
            set: Rc::clone(&cached.value),
            revision: cached.revision,
            stale: cached.stale,
            now_ms,
        })
    })
}

/// Waits for another request's fetch of a cold slot by polling the cache on this request's own
/// timer, rather than awaiting the leader's future: in workerd, I/O objects (the origin's response
/// and its body) belong to the request that created them and must not be touched from another one.
async fn wait_until_settled(environment: Environment, ticket: u64) {
    for _ in 0..(IN_FLIGHT_LIMIT_MS / WAIT_TICK_MS) {
        if CACHE.with_borrow(|cache| cache.is_settled(environment, ticket)) {
            return;
        }
        Delay::from(Duration::from_millis(WAIT_TICK_MS)).await;
    }
}

/// The check of an isolate with a hub, through the location's pointer (`crate::pointer`): a
/// pointer at or below the version held costs nothing (its staleness is the hub's); a newer one
/// installs the location's last good copy when that copy is at least as new, else asks the hub;
/// no pointer (missing, expired, purged, unreadable) asks the hub, which writes it. A warm isolate
/// about to ask the hub first writes a refresh lease, and one that reads a live lease asks nobody
/// and keeps what it serves until its next check. With `POINTER_MAX_AGE_SECONDS` 0, every check
/// asks the hub.
async fn check(
    stub: Option<&Stub>,
    environment: Environment,
    config: &Config,
) -> Outcome<CompiledFlagSet> {
    if config.pointer_max_age_seconds == 0 {
        return from_hub(stub, environment, config).await;
    }
    let held = CACHE.with_borrow(|cache| cache.get(environment).map(|cached| cached.revision));
    let found = pointer_cache::read(environment).await;
    let now = now_ms();
    let slot = Environment::ALL
        .iter()
        .position(|env| *env == environment)
        .unwrap_or(0);
    let mut deferring = DEFERRING_SINCE.get();
    let check = pointer::decide(found, held, now, deferring[slot]);
    deferring[slot] = match check {
        Check::Leased => Some(deferring[slot].unwrap_or(now)),
        _ => None,
    };
    DEFERRING_SINCE.set(deferring);
    if check == Check::Leased {
        let mut leases = LEASES.get();
        leases.deferred += 1;
        LEASES.set(leases);
    }
    match check {
        Check::Current { stale: false } => Outcome::NotModified,
        // Nothing newer, but the hub could not reach the origin lately: serve, say stale.
        Check::Current { stale: true } => Outcome::Failed,
        // Another isolate is asking the hub: keep what is served as it is, staleness included.
        Check::Leased => match CACHE.with_borrow(|cache| cache.get(environment).map(|c| c.stale)) {
            Some(false) => Outcome::NotModified,
            _ => Outcome::Failed,
        },
        Check::Newer { version, stale } => {
            match from_last_good_at(environment, config, version, held, stale).await {
                Some(outcome) => outcome,
                None => {
                    let replaced = Pointer { version, stale };
                    take_lease(environment, config, held, Some(replaced)).await;
                    from_hub(stub, environment, config).await
                }
            }
        }
        Check::AskHub => {
            take_lease(environment, config, held, None).await;
            from_hub(stub, environment, config).await
        }
    }
}

/// Before a warm isolate asks the hub: the refresh lease, so that the location's other isolates
/// do not ask too (`pointer::lease_to_take`; none for a cold isolate). No compare-and-set: two
/// isolates that both read the miss before either wrote may both take it, and both ask.
async fn take_lease(
    environment: Environment,
    config: &Config,
    held: Option<u64>,
    replaced: Option<Pointer>,
) {
    let lease_ms = pointer::lease_ms(HUB_ROUND_TRIP_MS.get());
    let max_age = config.pointer_max_age_seconds;
    if let Some(lease) = pointer::lease_to_take(max_age, held, replaced, now_ms(), lease_ms) {
        let max_age = pointer::lease_max_age_seconds(lease_ms);
        pointer_cache::write(environment, Entry::Lease(lease), max_age).await;
        let mut leases = LEASES.get();
        leases.taken += 1;
        LEASES.set(leases);
    }
}

/// The location's last good copy in place of the hub's answer to a pointer at `version`: only
/// when it is at least that version and newer than `held` (checked from its header before it is
/// compiled, and again after).
async fn from_last_good_at(
    environment: Environment,
    config: &Config,
    version: u64,
    held: Option<u64>,
    stale: bool,
) -> Option<Outcome<CompiledFlagSet>> {
    let copy = last_good::recall(environment).await?;
    if !pointer::copy_will_do(copy.version?, version, held) {
        return None;
    }
    match install_from_hub(
        environment,
        config,
        &copy.body,
        copy.signature.as_deref(),
        held,
        stale,
    ) {
        Ok(outcome @ Outcome::Fresh { revision, .. }) if revision >= version => Some(outcome),
        Ok(_) => None,
        Err(reason) => {
            console_error!("pennon edge: the cached copy of {environment} is not used: {reason}");
            None
        }
    }
}

/// What the hub says of the version this isolate holds: a newer snapshot (checked as one from the
/// origin is: signature, environment, compiled), nothing newer, or a failure (logged). Never an
/// older version than the one held: a hub behind this isolate (it fell back to the origin) is
/// nothing newer. The hub's answer (its version and staleness) is written as the location's
/// pointer, after the location's copy of a newer snapshot.
async fn from_hub(
    stub: Option<&Stub>,
    environment: Environment,
    config: &Config,
) -> Outcome<CompiledFlagSet> {
    let Some(stub) = stub else {
        return Outcome::Failed;
    };
    let have = CACHE.with_borrow(|cache| cache.get(environment).map(|cached| cached.revision));
    let asked_at = now_ms();
    let reply = hub::ask(stub, environment, have).await;
    if reply.is_ok() {
        HUB_ROUND_TRIP_MS.set(Some(now_ms().saturating_sub(asked_at)));
    }
    let said = match &reply {
        Ok(HubReply::NotModified { version, stale }) => Some((*version, *stale)),
        Ok(HubReply::Snapshot { version, stale, .. }) => Some((*version, *stale)),
        Err(_) => None,
    };
    let result = match reply {
        Ok(HubReply::NotModified { stale: false, .. }) => Ok(Outcome::NotModified),
        // The hub holds nothing newer but could not reach the origin lately: serve, say stale.
        Ok(HubReply::NotModified { stale: true, .. }) => Ok(Outcome::Failed),
        Ok(HubReply::Snapshot {
            body,
            signature,
            stale,
            ..
        }) => {
            let outcome = install_from_hub(
                environment,
                config,
                &body,
                signature.as_deref(),
                have,
                stale,
            );
            if let Ok(Outcome::Fresh { revision, .. }) = &outcome {
                last_good::remember(environment, *revision, &body, signature.as_deref()).await;
            }
            outcome
        }
        Err(reason) => Err(reason),
    };
    let max_age = config.pointer_max_age_seconds;
    if let Some(said) =
        said.and_then(|(version, stale)| pointer::after_hub(max_age, version, stale))
    {
        pointer_cache::write(environment, Entry::Pointer(said), max_age).await;
    }
    result.unwrap_or_else(|reason| {
        console_error!("pennon edge: snapshot of {environment} from the hub failed: {reason}");
        Outcome::Failed
    })
}

/// A cold isolate whose hub did not answer: the location's last good copy, served stale.
async fn from_last_good(environment: Environment, config: &Config) -> Outcome<CompiledFlagSet> {
    let Some(copy) = last_good::recall(environment).await else {
        return Outcome::Failed;
    };
    let signature = copy.signature.as_deref();
    install_from_hub(environment, config, &copy.body, signature, None, true).unwrap_or_else(
        |reason| {
            console_error!("pennon edge: the cached copy of {environment} is not used: {reason}");
            Outcome::Failed
        },
    )
}

fn install_from_hub(
    environment: Environment,
    config: &Config,
    body: &[u8],
    signature: Option<&str>,
    have: Option<u64>,
    stale: bool,
) -> Result<Outcome<CompiledFlagSet>, String> {
    let verified = match &config.public_keys {
        Some(keys) => Some(verify(keys, signature, body, environment)?),
        None => None,
    };
    let compiled = crate::snapshot::compile(body, environment)?;
    if let Some(verified) = verified {
        signing::check_revision(&verified, compiled.revision)
            .map_err(|reason| refuse(environment, reason))?;
        SIGNATURES.with_borrow_mut(|log| log.verified(environment, verified));
    }
    if have.is_some_and(|have| compiled.revision <= have) {
        return Ok(Outcome::NotModified);
    }
    Ok(Outcome::Fresh {
        etag: format!("\"{}\"", compiled.revision),
        value: compiled.set,
        revision: compiled.revision,
        stale,
    })
}

/// `request` (a fetch under `controller`'s signal), aborted and given up after `FETCH_TIMEOUT_MS`.
pub(crate) async fn within_fetch_timeout<T>(
    controller: AbortController,
    request: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    let timeout = Delay::from(Duration::from_millis(FETCH_TIMEOUT_MS));
    match select(Box::pin(request), timeout).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => {
            controller.abort();
            Err(format!("no answer within {FETCH_TIMEOUT_MS} ms"))
        }
    }
}

/// A 200, 304 or failure from the origin; the reason of a failure goes to the log.
pub async fn fetch_snapshot(
    environment: Environment,
    config: &Config,
    etag: Option<&str>,
) -> Outcome<CompiledFlagSet> {
    let controller = AbortController::default();
    let request = fetch_and_compile(environment, config, etag, controller.signal());
    let result = within_fetch_timeout(controller, request).await;
    result.unwrap_or_else(|reason| {
        console_error!("pennon edge: snapshot of {environment} from the origin failed: {reason}");
        Outcome::Failed
    })
}

async fn fetch_and_compile(
    environment: Environment,
    config: &Config,
    etag: Option<&str>,
    signal: AbortSignal,
) -> Result<Outcome<CompiledFlagSet>, String> {
    let headers = Headers::new();
    headers.set("accept", "application/json").map_err(js)?;
    match &config.edge_token {
        Some(token) => headers
            .set(http_contract::header::EDGE_TOKEN, token.expose())
            .map_err(js)?,
        None => console_warn!("pennon edge: EDGE_TOKEN is not set; the origin will refuse"),
    }
    if let Some(etag) = etag {
        headers.set("if-none-match", etag).map_err(js)?;
    }
    let mut init = RequestInit::new();
    init.with_method(Method::Get).with_headers(headers);
    let url = config.origin.snapshot_url(environment);
    let request = Request::new_with_init(&url, &init).map_err(js)?;
    let mut response = Fetch::Request(request)
        .send_with_signal(&signal)
        .await
        .map_err(js)?;
    match response.status_code() {
        304 if etag.is_some() => Ok(Outcome::NotModified),
        200 => {
            let body = response.bytes().await.map_err(js)?;
            let verified = match &config.public_keys {
                Some(keys) => {
                    let header = response
                        .headers()
                        .get(http_contract::signature::HEADER)
                        .map_err(js)?;
                    Some(verify(keys, header.as_deref(), &body, environment)?)
                }
                None => None,
            };
            let compiled = crate::snapshot::compile(&body, environment)?;
            if let Some(verified) = verified {
                signing::check_revision(&verified, compiled.revision)
                    .map_err(|reason| refuse(environment, reason))?;
                SIGNATURES.with_borrow_mut(|log| log.verified(environment, verified));
            }
            let etag = response
                .headers()
                .get("etag")
                .map_err(js)?
                .unwrap_or_else(|| format!("\"{}\"", compiled.revision));
            Ok(Outcome::Fresh {
                value: compiled.set,
                revision: compiled.revision,
                etag,
                stale: false,
            })
        }
        status => Err(format!("the origin answered {status}")),
    }
}

fn js(err: worker::Error) -> String {
    err.to_string()
}

/// The signature check of a `200`, against the version this isolate holds and its clock. A refusal
/// keeps the snapshot held (the fetch fails), and is logged and shown in `/health`.
fn verify(
    keys: &signing::PublicKeys,
    header: Option<&str>,
    body: &[u8],
    environment: Environment,
) -> Result<signing::Verified, String> {
    let held = CACHE.with_borrow(|cache| cache.get(environment).map(|cached| cached.revision));
    signing::verify(keys, header, body, environment, held, now_ms())
        .map_err(|reason| refuse(environment, reason))
}

/// Records a refusal for `/health` and returns the text for the log.
fn refuse(environment: Environment, reason: String) -> String {
    SIGNATURES.with_borrow_mut(|log| log.refused(environment, reason.clone(), now_ms()));
    format!("snapshot refused: {reason}")
}

/// `GET /health`: what this isolate holds, per environment, and how it is kept fresh.
pub fn health_body(refresh: crate::api::Refresh) -> String {
    let refresh = match refresh {
        crate::api::Refresh::Hub {
            check_ms,
            pointer_max_age_seconds,
            purge_by_tag,
            ..
        } => crate::api::Refresh::Hub {
            check_ms,
            pointer_max_age_seconds,
            purge_by_tag,
            leases: LEASES.get(),
        },
        ttl => ttl,
    };
    let now = now_ms();
    let body = CACHE.with_borrow(|cache| crate::api::health_body(cache, now, refresh));
    SIGNATURES.with_borrow(|log| log.add_to_health(body, now))
}
