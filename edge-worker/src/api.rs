//! The HTTP surface of the worker, without the Workers runtime: which route a request is, the error
//! type every route returns and the evaluation body. Kept pure so that the origin's behaviour
//! (status codes, byte-exact bodies) is pinned by host tests as well as by the workerd ones. What
//! the two must say alike (paths, limit, CORS headers, error texts, the content-type rule) is the
//! shared contract's (`http_contract`), not written here.

use evaluator::ofrep::{self, OfrepError};
use evaluator::{CompiledFlagSet, Environment, EvaluateRequest, EvaluateResponse, FlagResult};
use http_contract::{conditional, content_type, error, path, MAX_BODY_BYTES};
use serde::Serialize;

use crate::cache::SnapshotCache;
use crate::config::ConfigError;

/// How much of an oversized body is read and dropped before answering 413, so that a client's
/// keep-alive connection stays in a usable state; past this the body is not read at all.
pub const DRAIN_LIMIT_BYTES: usize = 16 * MAX_BODY_BYTES;

/// The path of the origin's pushes (`Route::EdgePush`).
pub const EDGE_PUSH: &str = "/api/edge/push";
/// The path of the hub's status (`Route::HubStatus`).
pub const HUB_STATUS: &str = "/api/edge/hub";

/// What a request asks for, decided from its method and path alone.
#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Evaluate,
    /// `POST /ofrep/v1/evaluate/flags/{key}`: the key as the path holds it (still percent-encoded,
    /// as the origin repeats it).
    OfrepFlag {
        key: String,
    },
    /// `POST /ofrep/v1/evaluate/flags`.
    OfrepFlags,
    Health,
    /// `POST /api/edge/push?environment=`: the origin pushes a new snapshot to the hub
    /// (`x-edge-token`).
    EdgePush,
    /// `GET /api/edge/hub?environment=`: the hub's version and counters (`x-edge-token`).
    HubStatus,
    /// A CORS preflight (`OPTIONS` on any path the worker serves).
    Preflight,
    NotFound,
    /// The path exists but not with this method; `allow` lists the methods that do.
    MethodNotAllowed {
        allow: &'static str,
    },
}

pub fn route(method: &str, path: &str) -> Route {
    let key = path
        .strip_prefix(path::OFREP_FLAG_PREFIX)
        .filter(|key| !key.is_empty() && !key.contains('/'));
    let allow = match (path, key) {
        (path::EVALUATE | path::OFREP_FLAGS | EDGE_PUSH, _) | (_, Some(_)) => "POST",
        (path::HEALTH | HUB_STATUS, _) => "GET",
        _ => return Route::NotFound,
    };
    match (method, allow) {
        ("OPTIONS", _) => Route::Preflight,
        ("POST", "POST") => match key {
            Some(key) => Route::OfrepFlag { key: key.into() },
            None if path == path::OFREP_FLAGS => Route::OfrepFlags,
            None if path == EDGE_PUSH => Route::EdgePush,
            None => Route::Evaluate,
        },
        // HEAD is answered like GET by the Workers runtime's own conventions (and axum's).
        ("GET" | "HEAD", "GET") if path == HUB_STATUS => Route::HubStatus,
        ("GET" | "HEAD", "GET") => Route::Health,
        _ => Route::MethodNotAllowed { allow },
    }
}

/// The value of the query parameter `name` in `url` (the first), not percent-decoded: the worker's
/// own parameters (`environment`, `have`) are plain tokens. Read by hand rather than with the
/// `url` crate, whose IDNA tables would add about 100 KB to the wasm.
pub fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(query, _)| query);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// An error answered as `{"error": message}` with its status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    message: String,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
}

impl ApiError {
    /// 400, with the evaluator's message naming the field.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, message)
    }

    pub fn unsupported_media_type() -> Self {
        Self::new(415, content_type::NOT_JSON)
    }

    pub fn payload_too_large() -> Self {
        Self::new(413, error::BODY_TOO_LARGE)
    }

    pub fn not_found() -> Self {
        Self::new(404, error::NO_SUCH_ENDPOINT)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(405, error::METHOD_NOT_ALLOWED)
    }

    /// 503: a cold isolate that could not get a snapshot from the origin.
    pub fn snapshot_unavailable() -> Self {
        Self::new(
            503,
            "flag snapshot unavailable: the origin could not be reached",
        )
    }

    /// 503 from `GET /health` when the worker's vars are wrong. The message names the variable; it
    /// never holds the token, which is only checked for presence.
    pub fn misconfigured(err: &ConfigError) -> Self {
        Self::new(503, format!("configuration: {err}"))
    }

    /// 500: the message never carries internals; they go to the log.
    pub fn internal() -> Self {
        Self::new(500, error::INTERNAL)
    }

    pub fn new(status: u16, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn status(&self) -> u16 {
        self.status
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// The JSON body, serialized the way the origin does (serde_json, compact).
    pub fn body(&self) -> String {
        // Serializing a struct of one &str cannot fail; the fallback keeps this total anyway (the
        // 500's text has nothing to escape).
        serde_json::to_string(&ErrorBody {
            error: &self.message,
        })
        .unwrap_or_else(|_| format!(r#"{{"error":"{}"}}"#, error::INTERNAL))
    }
}

/// 415 unless the request declares its body as JSON, by the contract's rule (checked first, as on
/// the origin: before the size and the body). `content_type` is the header as `fetch` gives it: several
/// headers joined by `", "`.
pub fn require_json(content_type: Option<&str>) -> Result<(), ApiError> {
    match content_type {
        Some(value) if content_type::declares_json(value.as_bytes()) => Ok(()),
        _ => Err(ApiError::unsupported_media_type()),
    }
}

/// Checks the size, then parses with the evaluator's one request parser (shared with the origin so
/// that a 400's message is the same byte for byte).
pub fn parse_evaluate(body: &[u8]) -> Result<EvaluateRequest, ApiError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large());
    }
    EvaluateRequest::from_json(body).map_err(|err| ApiError::bad_request(err.to_string()))
}

/// True when a declared `Content-Length` is over `limit` bytes.
pub fn declared_length_exceeds(content_length: Option<&str>, limit: usize) -> bool {
    declared_length(content_length).is_some_and(|length| length > limit as u64)
}

/// True when a `Content-Length` is declared, readable, and at most `limit` bytes.
pub fn declared_length_within(content_length: Option<&str>, limit: usize) -> bool {
    declared_length(content_length).is_some_and(|length| length <= limit as u64)
}

fn declared_length(content_length: Option<&str>) -> Option<u64> {
    content_length.and_then(|value| value.trim().parse::<u64>().ok())
}

/// The 200 body of `POST /api/evaluate` for a parsed request and the environment's compiled set;
/// `count` sees the results first (usage counting). Bytes as the writer makes them, for the
/// response as they are: not checked again as UTF-8.
pub fn evaluate_body(
    set: &CompiledFlagSet,
    request: &EvaluateRequest,
    count: impl FnOnce(&[FlagResult<'_>]),
) -> Vec<u8> {
    let results = match &request.flags {
        Some(keys) => set.evaluate_keys(&request.user, keys),
        None => set.evaluate_all(&request.user),
    };
    count(&results);
    // The origin writes the same bytes with the same writer.
    EvaluateResponse { results }.to_json()
}

/// Why an OFREP request failed: an error of the HTTP API (answered as `GENERAL` with its status
/// and message, as the origin does) or of the request itself (its own code and status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OfrepFailure {
    Api(ApiError),
    Ofrep(OfrepError),
}

impl From<ApiError> for OfrepFailure {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<OfrepError> for OfrepFailure {
    fn from(err: OfrepError) -> Self {
        Self::Ofrep(err)
    }
}

impl OfrepFailure {
    /// Status and body: the single route's error names `key`, the bulk route's does not.
    pub fn answer(&self, key: Option<&str>) -> (u16, Vec<u8>) {
        let (status, general);
        let error = match self {
            Self::Ofrep(error) => {
                status = error.status();
                error
            }
            Self::Api(api) => {
                status = api.status();
                general = OfrepError::general(api.message());
                &general
            }
        };
        let body = match key {
            Some(key) => ofrep::error_body(key, error),
            None => ofrep::bulk_error_body(error),
        };
        (status, body)
    }
}

/// The environment of an OFREP request at the edge: `x-pennon-environment`, else `prod` (the edge
/// reads no token, so a token's own environment cannot choose it; name it with the header).
pub fn ofrep_environment(header: Option<&str>) -> Result<Environment, OfrepFailure> {
    Ok(ofrep::environment(header.map(str::as_bytes))?.unwrap_or(Environment::Prod))
}

/// Checks the size, then reads the context with the evaluator's OFREP reader (the origin's).
pub fn parse_ofrep(body: &[u8]) -> Result<evaluator::User, OfrepFailure> {
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large().into());
    }
    Ok(ofrep::read_context(body)?)
}

/// The 200 body of `POST /ofrep/v1/evaluate/flags/{key}`, or its 404; `count` sees the result.
pub fn ofrep_flag_body(
    set: &CompiledFlagSet,
    environment: Environment,
    key: &str,
    user: &evaluator::User,
    count: impl FnOnce(&[FlagResult<'_>]),
) -> Result<Vec<u8>, OfrepFailure> {
    let result = set
        .evaluate_flag(key, user)
        .ok_or_else(|| OfrepError::flag_not_found(key, environment))?;
    count(core::slice::from_ref(&result));
    Ok(ofrep::flag_body(&result, environment))
}

/// The bulk answer: 304 with the ETag while `if_none_match` holds it, else 200 with it.
#[derive(Debug, PartialEq, Eq)]
pub enum BulkAnswer {
    NotModified { etag: String },
    Flags { etag: String, body: Vec<u8> },
}

/// `POST /ofrep/v1/evaluate/flags` from a snapshot at `revision` (the ETag of the origin for the
/// same environment, revision and body). No `eventStreams`: the edge has no change stream; its
/// clients poll with `If-None-Match`. `count` sees the results (a 304 evaluates nothing and counts
/// nothing, as on the origin).
pub fn ofrep_bulk(
    set: &CompiledFlagSet,
    environment: Environment,
    revision: u64,
    request_body: &[u8],
    user: &evaluator::User,
    if_none_match: Option<&str>,
    count: impl FnOnce(&[FlagResult<'_>]),
) -> BulkAnswer {
    let etag = ofrep::bulk_etag(environment, revision, request_body);
    if if_none_match.is_some_and(|value| conditional::none_match_holds(value, &etag)) {
        return BulkAnswer::NotModified { etag };
    }
    let results = set.evaluate_all(user);
    count(&results);
    BulkAnswer::Flags {
        etag,
        body: ofrep::bulk_body(&results, environment, None),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    status: &'static str,
    /// Without a hub: the TTL after which a request revalidates with the origin.
    #[serde(skip_serializing_if = "Option::is_none")]
    ttl_seconds: Option<u64>,
    /// With a hub: how this isolate learns of changes.
    #[serde(skip_serializing_if = "Option::is_none")]
    hub: Option<HubHealth>,
    snapshots: Vec<SnapshotHealth>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct HubHealth {
    check_ms: u64,
    pointer_max_age_seconds: u64,
    /// How the hub invalidates the pointers: `"local"` (the Cache API's delete, its own
    /// location's), `"tag"` (and Cloudflare's purge by tag, every location's), `"off"`.
    pointer_purge: &'static str,
    /// This isolate's refresh leases (`crate::pointer`), since it started.
    leases: Leases,
}

/// This isolate's refresh leases, all environments together: how many it took (written before it
/// asked the hub) and how many of its checks found another's live lease and asked nobody.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Leases {
    pub taken: u64,
    pub deferred: u64,
}

/// How the snapshots of this isolate are kept fresh, for `GET /health`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refresh {
    /// No hub: revalidated with the origin after `ttl_seconds`.
    Ttl { ttl_seconds: u64 },
    /// The hub, checked every `check_ms` through the location's pointer.
    Hub {
        check_ms: u64,
        pointer_max_age_seconds: u64,
        purge_by_tag: bool,
        leases: Leases,
    },
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SnapshotHealth {
    environment: &'static str,
    revision: u64,
    flags: usize,
    /// Seconds since the origin (or the hub) last confirmed (or failed to confirm) it.
    checked_seconds_ago: u64,
    stale: bool,
}

/// The body of `GET /health`. The edge always answers 200: with no snapshot it can still fetch one
/// on the next evaluation, and a snapshot it holds keeps serving when the origin is away.
/// `ttlSeconds` without a hub, as before the hub; `hub` in its place with one (the TTL is then
/// unused).
pub fn health_body(
    cache: &SnapshotCache<CompiledFlagSet>,
    now_ms: u64,
    refresh: Refresh,
) -> String {
    let (ttl_seconds, hub) = match refresh {
        Refresh::Ttl { ttl_seconds } => (Some(ttl_seconds), None),
        Refresh::Hub {
            check_ms,
            pointer_max_age_seconds,
            purge_by_tag,
            leases,
        } => {
            let pointer_purge = match (pointer_max_age_seconds, purge_by_tag) {
                (0, _) => "off",
                (_, false) => "local",
                (_, true) => "tag",
            };
            let hub = HubHealth {
                check_ms,
                pointer_max_age_seconds,
                pointer_purge,
                leases,
            };
            (None, Some(hub))
        }
    };
    let health = Health {
        status: "ok",
        ttl_seconds,
        hub,
        snapshots: cache
            .entries()
            .map(|(environment, cached)| SnapshotHealth {
                environment: environment.as_str(),
                revision: cached.revision,
                flags: cached.value.len(),
                checked_seconds_ago: now_ms.saturating_sub(cached.checked_at_ms) / 1000,
                stale: cached.stale,
            })
            .collect(),
    };
    serde_json::to_string(&health).unwrap_or_else(|_| ApiError::internal().body())
}

#[cfg(test)]
mod tests {
    use super::*;
    use evaluator::{Flag, Snapshot};

    #[test]
    fn routes_follow_method_and_path() {
        assert_eq!(route("POST", "/api/evaluate"), Route::Evaluate);
        assert_eq!(route("GET", "/health"), Route::Health);
        assert_eq!(route("OPTIONS", "/api/evaluate"), Route::Preflight);
        assert_eq!(
            route("GET", "/api/evaluate"),
            Route::MethodNotAllowed { allow: "POST" }
        );
        assert_eq!(
            route("DELETE", "/health"),
            Route::MethodNotAllowed { allow: "GET" }
        );
        assert_eq!(route("POST", "/api/evaluate/"), Route::NotFound);
        assert_eq!(route("POST", "/ofrep/v1/evaluate/flags"), Route::OfrepFlags);
        assert_eq!(
            route("POST", "/ofrep/v1/evaluate/flags/a.b"),
            Route::OfrepFlag { key: "a.b".into() }
        );
        assert_eq!(
            route("OPTIONS", "/ofrep/v1/evaluate/flags/a"),
            Route::Preflight
        );
        assert_eq!(
            route("GET", "/ofrep/v1/evaluate/flags"),
            Route::MethodNotAllowed { allow: "POST" }
        );
        assert_eq!(route("POST", "/ofrep/v1/evaluate/flags/"), Route::NotFound);
        assert_eq!(
            route("POST", "/ofrep/v1/evaluate/flags/a/b"),
            Route::NotFound
        );
        assert_eq!(route("OPTIONS", "/nope"), Route::NotFound);
        assert_eq!(route("GET", "/api/admin/flags"), Route::NotFound);
        assert_eq!(route("POST", "/api/edge/push"), Route::EdgePush);
        assert_eq!(route("GET", "/api/edge/hub"), Route::HubStatus);
        assert_eq!(
            route("GET", "/api/edge/push"),
            Route::MethodNotAllowed { allow: "POST" }
        );
    }

    #[test]
    fn query_parameters_are_read_from_the_url() {
        let url = "https://hub/snapshot?environment=prod&have=12#x";
        assert_eq!(query_param(url, "environment"), Some("prod"));
        assert_eq!(query_param(url, "have"), Some("12"));
        assert_eq!(query_param(url, "nope"), None);
        assert_eq!(query_param("https://hub/snapshot", "have"), None);
        assert_eq!(query_param("/x?flag&a=1", "flag"), Some(""));
        assert_eq!(query_param("/x?a=1&a=2", "a"), Some("1"));
    }

    #[test]
    fn error_bodies_are_compact_json_with_escaping() {
        assert_eq!(
            ApiError::not_found().body(),
            r#"{"error":"no such endpoint"}"#
        );
        let err = ApiError::bad_request("user.id: must be \"non-empty\"");
        assert_eq!(err.status(), 400);
        assert_eq!(err.body(), r#"{"error":"user.id: must be \"non-empty\""}"#);
        assert_eq!(ApiError::internal().status(), 500);
        assert_eq!(ApiError::snapshot_unavailable().status(), 503);
    }

    #[test]
    fn a_misconfigured_worker_says_which_variable_on_health() {
        let err = crate::config::Config::from_lookup(|name| {
            (name == "ORIGIN_URL").then(|| String::from("flags.example.com"))
        })
        .expect_err("no scheme");
        let answer = ApiError::misconfigured(&err);
        assert_eq!(answer.status(), 503);
        assert_eq!(
            answer.body(),
            r#"{"error":"configuration: ORIGIN_URL must be an http(s) URL such as https://flags.example.com, not \"flags.example.com\""}"#
        );
    }

    #[test]
    fn only_bodies_declared_as_json_are_read() {
        assert_eq!(require_json(Some("application/json")), Ok(()));
        assert_eq!(
            require_json(Some("APPLICATION/JSON; charset=utf-8")),
            Ok(())
        );
        for refused in [
            None,
            Some("text/plain;charset=UTF-8"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let err = require_json(refused).expect_err("refused");
            assert_eq!(
                (err.status(), err.body().as_str()),
                (415, r#"{"error":"content-type: must be application/json"}"#)
            );
        }
    }

    #[test]
    fn bodies_over_one_mib_are_refused_with_413() {
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(
            parse_evaluate(&big).map(|_| ()),
            Err(ApiError::payload_too_large())
        );
        assert!(declared_length_exceeds(Some("1048577"), MAX_BODY_BYTES));
        assert!(!declared_length_exceeds(Some(" 1048576 "), MAX_BODY_BYTES));
        assert!(!declared_length_exceeds(Some("abc"), MAX_BODY_BYTES));
        assert!(!declared_length_exceeds(None, MAX_BODY_BYTES));
        assert!(declared_length_within(Some(" 1048576 "), MAX_BODY_BYTES));
        assert!(declared_length_within(Some("0"), MAX_BODY_BYTES));
        assert!(!declared_length_within(Some("1048577"), MAX_BODY_BYTES));
        assert!(!declared_length_within(Some("abc"), MAX_BODY_BYTES));
        assert!(!declared_length_within(None, MAX_BODY_BYTES));
    }

    #[test]
    fn bad_bodies_carry_the_evaluators_message() {
        let cases: [&[u8]; 3] = [
            b"{not json",
            br#"{"environment":"prod","user":{}}"#,
            br#"{"environment":"moon","user":{"id":"u"}}"#,
        ];
        for body in cases {
            let expected = EvaluateRequest::from_json(body)
                .map(|_| ())
                .expect_err("invalid on purpose")
                .to_string();
            let err = parse_evaluate(body).map(|_| ()).expect_err("refused");
            assert_eq!((err.status(), err.message()), (400, expected.as_str()));
        }
    }

    #[test]
    fn health_lists_the_snapshots_held() {
        let mut cache = SnapshotCache::new(10_000, 3_000);
        let ttl = Refresh::Ttl { ttl_seconds: 10 };
        assert_eq!(
            health_body(&cache, 0, ttl),
            r#"{"status":"ok","ttlSeconds":10,"snapshots":[]}"#
        );
        let hub = |pointer_max_age_seconds, purge_by_tag| Refresh::Hub {
            check_ms: 250,
            pointer_max_age_seconds,
            purge_by_tag,
            leases: Leases {
                taken: 3,
                deferred: 7,
            },
        };
        assert_eq!(
            health_body(&cache, 0, hub(1, false)),
            r#"{"status":"ok","hub":{"checkMs":250,"pointerMaxAgeSeconds":1,"pointerPurge":"local","leases":{"taken":3,"deferred":7}},"snapshots":[]}"#
        );
        assert!(health_body(&cache, 0, hub(1, true)).contains(r#""pointerPurge":"tag""#));
        assert!(health_body(&cache, 0, hub(0, true))
            .contains(r#""pointerMaxAgeSeconds":0,"pointerPurge":"off""#));
        if let crate::cache::Plan::Lead { ticket, .. } = cache.plan(evaluator::Environment::Dev, 0)
        {
            let set = CompiledFlagSet::new(&[]).expect("empty set compiles");
            let outcome = crate::cache::Outcome::Fresh {
                value: set,
                revision: 4,
                etag: "\"4\"".into(),
                stale: false,
            };
            cache.finish(evaluator::Environment::Dev, ticket, outcome, 1_000);
        }
        assert_eq!(
            health_body(&cache, 3_500, ttl),
            r#"{"status":"ok","ttlSeconds":10,"snapshots":[{"environment":"dev","revision":4,"flags":0,"checkedSecondsAgo":2,"stale":false}]}"#
        );
    }

    #[test]
    fn evaluation_sorts_and_reports_unknown_keys() {
        let snapshot: Snapshot = serde_json::from_str(
            r#"{"environment":"prod","revision":3,"flags":[
                {"key":"b","enabled":true,"rolloutPercentage":100,"rules":[]},
                {"key":"a","enabled":false,"rolloutPercentage":100,"rules":[]}]}"#,
        )
        .expect("valid snapshot");
        let flags: Vec<Flag> = snapshot.flags;
        let set = CompiledFlagSet::new(&flags).expect("compiles");
        let all = parse_evaluate(br#"{"environment":"prod","user":{"id":"u1"}}"#).expect("valid");
        assert_eq!(
            String::from_utf8(evaluate_body(&set, &all, |_| {})).expect("UTF-8"),
            r#"{"results":[{"flagKey":"a","enabled":false,"reason":"FLAG_DISABLED","variant":"off","value":false},{"flagKey":"b","enabled":true,"reason":"ROLLOUT","variant":"on","value":true}]}"#
        );
        let named =
            parse_evaluate(br#"{"environment":"prod","user":{"id":"u1"},"flags":["zz","b"]}"#)
                .expect("valid");
        assert_eq!(
            String::from_utf8(evaluate_body(&set, &named, |_| {})).expect("UTF-8"),
            r#"{"results":[{"flagKey":"b","enabled":true,"reason":"ROLLOUT","variant":"on","value":true},{"flagKey":"zz","enabled":false,"reason":"FLAG_NOT_FOUND","variant":null,"value":null}]}"#
        );
    }

    #[test]
    fn ofrep_answers_and_errors() {
        let snapshot: Snapshot = serde_json::from_str(
            r#"{"environment":"dev","revision":3,"flags":[
                {"key":"b","enabled":true,"rolloutPercentage":100,"rules":[]}]}"#,
        )
        .expect("valid snapshot");
        let set = CompiledFlagSet::new(&snapshot.flags).expect("compiles");
        let body = br#"{"context":{"targetingKey":"u1"}}"#;
        let user = parse_ofrep(body).expect("valid");
        assert_eq!(
            String::from_utf8(ofrep_flag_body(&set, Environment::Dev, "b", &user, |_| {}).unwrap())
                .unwrap(),
            r#"{"key":"b","variant":"on","value":true,"reason":"SPLIT","metadata":{"pennonReason":"ROLLOUT"}}"#
        );
        let missing = ofrep_flag_body(&set, Environment::Dev, "zz", &user, |_| {}).unwrap_err();
        assert_eq!(
            missing.answer(Some("zz")),
            (404, br#"{"key":"zz","errorCode":"FLAG_NOT_FOUND","errorDetails":"no flag \"zz\" in dev"}"#.to_vec())
        );
        let BulkAnswer::Flags { etag, body: answer } =
            ofrep_bulk(&set, Environment::Dev, 3, body, &user, None, |_| {})
        else {
            panic!("a 304 without If-None-Match");
        };
        assert_eq!(etag, ofrep::bulk_etag(Environment::Dev, 3, body));
        assert!(answer.starts_with(br#"{"flags":[{"key":"b""#));
        assert_eq!(
            ofrep_bulk(
                &set,
                Environment::Dev,
                3,
                body,
                &user,
                Some(&etag),
                |_| panic!("a 304 counts nothing")
            ),
            BulkAnswer::NotModified { etag: etag.clone() }
        );
        let bad = parse_ofrep(b"{").unwrap_err();
        assert_eq!(bad.answer(None).0, 400);
        let too_big = parse_ofrep(&vec![b' '; MAX_BODY_BYTES + 1]).unwrap_err();
        assert_eq!(
            too_big.answer(None),
            (
                413,
                br#"{"errorCode":"GENERAL","errorDetails":"request body is larger than 1 MiB"}"#
                    .to_vec()
            )
        );
        assert_eq!(ofrep_environment(None), Ok(Environment::Prod));
        assert_eq!(ofrep_environment(Some("staging")), Ok(Environment::Staging));
        assert_eq!(
            ofrep_environment(Some("moon")).unwrap_err().answer(None).0,
            400
        );
    }
}
