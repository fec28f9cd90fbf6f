//! `POST /api/usage`: evaluation counts reported by edge workers (and any other evaluator that runs
//! beside the origin), added to the flag usage the admin API shows.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use super::content_type::JsonContentType;
use crate::access::Action;
use crate::http::auth::verify;
use crate::http::body::json_object;
use crate::http::error::ApiError;
use crate::http::openapi::responses::BodyErrors;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::usage::{now_ms, Report};

#[utoipa::path(
    post,
    path = "/api/usage",
    tag = "edge",
    operation_id = "reportUsage",
    summary = "Report evaluation counts (flag usage) made outside this origin",
    description = "What an edge worker counted since its last report, for one environment. Roles server or admin, for the environment. Entries naming a flag or variant the environment does not have are ignored (and counted as such). The counts reach the store with this origin's next usage batch (`USAGE_FLUSH_SECONDS`).",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    request_body(content = schemas::UsageReport, content_type = "application/json"),
    responses(
        (status = 202, description = "Taken for the next batch", body = schemas::UsageAccepted),
        (status = 400, description = "Not a report: the message names the field", body = schemas::ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (or no token configured)", body = schemas::ErrorBody),
        (status = 403, description = "A valid token without the role or the environment", body = schemas::ErrorBody),
        BodyErrors,
        (status = 500, description = "An internal error", body = schemas::ErrorBody),
        (status = 503, description = "The environment's flags cannot be loaded from anywhere", body = schemas::ErrorBody),
    )
)]
pub async fn report_usage(
    State(state): State<AppState>,
    headers: HeaderMap,
    _: JsonContentType,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let caller = verify(&state, &headers)?;
    caller.require(Action::ReportUsage)?;
    let report = Report::from_json(&json_object(&body?)?, now_ms())
        .map_err(|err| ApiError::BadRequest(err.to_string()))?;
    caller.require_in(Action::ReportUsage, report.environment)?;
    let set = state.flags.get(report.environment).await?;
    let accepted = state.usage.add_report(&report, &set.compiled);
    Ok((StatusCode::ACCEPTED, Json(accepted)).into_response())
}
