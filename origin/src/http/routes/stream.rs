//! `GET /api/stream?environment=`: the change stream (Server-Sent Events). Authorizes the request,
//! takes a place under the cap, reads where the environment stands, and hands the rest to
//! `crate::stream`, which writes an event per revision and the heartbeats until the stream ends.
//!
//! Who may open one: any token that may evaluate in the environment (the stream tells only "the
//! revision moved", no flag data), sent in a header as on the OFREP routes; or, for a browser's
//! `EventSource`, which cannot send headers, a ticket in the query (`ticket=`, see
//! [`crate::access::ticket`]), as the OFREP bulk answer advertises it; or nobody at all while
//! evaluation is public (`REQUIRE_CLIENT_TOKEN` off). The query string is never logged at info
//! level (the request span records the path only, see `routes/mod.rs`).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};
use evaluator::Environment;

use super::cors;
use super::query::QueryParams;
use crate::access::{Action, TicketError};
use crate::http::auth::verify_ofrep;
use crate::http::error::ApiError;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::stream::session::last_event_id;
use crate::stream::{Grant, Opened, RETRY_AFTER_SECONDS};
use crate::tokens::{TicketRefused, Unverified};

const STREAM_PARAMS: &[&str] = &["environment", "ticket"];

const LAST_EVENT_ID: HeaderName = HeaderName::from_static("last-event-id");
/// nginx buffers proxied responses unless told not to; a buffered stream says nothing.
const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// Unix seconds now (0 if the clock is before 1970, which makes every ticket valid no longer
/// than its issuer's clock says: the MAC still has to hold).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

#[utoipa::path(
    get,
    path = "/api/stream",
    tag = "evaluate",
    operation_id = "streamChanges",
    summary = "Server-Sent Events: the environment's revision, now and at every change",
    description = "A `text/event-stream` that never ends by itself. First a `retry:` field (the reconnection delay, 1 to 3 s), then, unless `Last-Event-ID` is the current revision, an event for it; then one event per rise of the environment's revision, whichever origin took the write; a comment line `: heartbeat` every `STREAM_HEARTBEAT_SECONDS` (15) of silence. Each event is `id: <revision>` and `data: {\"type\":\"refetchEvaluation\",\"environment\":\"prod\",\"revision\":7}` (OFREP's event: refetch the bulk evaluation). Access: a token that may evaluate in the environment, in a header (`Authorization: Bearer`, `X-API-Key`, or the aliases), or a `ticket` (what the OFREP bulk answer's `eventStreams` carries, for browsers' `EventSource`), or none while `REQUIRE_CLIENT_TOKEN` is off. The stream ends when the origin shuts down or the token is revoked. CORS: any origin.",
    security((), ("bearer" = []), ("apiKeyHeader" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(
        ("environment" = schemas::Environment, Query, description = "Required"),
        ("ticket" = Option<String>, Query, description = "A stream ticket, `<token id>.<environment>.<expiry>.<HMAC>` (docs/access.md), instead of a header token"),
        ("Last-Event-ID" = Option<String>, Header, description = "The id of the last event seen (a revision): no event on connect while it is current"),
    ),
    responses(
        (status = 200, description = "The stream of events", content_type = "text/event-stream", body = String,
         headers(("Cache-Control" = String, description = "`no-cache`"))),
        (status = 400, description = "`environment` missing or invalid, or an unknown query parameter", body = schemas::ErrorBody),
        (status = 401, description = "A token or ticket that is unknown, forged, expired or revoked, or none while `REQUIRE_CLIENT_TOKEN` is on", body = schemas::ErrorBody),
        (status = 403, description = "A token that may not evaluate in the environment, or a ticket for another environment", body = schemas::ErrorBody),
        (status = 503, description = "`MAX_STREAMS` streams are open (with `Retry-After`), or the environment's flags cannot be loaded from anywhere", body = schemas::ErrorBody,
         headers(("Retry-After" = u32, description = "Whole seconds to wait (at the cap)"))),
    )
)]
pub async fn stream_changes(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let response = match open(&state, &headers, &uri).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    };
    cors::with_cors(response)
}

async fn open(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<Response, ApiError> {
    let params = QueryParams::read(uri, STREAM_PARAMS)?;
    let environment = params
        .parsed("environment", Environment::parse)?
        .ok_or_else(|| ApiError::BadRequest("environment: missing".into()))?;
    let grant = authorize(state, headers, params.get("ticket"), environment)?;
    let slot = state
        .streams
        .try_reserve()
        .ok_or(ApiError::TooManyStreams(RETRY_AFTER_SECONDS))?;
    // Subscribed before the set is read: a rise in between is in the watch either way.
    let mut watch = state.flags.watch(environment);
    let set = state.flags.get(environment).await?;
    let current = set.revision.max(*watch.borrow_and_update());
    let last_seen = headers
        .get(LAST_EVENT_ID)
        .and_then(|value| last_event_id(value.as_bytes()));
    let events = state.streams.run(Opened {
        environment,
        current,
        watch,
        last_seen,
        grant,
        tokens: std::sync::Arc::clone(&state.tokens),
        slot,
    });
    Ok((
        [
            (CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (X_ACCEL_BUFFERING, HeaderValue::from_static("no")),
        ],
        Body::from_stream(events),
    )
        .into_response())
}

/// Who opens the stream: the ticket's token when a ticket is given, else the header's, else
/// nobody (while evaluation is public). 401 and 403 as on the evaluation routes.
fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    ticket: Option<&str>,
    environment: Environment,
) -> Result<Grant, ApiError> {
    let principal = match ticket {
        Some(ticket) => {
            let (principal, issued_for) = state
                .tokens
                .verify_ticket(ticket, unix_now())
                .map_err(refused)?;
            if issued_for != environment {
                return Err(ApiError::Forbidden(format!(
                    "this ticket is for the environment {}",
                    issued_for.as_str()
                )));
            }
            principal
        }
        None => match verify_ofrep(state, headers)? {
            Some(principal) => principal,
            None => return Ok(Grant::Public),
        },
    };
    principal.require_in(Action::Evaluate, environment)?;
    Ok(Grant::Token(principal.id))
}

fn refused(err: TicketRefused) -> ApiError {
    match err {
        TicketRefused::Ticket(TicketError::Expired) => ApiError::Unauthorized("expired ticket"),
        TicketRefused::Ticket(TicketError::Malformed | TicketError::BadMac)
        | TicketRefused::Token(Unverified::Unknown) => ApiError::Unauthorized("invalid ticket"),
        TicketRefused::Token(Unverified::Revoked) => {
            ApiError::Unauthorized("this token was revoked")
        }
        TicketRefused::Token(Unverified::NotLoaded) => ApiError::TokensNotLoaded,
    }
}
