//! `GET /health`: can this origin serve evaluations, and in what state are its parts.
//!
//! 200 while evaluations can be served (`ok`, or `degraded` when a part is down but the last flag
//! sets still serve, or the store holds flags or segments it cannot read); 503 only when no
//! environment can be evaluated.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use evaluator::Environment;
use serde::Serialize;

use super::cors;
use crate::flagset::UnreadableRows;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::invalidation::ListenStatus;
use crate::store::{UnreadableFlag, UnreadableSegment};

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    /// `ok`, `degraded` (a part is down, evaluations go on) or `unavailable` (they cannot).
    status: &'static str,
    /// `ok`, `degraded` (reachable, but some flags or segments it holds cannot be read:
    /// `unreadableFlags`, `unreadableSegments`) or `unavailable`.
    store: &'static str,
    store_kind: &'static str,
    /// `redis` or `memory`.
    cache: &'static str,
    /// `ok` or `unavailable`.
    cache_status: &'static str,
    /// What carries change messages between origins: `redis+postgres`, `redis`, `postgres` or
    /// `none`.
    invalidation: &'static str,
    /// `ok` when every channel listens, `reconnecting` when one does not.
    invalidation_status: &'static str,
    /// Each channel and its status, e.g. `{"redis":"reconnecting","postgres":"ok"}`: whether
    /// change messages still flow while one channel is down.
    invalidation_channels: BTreeMap<&'static str, &'static str>,
    /// `ok`, or with the store down: `partial` (some environments have no flag set to serve) or
    /// `unavailable`.
    evaluations: &'static str,
    /// The stored flags that cannot be read, left out of every evaluation, snapshot and list
    /// until deleted; only when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unreadable_flags: Vec<UnreadableFlag>,
    /// The stored segments that cannot be read: flags that name one find no members in it, so
    /// their answers change until it is repaired or deleted; only when there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unreadable_segments: Vec<UnreadableSegment>,
}

fn state_of(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "unavailable"
    }
}

/// With the store down: how many environments still have a flag set (in process, or loadable from
/// the shared cache).
async fn servable(state: &AppState) -> usize {
    let probes = Environment::ALL.map(|environment| {
        let flags = &state.flags;
        async move {
            flags.held_revision(environment).is_some()
                || matches!(
                    tokio::time::timeout(PROBE_TIMEOUT, flags.get(environment)).await,
                    Ok(Ok(_))
                )
        }
    });
    let [a, b, c] = probes;
    let (a, b, c) = tokio::join!(a, b, c);
    usize::from(a) + usize::from(b) + usize::from(c)
}

#[utoipa::path(
    get,
    path = "/health",
    tag = "meta",
    operation_id = "checkHealth",
    summary = "Can this origin serve evaluations, and in what state are its parts",
    description = "Public, with CORS for any origin.",
    responses(
        (status = 200, description = "Evaluations can be served (`status` is `ok` or `degraded`)", body = schemas::Health),
        (status = 503, description = "No environment can be evaluated (`status` is `unavailable`)", body = schemas::Health),
    )
)]
pub async fn check_health(State(state): State<AppState>) -> Response {
    cors::with_cors(health(&state).await.into_response())
}

async fn health(state: &AppState) -> impl IntoResponse {
    let (store, cache) = tokio::join!(
        tokio::time::timeout(PROBE_TIMEOUT, state.store.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, state.cache.ping()),
    );
    let store_ok = matches!(store, Ok(Ok(())));
    let cache_ok = matches!(cache, Ok(Ok(())));
    let invalidation_status = state.subscription.status();
    let listening = invalidation_status == ListenStatus::Ok;
    let unreadable = if store_ok {
        tokio::time::timeout(PROBE_TIMEOUT, state.flags.unreadable_rows())
            .await
            .unwrap_or_default()
    } else {
        UnreadableRows::default()
    };
    let all_readable = unreadable.flags.is_empty() && unreadable.segments.is_empty();
    let evaluations = if store_ok {
        "ok"
    } else {
        match servable(state).await {
            0 => "unavailable",
            n if n == Environment::ALL.len() => "ok",
            _ => "partial",
        }
    };
    let (status, code) = if evaluations == "unavailable" {
        ("unavailable", StatusCode::SERVICE_UNAVAILABLE)
    } else if store_ok && cache_ok && listening && all_readable {
        ("ok", StatusCode::OK)
    } else {
        ("degraded", StatusCode::OK)
    };
    let body = Health {
        status,
        store: if store_ok && !all_readable {
            "degraded"
        } else {
            state_of(store_ok)
        },
        store_kind: state.store.kind(),
        cache: state.cache.kind(),
        cache_status: state_of(cache_ok),
        invalidation: state.subscription.label(),
        invalidation_status: invalidation_status.as_str(),
        invalidation_channels: state
            .subscription
            .each()
            .map(|(channel, status)| (channel.as_str(), status.as_str()))
            .collect(),
        evaluations,
        unreadable_flags: unreadable.flags,
        unreadable_segments: unreadable.segments,
    };
    (code, Json(body))
}
