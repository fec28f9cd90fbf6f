//! The hub of an environment: a Durable Object (`SnapshotHub`, bound as `SNAPSHOT_HUB`, one object
//! per environment, named after it) that holds the environment's latest snapshot, its exact bytes
//! and signature, in memory and in its storage. The origin pushes each change to it
//! (`POST /api/edge/push`, forwarded here); its alarm revalidates against the origin every
//! `HUB_REVALIDATE_SECONDS`; isolates ask it for a newer version (`sync.rs`), so one poller per
//! environment reaches the origin instead of one per isolate. The decisions are `hub_state`'s
//! (pure, host-tested); this is the I/O: storage, the alarm, the origin's fetch, the routes.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use evaluator::Environment;
use futures_util::future::{select, Either};
use serde::{Deserialize, Serialize};
use worker::{
    console_error, console_warn, durable_object, AbortController, Date, Delay, DurableObject, Env,
    Fetch, Headers, Method, ObjectNamespace, Request, RequestInit, Response, ResponseBuilder,
    State, Stub,
};

use crate::api::{query_param, ApiError};
use crate::config::{Config, FETCH_TIMEOUT_MS};
use crate::hub_state::{self, Answer, Held, HubState, Offered, Source};
use crate::pointer;
use crate::pointer_cache::{LocalDelete, PointerPurge, TagPurge};

/// The binding of the hubs' namespace; without it the worker keeps its TTL behaviour.
pub const BINDING: &str = "SNAPSHOT_HUB";
/// Header of the hub's answers: `fresh`, or `stale` while the origin cannot be reached.
const FRESHNESS: &str = http_contract::header::SNAPSHOT;
/// Header of the hub's answers: the version it holds.
const VERSION: &str = http_contract::header::REVISION;
/// The largest snapshot pushed that is read.
const MAX_PUSH_BYTES: usize = 32 * 1024 * 1024;
/// Storage values are limited in size (128 KiB on the key-value API): a body is stored in chunks.
const CHUNK_BYTES: usize = 100 * 1024;

fn now_ms() -> u64 {
    Date::now().as_millis()
}

/// What is stored beside the body's chunks.
#[derive(Serialize, Deserialize)]
struct Meta {
    environment: String,
    version: u64,
    signature: Option<String>,
    chunks: usize,
}

#[durable_object(alarm)]
pub struct SnapshotHub {
    state: State,
    env: Env,
    hub: RefCell<HubState>,
    environment: Cell<Option<Environment>>,
    /// The storage was read (once per instance).
    restored: Cell<bool>,
}

impl std::fmt::Debug for SnapshotHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnapshotHub")
            .field("environment", &self.environment.get())
            .field("hub", &self.hub)
            .finish_non_exhaustive()
    }
}

impl DurableObject for SnapshotHub {
    fn new(state: State, env: Env) -> Self {
        Self {
            state,
            env,
            hub: RefCell::new(HubState::default()),
            environment: Cell::new(None),
            restored: Cell::new(false),
        }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let url = req.inner().url();
        let query = |name: &str| query_param(&url, name);
        let Some(environment) = query("environment").and_then(|e| e.parse().ok()) else {
            return hub_error("environment: missing or invalid", 400);
        };
        let config = match self.config() {
            Ok(config) => config,
            Err(err) => return hub_error(err.to_string(), 503),
        };
        self.restore(environment, &config).await;
        match (req.method(), req.path().as_str()) {
            (Method::Get, "/snapshot") => {
                if self.hub.borrow().held().is_none() {
                    // A hub that holds nothing (its first request) loads from the origin now.
                    self.revalidate(environment, &config).await;
                }
                let have = query("have").and_then(|have| have.parse().ok());
                self.answer(have)
            }
            (Method::Post, "/push") => {
                let signature = req.headers().get(http_contract::signature::HEADER)?;
                let body = req.bytes().await?;
                self.push(environment, &config, body, signature).await
            }
            (Method::Get, "/status") => {
                let hub = self.hub.borrow();
                let status = HubStatus {
                    environment: environment.as_str(),
                    version: hub.version(),
                    stale: hub.stale(),
                    now_ms: now_ms(),
                    counts: &hub.counts,
                };
                Response::from_json(&status)
            }
            _ => hub_error("no such endpoint", 404),
        }
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let config = match self.config() {
            Ok(config) => config,
            Err(err) => {
                console_error!("pennon hub: configuration: {err}");
                return Response::empty();
            }
        };
        let stored = get_text(&self.state.storage(), "environment").await;
        let stored = stored.map_err(|err| console_error!("pennon hub: storage: {err}"));
        let environment = self
            .environment
            .get()
            .or_else(|| stored.ok()??.parse().ok());
        if let Some(environment) = environment {
            // The next alarm first: a revalidation that dies half-way still leaves it set.
            self.state
                .storage()
                .set_alarm(Duration::from_millis(config.hub_revalidate_ms))
                .await?;
            self.restore(environment, &config).await;
            self.revalidate(environment, &config).await;
        }
        Response::empty()
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HubStatus<'a> {
    environment: &'static str,
    version: Option<u64>,
    stale: bool,
    now_ms: u64,
    counts: &'a hub_state::Counts,
}

impl SnapshotHub {
    fn config(&self) -> Result<Config, crate::config::ConfigError> {
        Config::from_lookup(|name| crate::entry::lookup(&self.env, name))
    }

    /// Once per instance: the snapshot stored (a hub evicted from memory starts from it), and the
    /// alarm when none is set.
    async fn restore(&self, environment: Environment, config: &Config) {
        if self.restored.replace(true) {
            return;
        }
        self.environment.set(Some(environment));
        match self.read_stored(environment, config).await {
            Ok(Some(held)) => {
                self.hub.borrow_mut().offer(held, Source::Storage);
            }
            Ok(None) => {}
            Err(err) => console_warn!("pennon hub: {environment}: stored snapshot not used: {err}"),
        }
        let storage = self.state.storage();
        let scheduled = storage.get_alarm().await.ok().flatten();
        if scheduled.is_none() {
            let _ = storage.put_raw("environment", environment.as_str()).await;
            if let Err(err) = storage
                .set_alarm(Duration::from_millis(config.hub_revalidate_ms))
                .await
            {
                console_error!("pennon hub: {environment}: alarm not set: {err}");
            }
        }
    }

    async fn read_stored(
        &self,
        environment: Environment,
        config: &Config,
    ) -> Result<Option<Held>, String> {
        let storage = self.state.storage();
        let Some(meta) = get_text(&storage, "meta").await? else {
            return Ok(None);
        };
        let meta: Meta = serde_json::from_str(&meta).map_err(|e| e.to_string())?;
        let mut body = String::new();
        for i in 0..meta.chunks {
            let chunk = get_text(&storage, &format!("chunk.{i}")).await?;
            body.push_str(&chunk.ok_or_else(|| format!("chunk {i} missing"))?);
        }
        // Checked again: the keys may have changed since it was stored. Its expiry is not held
        // against it: it was verified when installed, and a snapshot held keeps serving.
        let version = hub_state::check(
            body.as_bytes(),
            meta.signature.as_deref(),
            environment,
            None,
            None,
            now_ms(),
        )?;
        if config.public_keys.is_some() && meta.signature.is_none() {
            return Err("unsigned, and SNAPSHOT_PUBLIC_KEYS is set".into());
        }
        Ok(Some(Held {
            version,
            body: body.into_bytes().into(),
            signature: meta.signature,
        }))
    }

    async fn store(&self, environment: Environment, held: &Held) -> Result<(), String> {
        let text = std::str::from_utf8(&held.body).map_err(|e| e.to_string())?;
        let chunks = hub_state::split_chunks(text, CHUNK_BYTES);
        let storage = self.state.storage();
        for (i, chunk) in chunks.iter().enumerate() {
            storage
                .put_raw(&format!("chunk.{i}"), *chunk)
                .await
                .map_err(|e| e.to_string())?;
        }
        let meta = Meta {
            environment: environment.as_str().to_owned(),
            version: held.version,
            signature: held.signature.clone(),
            chunks: chunks.len(),
        };
        let meta = serde_json::to_string(&meta).map_err(|e| e.to_string())?;
        storage
            .put_raw("meta", meta.as_str())
            .await
            .map_err(|e| e.to_string())
    }

    /// Checks and offers a snapshot; stores it when installed.
    async fn install(
        &self,
        environment: Environment,
        config: &Config,
        body: Vec<u8>,
        signature: Option<String>,
        source: Source,
    ) -> Result<(Offered, u64), String> {
        let held_version = self.hub.borrow().version();
        let version = hub_state::check(
            &body,
            signature.as_deref(),
            environment,
            held_version,
            config.public_keys.as_ref(),
            now_ms(),
        )?;
        let held = Held {
            version,
            body: body.into(),
            signature,
        };
        let offered = self.hub.borrow_mut().offer(held.clone(), source);
        if offered == Offered::Installed {
            if let Err(err) = self.store(environment, &held).await {
                console_error!("pennon hub: {environment}: version {version} not stored: {err}");
            }
        }
        Ok((offered, version))
    }

    async fn push(
        &self,
        environment: Environment,
        config: &Config,
        body: Vec<u8>,
        signature: Option<String>,
    ) -> worker::Result<Response> {
        let before = self.seen();
        let installed = self
            .install(environment, config, body, signature, Source::Push)
            .await;
        self.invalidate_if_changed(environment, config, before)
            .await;
        match installed {
            Ok((offered, version)) => Response::from_json(&PushAnswer {
                installed: offered == Offered::Installed,
                version,
                held: self.hub.borrow().version(),
            }),
            Err(reason) => {
                self.hub.borrow_mut().push_refused();
                console_error!("pennon hub: {environment}: push refused: {reason}");
                hub_error(reason, 422)
            }
        }
    }

    /// What the isolates learn of the hub: the version it holds and whether it is stale.
    fn seen(&self) -> (Option<u64>, bool) {
        let hub = self.hub.borrow();
        (hub.version(), hub.stale())
    }

    /// When what the isolates learn of the hub changed since `before`, invalidates the pointers
    /// (`crate::pointer`): at once in the hub's own location (the Cache API's delete, a few ms),
    /// and, with `PURGE_ZONE_ID`, in every location by Cloudflare's purge by tag, in the
    /// background (`waitUntil`): the push's answer never waits for it. A failure is logged; the
    /// pointers then expire after `POINTER_MAX_AGE_SECONDS`.
    async fn invalidate_if_changed(
        &self,
        environment: Environment,
        config: &Config,
        before: (Option<u64>, bool),
    ) {
        if config.pointer_max_age_seconds == 0 || !pointer::hub_changed(before, self.seen()) {
            return;
        }
        if let Err(err) = LocalDelete.purge(environment).await {
            console_warn!("pennon hub: {environment}: pointer not deleted here: {err}");
        }
        if let Some(purge) = config.purge.clone() {
            self.state.wait_until(async move {
                if let Err(err) = TagPurge(&purge).purge(environment).await {
                    console_error!("pennon hub: {environment}: pointer purge by tag failed: {err}");
                }
            });
        }
    }

    /// Asks the origin with `If-None-Match` for the version held; a failure marks the hub stale.
    /// The pointers are invalidated when the version or the staleness changed.
    async fn revalidate(&self, environment: Environment, config: &Config) {
        let before = self.seen();
        self.revalidate_origin(environment, config).await;
        self.invalidate_if_changed(environment, config, before)
            .await;
    }

    async fn revalidate_origin(&self, environment: Environment, config: &Config) {
        let etag = self.hub.borrow().version().map(|v| format!("\"{v}\""));
        let result = match fetch_origin(environment, config, etag.as_deref()).await {
            Ok(None) => Ok(()),
            Ok(Some((body, signature))) => self
                .install(environment, config, body, signature, Source::Origin)
                .await
                .map(|(offered, version)| {
                    if let Offered::NotNewer { held } = offered {
                        if version < held {
                            console_warn!("pennon hub: {environment}: the origin is at {version}, below {held} held; versions only move forward");
                        }
                    }
                }),
            Err(err) => Err(err),
        };
        let mut hub = self.hub.borrow_mut();
        match result {
            Ok(()) => hub.origin_confirmed(),
            Err(reason) => {
                console_error!("pennon hub: {environment}: revalidation failed: {reason}");
                hub.origin_failed();
            }
        }
    }

    fn answer(&self, have: Option<u64>) -> worker::Result<Response> {
        let mut hub = self.hub.borrow_mut();
        let freshness = if hub.stale() { "stale" } else { "fresh" };
        match hub.answer(have) {
            Answer::Empty => hub_error("the hub holds no snapshot yet", 503),
            Answer::NotModified { version } => Ok(ResponseBuilder::new()
                .with_status(204)
                .with_header(VERSION, &version.to_string())?
                .with_header(FRESHNESS, freshness)?
                .empty()),
            Answer::Snapshot(held) => {
                let mut builder = ResponseBuilder::new()
                    .with_header(VERSION, &held.version.to_string())?
                    .with_header(FRESHNESS, freshness)?;
                if let Some(signature) = &held.signature {
                    builder = builder.with_header(http_contract::signature::HEADER, signature)?;
                }
                Ok(builder.fixed(held.body.to_vec()))
            }
        }
    }
}

#[derive(Serialize)]
struct PushAnswer {
    installed: bool,
    version: u64,
    held: Option<u64>,
}

/// A text value of the storage. Read raw (and written with `put_raw`): the typed `get`/`put` go
/// through serde-wasm-bindgen, which the worker otherwise does without.
async fn get_text(storage: &worker::Storage, key: &str) -> Result<Option<String>, String> {
    let promise = storage
        .as_raw()
        .get(key)
        .map_err(|err| format!("{err:?}"))?;
    let value = worker::wasm_bindgen_futures::JsFuture::from(promise)
        .await
        .map_err(|err| format!("{err:?}"))?;
    Ok(value.as_string())
}

/// The origin's snapshot: `None` for a 304, else the body and its signature header.
async fn fetch_origin(
    environment: Environment,
    config: &Config,
    etag: Option<&str>,
) -> Result<Option<(Vec<u8>, Option<String>)>, String> {
    let controller = AbortController::default();
    let signal = controller.signal();
    let request = async {
        let headers = Headers::new();
        headers.set("accept", "application/json").map_err(js)?;
        if let Some(token) = &config.edge_token {
            headers
                .set(http_contract::header::EDGE_TOKEN, token.expose())
                .map_err(js)?;
        }
        if let Some(etag) = etag {
            headers.set("if-none-match", etag).map_err(js)?;
        }
        let mut init = RequestInit::new();
        init.with_method(Method::Get).with_headers(headers);
        let request =
            Request::new_with_init(&config.origin.snapshot_url(environment), &init).map_err(js)?;
        let mut response = Fetch::Request(request)
            .send_with_signal(&signal)
            .await
            .map_err(js)?;
        match response.status_code() {
            304 if etag.is_some() => Ok(None),
            200 => {
                let signature = response
                    .headers()
                    .get(http_contract::signature::HEADER)
                    .map_err(js)?;
                Ok(Some((response.bytes().await.map_err(js)?, signature)))
            }
            status => Err(format!("the origin answered {status}")),
        }
    };
    let result = crate::sync::within_fetch_timeout(controller, request).await;
    result
}

/// An error of the hub, as the worker's `{"error": ...}` body.
fn hub_error(message: impl Into<String>, status: u16) -> worker::Result<Response> {
    let err = ApiError::new(status, message);
    ResponseBuilder::new()
        .with_status(status)
        .with_header("content-type", "application/json")
        .map(|builder| builder.fixed(err.body().into_bytes()))
}

fn js(err: worker::Error) -> String {
    err.to_string()
}

/// The hubs' namespace, when the worker has the binding (looked up on every request: cheap).
pub fn namespace(env: &Env) -> Option<ObjectNamespace> {
    env.durable_object(BINDING).ok()
}

/// The hub of `environment` (only when it is to be asked: naming it hashes the name).
pub fn stub(namespace: &ObjectNamespace, environment: Environment) -> Option<Stub> {
    namespace
        .id_from_name(environment.as_str())
        .and_then(|id| id.get_stub())
        .map_err(|err| console_error!("pennon edge: hub of {environment}: {err}"))
        .ok()
}

/// What the hub answered an isolate that holds `have`.
/// `version`: the version the hub says it holds (its `x-pennon-revision`), what an isolate writes
/// in the location's pointer.
pub enum HubReply {
    NotModified {
        version: Option<u64>,
        stale: bool,
    },
    Snapshot {
        body: Vec<u8>,
        signature: Option<String>,
        version: Option<u64>,
        stale: bool,
    },
}

/// Asks the hub (within the fetch time-out) for a version newer than `have`.
pub async fn ask(
    stub: &Stub,
    environment: Environment,
    have: Option<u64>,
) -> Result<HubReply, String> {
    let url = match have {
        Some(have) => format!("https://hub/snapshot?environment={environment}&have={have}"),
        None => format!("https://hub/snapshot?environment={environment}"),
    };
    let request = async {
        let mut response = stub.fetch_with_str(&url).await.map_err(js)?;
        let header = |name: &str| response.headers().get(name).ok().flatten();
        let stale = header(FRESHNESS).as_deref() == Some("stale");
        let version = header(VERSION).and_then(|version| version.parse().ok());
        match response.status_code() {
            204 => Ok(HubReply::NotModified { version, stale }),
            200 => {
                let signature = header(http_contract::signature::HEADER);
                let body = response.bytes().await.map_err(js)?;
                Ok(HubReply::Snapshot {
                    body,
                    signature,
                    version,
                    stale,
                })
            }
            status => Err(format!(
                "the hub answered {status}: {}",
                response.text().await.unwrap_or_default()
            )),
        }
    };
    let timeout = Delay::from(Duration::from_millis(FETCH_TIMEOUT_MS));
    let result = match select(Box::pin(request), timeout).await {
        Either::Left((result, _)) => result,
        Either::Right(((), _)) => Err(format!(
            "the hub gave no answer within {FETCH_TIMEOUT_MS} ms"
        )),
    };
    result
}

/// The worker's own routes to the hub, both behind `x-edge-token` = the worker's `EDGE_TOKEN`:
/// `POST /api/edge/push?environment=` (the origin's push, forwarded) and
/// `GET /api/edge/hub?environment=` (the hub's version and counters).
pub async fn route(mut req: Request, env: &Env, push: bool) -> Result<Response, ApiError> {
    let config = Config::from_lookup(|name| crate::entry::lookup(env, name))
        .map_err(|err| ApiError::misconfigured(&err))?;
    let offered = req
        .headers()
        .get(http_contract::header::EDGE_TOKEN)
        .map_err(internal)?;
    let allowed = match (&config.edge_token, offered.as_deref()) {
        (Some(token), Some(offered)) => token.matches(offered.trim()),
        _ => false,
    };
    if !allowed {
        return Err(ApiError::new(401, "missing or wrong x-edge-token"));
    }
    let environment: Environment = query_param(&req.inner().url(), "environment")
        .and_then(|value| value.parse().ok())
        .ok_or_else(|| ApiError::bad_request("environment: missing or invalid"))?;
    let stub = namespace(env)
        .ok_or_else(|| ApiError::new(503, format!("no hub: the worker has no {BINDING} binding")))
        .and_then(|hubs| stub(&hubs, environment).ok_or_else(ApiError::internal))?;
    let forwarded = if push {
        let declared = req.headers().get("content-length").map_err(internal)?;
        if crate::api::declared_length_exceeds(declared.as_deref(), MAX_PUSH_BYTES) {
            return Err(ApiError::payload_too_large());
        }
        let signature = req
            .headers()
            .get(http_contract::signature::HEADER)
            .map_err(internal)?;
        let body = req.bytes().await.map_err(internal)?;
        let headers = Headers::new();
        if let Some(signature) = signature {
            headers
                .set(http_contract::signature::HEADER, &signature)
                .map_err(internal)?;
        }
        let mut init = RequestInit::new();
        let bytes = worker::js_sys::Uint8Array::from(body.as_slice());
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(bytes.into()));
        let url = format!("https://hub/push?environment={environment}");
        Request::new_with_init(&url, &init).map_err(internal)?
    } else {
        Request::new(
            &format!("https://hub/status?environment={environment}"),
            Method::Get,
        )
        .map_err(internal)?
    };
    let mut answer = stub.fetch_with_request(forwarded).await.map_err(internal)?;
    let status = answer.status_code();
    let body = answer.bytes().await.map_err(internal)?;
    Ok(ResponseBuilder::new()
        .with_status(status)
        .with_header("content-type", "application/json")
        .map_err(internal)?
        .fixed(body))
}

fn internal(err: worker::Error) -> ApiError {
    console_error!("pennon edge: {err}");
    ApiError::internal()
}
