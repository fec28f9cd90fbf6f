//! `GET /metrics`: the origin's metrics for Prometheus (see `docs/metrics.md`).

use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::access::{Action, EnvironmentSet};
use crate::http::auth::verify;
use crate::http::error::ApiError;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;

/// On the main port, behind a token: the counts name every environment's flags and variants, so
/// they are read with a role that may read those (server, viewer, editor, admin) for every
/// environment.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "getMetrics",
    summary = "The origin's metrics, for Prometheus",
    description = "OpenMetrics text (`application/openmetrics-text; version=1.0.0`), as written by `prometheus-client`. Roles server, viewer, editor or admin, for every environment. The families and labels are listed in `docs/metrics.md`.",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    responses(
        (status = 200, description = "The metrics", body = String,
         content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 401, description = "Missing, unknown or revoked token (or no token configured)", body = schemas::ErrorBody),
        (status = 403, description = "A valid token without the role or without every environment", body = schemas::ErrorBody),
        (status = 404, description = "The origin counts nothing (`METRICS=off`)", body = schemas::ErrorBody),
        (status = 500, description = "An internal error", body = schemas::ErrorBody),
    )
)]
pub async fn get_metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !state.counting {
        return Err(ApiError::NotFound(
            "metrics are off on this origin (METRICS=off)".into(),
        ));
    }
    let caller = verify(&state, &headers)?;
    caller.require_all(Action::ReadMetrics, EnvironmentSet::ALL)?;
    let text = state
        .metrics
        .render()
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    Ok((
        [
            (CONTENT_TYPE, METRICS_CONTENT_TYPE),
            (CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response())
}
