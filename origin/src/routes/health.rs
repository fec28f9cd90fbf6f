//! `GET /health`: can this origin serve evaluations, and in what state are its store and cache.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;

use crate::state::AppState;

const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Health {
    /// `ok`, `degraded` (cache down: evaluations go to the store) or `unavailable` (store down).
    status: &'static str,
    /// `ok` or `unavailable`.
    store: &'static str,
    store_kind: &'static str,
    /// `redis` or `memory`.
    cache: &'static str,
    /// `ok` or `unavailable`.
    cache_status: &'static str,
}

fn state_of(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "unavailable"
    }
}

pub async fn check_health(State(state): State<AppState>) -> impl IntoResponse {
    let (store, cache) = tokio::join!(
        tokio::time::timeout(PROBE_TIMEOUT, state.store.ping()),
        tokio::time::timeout(PROBE_TIMEOUT, state.cache.ping()),
    );
    let store_ok = matches!(store, Ok(Ok(())));
    let cache_ok = matches!(cache, Ok(Ok(())));
    let (status, code) = match (store_ok, cache_ok) {
        (true, true) => ("ok", StatusCode::OK),
        (true, false) => ("degraded", StatusCode::OK),
        (false, _) => ("unavailable", StatusCode::SERVICE_UNAVAILABLE),
    };
    let body = Health {
        status,
        store: state_of(store_ok),
        store_kind: state.store.kind(),
        cache: state.cache.kind(),
        cache_status: state_of(cache_ok),
    };
    (code, Json(body))
}
