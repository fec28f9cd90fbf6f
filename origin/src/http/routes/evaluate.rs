//! `POST /api/evaluate`: the public, hot path.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use evaluator::{EvaluateRequest, EvaluateResponse};

use super::content_type::JsonContentType;
use super::cors;
use crate::access::Action;
use crate::http::auth::EvaluationCaller;
use crate::http::error::ApiError;
use crate::http::state::AppState;

/// Parses with the evaluator's own request parser (the edge worker uses the same one, so both give
/// byte-identical 400 messages) and answers the compiled set's results, written by
/// `EvaluateResponse::to_json` as the edge writes them: both produce the same bytes.
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
    let results = match &request.flags {
        Some(keys) => set.compiled.evaluate_keys(&request.user, keys),
        None => set.compiled.evaluate_all(&request.user),
    };
    let json = EvaluateResponse { results }.to_json();
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}
