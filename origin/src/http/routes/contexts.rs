//! `GET /api/admin/contexts?environment=`: the sample of recent evaluation contexts
//! (`CONTEXT_SAMPLE_SIZE`), which the console evaluates a flag change against before it is saved.

use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::http::Uri;
use axum::response::{IntoResponse, Response};
use axum::Json;
use evaluator::Environment;
use serde::Serialize;

use super::query::QueryParams;
use crate::access::Action;
use crate::contexts::SampledContext;
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::openapi::responses::AdminErrors;
use crate::http::openapi::schemas;
use crate::http::state::AppState;

const PARAMS: &[&str] = &["environment", "limit"];

#[derive(Debug, Serialize)]
struct ContextsBody {
    environment: Environment,
    /// Slots per environment (`CONTEXT_SAMPLE_SIZE`).
    size: usize,
    contexts: Vec<SampledContext>,
}

#[utoipa::path(
    get,
    path = "/contexts",
    tag = "console",
    operation_id = "listContexts",
    summary = "Recent evaluation contexts of an environment (the impact preview's sample)",
    description = "Held in memory only when `CONTEXT_SAMPLE_SIZE` is above 0 (off by default): personal data, so roles editor and admin, for the environment. The most recently seen first; one per user id.",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(
        ("environment" = schemas::Environment, Query, description = "Required"),
        ("limit" = Option<u32>, Query, description = "At most this many (default and maximum: all held)"),
    ),
    responses(
        (status = 200, description = "The sample", body = schemas::ContextList),
        (status = 400, description = "`environment` missing or invalid, a bad `limit`, or an unknown query parameter", body = schemas::ErrorBody),
        (status = 404, description = "No sample is kept (`CONTEXT_SAMPLE_SIZE` is 0)", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn list_contexts(
    State(state): State<AppState>,
    Caller(caller): Caller,
    uri: Uri,
) -> Result<Response, ApiError> {
    caller.require(Action::ReadContexts)?;
    let params = QueryParams::read(&uri, PARAMS)?;
    let environment = params
        .parsed("environment", Environment::parse)?
        .ok_or_else(|| ApiError::BadRequest("environment: missing".into()))?;
    let limit = match params.get("limit") {
        None => usize::MAX,
        Some(text) => text
            .parse::<u32>()
            .map(|n| n as usize)
            .map_err(|_| ApiError::BadRequest(format!("limit: {text:?} is not a whole number")))?,
    };
    caller.require_in(Action::ReadContexts, environment)?;
    let Some(sample) = &state.contexts else {
        return Err(ApiError::NotFound(
            "no context sample is kept on this origin (CONTEXT_SAMPLE_SIZE is 0)".into(),
        ));
    };
    let body = ContextsBody {
        environment,
        size: sample.size(),
        contexts: sample.read(environment, limit),
    };
    // Personal data: no cache on the way may keep it.
    Ok(([(CACHE_CONTROL, "no-store")], Json(body)).into_response())
}
