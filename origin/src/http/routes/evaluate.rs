//! `POST /api/evaluate`: the public, hot path.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use evaluator::{EvaluateRequest, EvaluateResponse};
use tracing::Span;

use super::content_type::JsonContentType;
use super::cors;
use crate::access::Action;
use crate::http::auth::EvaluationCaller;
use crate::http::error::ApiError;
use crate::http::openapi::responses::BodyErrors;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::traces;

/// Parses with the evaluator's own request parser (the edge worker uses the same one, so both give
/// byte-identical 400 messages) and answers the compiled set's results, written by
/// `EvaluateResponse::to_json` as the edge writes them: both produce the same bytes.
#[utoipa::path(
    post,
    path = "/api/evaluate",
    tag = "evaluate",
    operation_id = "evaluateFlags",
    summary = "Decide flags for a user",
    description = "Public, with CORS for any origin. A token (any role: client or higher) is needed only when the origin runs with `REQUIRE_CLIENT_TOKEN`.",
    security((), ("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    request_body(content = schemas::EvaluateRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "One result per flag, sorted by key", body = schemas::EvaluateResponse),
        (status = 400, description = "Invalid request: the message names the field (`environment: required`, `user.id: must be a non-empty string`, …)", body = schemas::ErrorBody),
        (status = 401, description = "`REQUIRE_CLIENT_TOKEN` is on and the token is missing, unknown or revoked", body = schemas::ErrorBody),
        (status = 403, description = "`REQUIRE_CLIENT_TOKEN` is on and the token lacks the environment", body = schemas::ErrorBody),
        (status = 429, description = "Over the rate limit (when limits are configured)", body = schemas::ErrorBody,
         headers(("Retry-After" = u32, description = "Whole seconds to wait"))),
        (status = 500, description = "An internal error", body = schemas::ErrorBody),
        (status = 503, description = "The environment's flags cannot be loaded from anywhere", body = schemas::ErrorBody),
        BodyErrors,
    )
)]
pub async fn evaluate_flags(
    State(state): State<AppState>,
    caller: Result<EvaluationCaller, ApiError>,
    content_type: Result<JsonContentType, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    // Every answer, errors included (400, 401, 403, 413, 415, 503), carries the CORS headers.
    cors::with_cors(
        evaluate(state, caller, content_type, body)
            .await
            .into_response(),
    )
}

async fn evaluate(
    state: AppState,
    caller: Result<EvaluationCaller, ApiError>,
    content_type: Result<JsonContentType, ApiError>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let EvaluationCaller(caller) = caller?;
    content_type?;
    let body = body?;
    let request =
        EvaluateRequest::from_json(&body).map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if let Some(caller) = caller {
        caller.require_in(Action::Evaluate, request.environment)?;
    }
    let set = state.flags.get(request.environment).await?;
    if let Some(sample) = &state.contexts {
        sample.offer(request.environment, &request.user);
    }
    let results = match &request.flags {
        Some(keys) => set.compiled.evaluate_keys(&request.user, keys),
        None => set.compiled.evaluate_all(&request.user),
    };
    if state.counting {
        set.counts.record(&results);
    }
    if traces::is_on() {
        traces::flags::record_flags(&Span::current(), request.environment, &results);
    }
    let json = EvaluateResponse { results }.to_json();
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}
