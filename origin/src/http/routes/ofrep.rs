//! OFREP, the OpenFeature Remote Evaluation Protocol: `POST /ofrep/v1/evaluate/flags/{key}` and
//! `POST /ofrep/v1/evaluate/flags`, so that any OpenFeature SDK with an OFREP provider evaluates
//! against Pennon unchanged.
//!
//! The context is read and the answers written by the evaluator's `ofrep` module, which the edge
//! worker uses too: both answer the same bytes. Here: who calls and in which environment
//! ([`OfrepCaller`]), the rate limit, the bulk answer's `ETag` / `If-None-Match`, and every error
//! in OFREP's shape (`{key, errorCode, errorDetails}`, or `{errorCode, errorDetails}` in bulk)
//! with the HTTP API's status and message (`GENERAL` for what is not the context's or the flag's).
//! Nothing of this runs on `POST /api/evaluate`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequestParts, State};
use axum::http::header::{CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use evaluator::ofrep::{self, OfrepError};
use evaluator::Environment;
use http_contract::conditional::none_match_holds;
use http_contract::path::OFREP_FLAG_PREFIX;
use tracing::Span;

use super::content_type::JsonContentType;
use super::cors;
use crate::access::{ticket, Action, Principal};
use crate::http::auth::verify_ofrep;
use crate::http::error::ApiError;
use crate::http::openapi::schemas;
use crate::http::rate_limit::{ClientAddr, RateKey, RouteClass};
use crate::http::state::AppState;
use crate::traces;

/// Who calls an OFREP route and the environment it evaluates in; built before the body is read.
#[derive(Debug)]
pub struct OfrepCaller {
    /// The token presented, verified; `None` when none was (and none is required).
    pub token: Option<Arc<Principal>>,
    pub environment: Environment,
}

impl FromRequestParts<AppState> for OfrepCaller {
    type Rejection = ApiError;

    /// 401 (a token that does not verify, or none while `REQUIRE_CLIENT_TOKEN` is on), 400 (an
    /// unknown environment, or none that a token of several environments would act in), 403 (a
    /// token outside the environment named), 429 (the evaluate class's rate limit).
    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = verify_ofrep(state, &parts.headers)?;
        let named = parts
            .headers
            .get(http_contract::header::ENVIRONMENT)
            .map(HeaderValue::as_bytes);
        let named = ofrep::environment(named).map_err(|err| ApiError::BadRequest(err.details))?;
        let environment = choose_environment(token.as_deref(), named)?;
        if state.rate_limits.is_limited(RouteClass::Evaluate) {
            let key = match &token {
                Some(token) => RateKey::Token(token.id),
                None => parts
                    .extensions
                    .get::<ClientAddr>()
                    .map_or(RateKey::Unknown, |addr| RateKey::Address(addr.0)),
            };
            state.rate_limits.check(RouteClass::Evaluate, key)?;
        }
        Ok(Self { token, environment })
    }
}

/// The environment of a request: the one named (a token must act there), else a token's only
/// environment, else `prod` (a token must act there too).
fn choose_environment(
    token: Option<&Principal>,
    named: Option<Environment>,
) -> Result<Environment, ApiError> {
    let Some(token) = token else {
        return Ok(named.unwrap_or(Environment::Prod));
    };
    if let Some(environment) = named {
        token.require_in(Action::Evaluate, environment)?;
        return Ok(environment);
    }
    token.require(Action::Evaluate)?;
    let mut acts_in = token.environments.iter();
    match (acts_in.next(), acts_in.next()) {
        (Some(only), None) => Ok(only),
        _ if token.environments.contains(Environment::Prod) => Ok(Environment::Prod),
        _ => Err(ApiError::BadRequest(format!(
            "{}: required: this token acts in {}, not prod",
            http_contract::header::ENVIRONMENT,
            token.environments
        ))),
    }
}

/// An OFREP route's failure: an error of the HTTP API (`GENERAL`, with its status, message and
/// headers) or of the request (its own code, 400 or 404).
#[derive(Debug)]
enum Failure {
    Api(ApiError),
    Ofrep(OfrepError),
}

impl From<ApiError> for Failure {
    fn from(err: ApiError) -> Self {
        Self::Api(err)
    }
}

impl From<OfrepError> for Failure {
    fn from(err: OfrepError) -> Self {
        Self::Ofrep(err)
    }
}

impl From<BytesRejection> for Failure {
    fn from(rejection: BytesRejection) -> Self {
        Self::Api(rejection.into())
    }
}

impl Failure {
    /// The answer: the single route's error body names the key (`key`), the bulk route's does not.
    fn respond(self, key: Option<&str>) -> Response {
        let (status, error, api) = match self {
            Self::Ofrep(error) => (error.status(), error, None),
            Self::Api(api) => {
                api.log();
                let error = OfrepError::general(api.to_string());
                (api.status().as_u16(), error, Some(api))
            }
        };
        let body = match key {
            Some(key) => ofrep::error_body(key, &error),
            None => ofrep::bulk_error_body(&error),
        };
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = (status, [(CONTENT_TYPE, "application/json")], body).into_response();
        if let Some(api) = api {
            api.add_headers(response.headers_mut());
        }
        response
    }
}

/// The flag key as the path holds it (percent-encoded as sent: a key is made of characters that
/// are never encoded, so any other is no key, and the 404 repeats it as it came, as the edge does).
fn key_of(uri: &Uri) -> &str {
    uri.path()
        .strip_prefix(OFREP_FLAG_PREFIX)
        .unwrap_or_default()
}

#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags/{key}",
    tag = "ofrep",
    operation_id = "ofrepEvaluateFlag",
    summary = "OFREP: decide one flag for a context",
    description = "The OpenFeature Remote Evaluation Protocol's single-flag evaluation (what server-side OFREP providers call). The context becomes the user: `targetingKey` → `id`, `email` and `country` → those fields, every other key → `attributes`. The environment: `x-pennon-environment`, else the token's only environment, else `prod`. Public with CORS (like `/api/evaluate`) unless `REQUIRE_CLIENT_TOKEN`; a token presented (`Authorization: Bearer`, `X-API-Key`, or the aliases) is verified. Every error is in OFREP's shape: `errorCode` `PARSE_ERROR`, `INVALID_CONTEXT`, `TARGETING_KEY_MISSING` (400), `FLAG_NOT_FOUND` (404), else `GENERAL` with the HTTP API's status and message.",
    security((), ("bearer" = []), ("apiKeyHeader" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(
        ("key" = String, Path, description = "The flag's key"),
        ("x-pennon-environment" = Option<schemas::Environment>, Header, description = "The environment (default: the token's only one, else `prod`)"),
    ),
    request_body(content = schemas::OfrepRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "The flag's value, variant and reason", body = schemas::OfrepSuccess),
        (status = 400, description = "`PARSE_ERROR` (not JSON, not an object), `INVALID_CONTEXT`, `TARGETING_KEY_MISSING`, or `GENERAL` (an unknown environment)", body = schemas::OfrepFlagError),
        (status = 401, description = "`GENERAL`: a token that is unknown or revoked, or none while `REQUIRE_CLIENT_TOKEN` is on", body = schemas::OfrepFlagError),
        (status = 403, description = "`GENERAL`: a token that does not act in the environment", body = schemas::OfrepFlagError),
        (status = 404, description = "`FLAG_NOT_FOUND`: no flag with this key in the environment", body = schemas::OfrepFlagError),
        (status = 408, description = "`GENERAL`: the body did not arrive in time (the connection is then closed)", body = schemas::OfrepFlagError),
        (status = 413, description = "`GENERAL`: the body is over 1 MiB", body = schemas::OfrepFlagError),
        (status = 415, description = "`GENERAL`: the body is not declared as `application/json`", body = schemas::OfrepFlagError),
        (status = 429, description = "`GENERAL`: over the rate limit (`RATE_LIMIT_EVALUATE`)", body = schemas::OfrepFlagError,
         headers(("Retry-After" = u32, description = "Whole seconds to wait"))),
        (status = 500, description = "`GENERAL`: an internal error", body = schemas::OfrepFlagError),
        (status = 503, description = "`GENERAL`: the environment's flags cannot be loaded from anywhere", body = schemas::OfrepFlagError),
    )
)]
pub async fn evaluate_flag(
    State(state): State<AppState>,
    uri: Uri,
    caller: Result<OfrepCaller, ApiError>,
    content_type: Result<JsonContentType, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let key = key_of(&uri);
    let response = match flag(&state, key, caller, content_type, body).await {
        Ok(response) => response,
        Err(failure) => failure.respond(Some(key)),
    };
    cors::with_cors(response)
}

async fn flag(
    state: &AppState,
    key: &str,
    caller: Result<OfrepCaller, ApiError>,
    content_type: Result<JsonContentType, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let caller = caller?;
    content_type?;
    let body = body?;
    let user = ofrep::read_context(&body)?;
    let set = state
        .flags
        .get(caller.environment)
        .await
        .map_err(ApiError::from)?;
    if let Some(sample) = &state.contexts {
        sample.offer(caller.environment, &user);
    }
    let Some(result) = set.compiled.evaluate_flag(key, &user) else {
        if traces::is_on() {
            traces::flags::record_not_found(&Span::current(), caller.environment, key);
        }
        return Err(OfrepError::flag_not_found(key, caller.environment).into());
    };
    if state.counting {
        set.counts.record_one(&result);
    }
    if traces::is_on() {
        traces::flags::record_flag(&Span::current(), caller.environment, &result);
    }
    let json = ofrep::flag_body(&result, caller.environment);
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}

#[utoipa::path(
    post,
    path = "/ofrep/v1/evaluate/flags",
    tag = "ofrep",
    operation_id = "ofrepEvaluateFlags",
    summary = "OFREP: decide every flag for a context",
    description = "The OpenFeature Remote Evaluation Protocol's bulk evaluation (what client-side OFREP providers call, and poll). Context, environment, access and errors as the single-flag route (errors without `key`). The answer carries an `ETag` that changes with the environment's revision and with the request body (and, when a token was presented, every 5 minutes with the stream ticket); `If-None-Match` with it is 304. `eventStreams` advertises the change stream (`GET /api/stream`) as an `endpoint` relative to the origin the provider is configured with, with a `ticket` for the token presented.",
    security((), ("bearer" = []), ("apiKeyHeader" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(
        ("x-pennon-environment" = Option<schemas::Environment>, Header, description = "The environment (default: the token's only one, else `prod`)"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of an earlier answer: 304 while it is current"),
    ),
    request_body(content = schemas::OfrepRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Every flag of the environment, sorted by key", body = schemas::OfrepBulkSuccess,
         headers(("ETag" = String, description = "`\"<revision>-<16 hex digits>\"`: the revision and a hash of the environment and the body; `-w<window>` follows when the advert carries a ticket"))),
        (status = 304, description = "`If-None-Match` holds the current `ETag`; no body",
         headers(("ETag" = String, description = "The current `ETag`"))),
        (status = 400, description = "`PARSE_ERROR`, `INVALID_CONTEXT`, `TARGETING_KEY_MISSING`, or `GENERAL` (an unknown environment)", body = schemas::OfrepBulkError),
        (status = 401, description = "`GENERAL`: a token that is unknown or revoked, or none while `REQUIRE_CLIENT_TOKEN` is on", body = schemas::OfrepBulkError),
        (status = 403, description = "`GENERAL`: a token that does not act in the environment", body = schemas::OfrepBulkError),
        (status = 408, description = "`GENERAL`: the body did not arrive in time (the connection is then closed)", body = schemas::OfrepBulkError),
        (status = 413, description = "`GENERAL`: the body is over 1 MiB", body = schemas::OfrepBulkError),
        (status = 415, description = "`GENERAL`: the body is not declared as `application/json`", body = schemas::OfrepBulkError),
        (status = 429, description = "`GENERAL`: over the rate limit (`RATE_LIMIT_EVALUATE`)", body = schemas::OfrepBulkError,
         headers(("Retry-After" = u32, description = "Whole seconds to wait"))),
        (status = 500, description = "`GENERAL`: an internal error", body = schemas::OfrepBulkError),
        (status = 503, description = "`GENERAL`: the environment's flags cannot be loaded from anywhere", body = schemas::OfrepBulkError),
    )
)]
pub async fn evaluate_flags(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Result<OfrepCaller, ApiError>,
    content_type: Result<JsonContentType, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let response = match bulk(&state, &headers, caller, content_type, body).await {
        Ok(response) => response,
        Err(failure) => failure.respond(None),
    };
    cors::with_cors(response)
}

async fn bulk(
    state: &AppState,
    headers: &HeaderMap,
    caller: Result<OfrepCaller, ApiError>,
    content_type: Result<JsonContentType, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, Failure> {
    let caller = caller?;
    content_type?;
    let body = body?;
    let user = ofrep::read_context(&body)?;
    let set = state
        .flags
        .get(caller.environment)
        .await
        .map_err(ApiError::from)?;
    if let Some(sample) = &state.contexts {
        sample.offer(caller.environment, &user);
    }
    let (streams, window) = event_streams(state, caller.environment, caller.token.as_deref());
    let mut etag = ofrep::bulk_etag(caller.environment, set.revision, &body);
    if let Some(window) = window {
        // `"7-0123456789abcdef"` → `"7-0123456789abcdef-w5933333"`.
        etag.insert_str(etag.len() - 1, &format!("-w{window}"));
    }
    let etag_header = HeaderValue::from_str(&etag).map_err(ApiError::internal)?;
    let current = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| none_match_holds(value, &etag));
    if current {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, etag_header)]).into_response());
    }
    let results = set.compiled.evaluate_all(&user);
    if state.counting {
        set.counts.record(&results);
    }
    if traces::is_on() {
        traces::flags::record_flags(&Span::current(), caller.environment, &results);
    }
    let json = ofrep::bulk_body(&results, caller.environment, Some(&streams));
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (ETAG, etag_header),
        ],
        json,
    )
        .into_response())
}

/// The bulk answer's `eventStreams` member (already JSON: an array of one OFREP `eventStream`),
/// and what it adds to the `ETag`. The change stream of `environment` as an `endpoint` with a
/// `requestUri` and no `origin`, so the provider connects to the origin it is configured with
/// (this origin does not know the address it is reached by behind a proxy); with a ticket for the
/// token presented, when one was (a browser's `EventSource` cannot send it as a header). A ticket
/// is the same string for a whole window ([`ticket::window`]), and the window is part of the
/// `ETag`: a 304 only ever confirms an advert whose ticket has five minutes or more left, and a
/// client that revalidates is handed a fresh one before its own expires. Without a token the
/// advert never changes, nor does the `ETag`.
fn event_streams(
    state: &AppState,
    environment: Environment,
    token: Option<&Principal>,
) -> (String, Option<u64>) {
    let now = super::stream::unix_now();
    let mut uri = format!("/api/stream?environment={}", environment.as_str());
    let mut window = None;
    if let Some(token) = token {
        if let Some(ticket) = state.tokens.issue_ticket(token, environment, now) {
            // A ticket is made of characters a query never needs to encode.
            uri.push_str("&ticket=");
            uri.push_str(&ticket);
            window = Some(ticket::window(now));
        }
    }
    // Written by hand to keep the protocol's order (`type` first); the URI holds only characters
    // that JSON does not escape (an environment's name, a ticket's).
    let json = format!(r#"[{{"type":"sse","endpoint":{{"requestUri":"{uri}"}}}}]"#);
    (json, window)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::{EnvironmentSet, Role, TokenId};

    fn token(role: Role, environments: &[Environment]) -> Principal {
        Principal {
            id: TokenId::Stored(uuid::Uuid::nil()),
            name: "t".into(),
            role,
            environments: environments.iter().copied().collect(),
        }
    }

    #[test]
    fn the_environment_header_is_the_one_the_evaluator_names() {
        assert_eq!(
            evaluator::ofrep::ENVIRONMENT_HEADER,
            http_contract::header::ENVIRONMENT
        );
    }

    /// Every row of ISSUE13's environment selection.
    #[test]
    fn environment_selection() {
        use Environment::{Dev, Prod, Staging};
        let choose = |token: Option<&Principal>, named| match choose_environment(token, named) {
            Ok(environment) => Ok(environment),
            Err(err) => Err((err.status().as_u16(), err.to_string())),
        };
        // No token: the header, else prod.
        assert_eq!(choose(None, None), Ok(Prod));
        assert_eq!(choose(None, Some(Dev)), Ok(Dev));
        // A token: the header when it acts there, 403 when not.
        let dev_staging = token(Role::Client, &[Dev, Staging]);
        assert_eq!(choose(Some(&dev_staging), Some(Staging)), Ok(Staging));
        assert_eq!(
            choose(Some(&dev_staging), Some(Prod)),
            Err((
                403,
                "this token cannot act in the environment prod; it acts in: dev, staging".into()
            ))
        );
        // No header: its only environment, else prod when it acts there, else 400.
        assert_eq!(
            choose(Some(&token(Role::Client, &[Staging])), None),
            Ok(Staging)
        );
        assert_eq!(
            choose(Some(&token(Role::Server, &[Dev, Prod])), None),
            Ok(Prod)
        );
        let admin = Principal {
            environments: EnvironmentSet::ALL,
            ..token(Role::Admin, &[])
        };
        assert_eq!(choose(Some(&admin), None), Ok(Prod));
        assert_eq!(
            choose(Some(&dev_staging), None),
            Err((
                400,
                "x-pennon-environment: required: this token acts in dev, staging, not prod".into()
            ))
        );
    }

    #[test]
    fn the_key_is_the_rest_of_the_path() {
        let uri: Uri = "/ofrep/v1/evaluate/flags/new.checkout_flow-2?x=1"
            .parse()
            .unwrap();
        assert_eq!(key_of(&uri), "new.checkout_flow-2");
        let uri: Uri = "/ofrep/v1/evaluate/flags/a%20b".parse().unwrap();
        assert_eq!(key_of(&uri), "a%20b");
    }
}
