//! `POST /api/admin/kill-switch`: one key off in every environment, in one transaction.
//!
//! `If-Match: N` holds when every flag of the key, in every environment, is at version N (else 409
//! naming the environments at another version, and nothing is written): the flags of one key are
//! separate flags with versions of their own, and a condition on "the key" can only mean all of them.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use evaluator::{FlagKey, ValidationError};

use super::content_type::JsonContentType;
use super::flags::{if_match, FlagsBody};
use super::scope::stored_environment;
use crate::access::{Action, Actor, EnvironmentSet};
use crate::http::auth::Caller;
use crate::http::body::{json_object, optional, refuse_nul, refuse_unknown};
use crate::http::error::ApiError;
use crate::http::openapi::responses::{AdminErrors, BodyErrors};
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::store::{FlagFilter, StoreError};

/// `{"key": "..."}`, nothing else.
fn key_from_json(bytes: &[u8]) -> Result<FlagKey, ApiError> {
    let body = json_object(bytes)?;
    refuse_unknown(&body, &["key"])?;
    refuse_nul(&body)?;
    let key = optional(&body, "key").ok_or_else(|| ValidationError::new("key", "required"))?;
    Ok(FlagKey::from_json_value(key)?)
}

#[utoipa::path(
    post,
    path = "/kill-switch",
    tag = "flags",
    operation_id = "killFlag",
    summary = "Turn a key off in every environment",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("If-Match" = Option<String>, Header, description = "Holds when every flag of the key is at this version; `*` matches any"), ("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    request_body(content = schemas::KillSwitchRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Every flag with that key, sorted by environment (those already off as they were)", body = schemas::FlagList),
        (status = 400, description = "Invalid body, `If-Match` or `x-actor`", body = schemas::ErrorBody),
        (status = 404, description = "No environment has a flag with this key", body = schemas::ErrorBody),
        (status = 409, description = "`If-Match`: some environment's flag is at another version (nothing written)", body = schemas::ErrorBody),
        BodyErrors,
        AdminErrors,
    )
)]
pub async fn kill_flag(
    State(state): State<AppState>,
    _: JsonContentType,
    Caller(caller): Caller,
    actor: Actor,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FlagsBody>, ApiError> {
    caller.require(Action::WriteDefinitions)?;
    let expected = if_match(&headers)?;
    let key = key_from_json(&body?)?;
    if !caller.environments.is_all() {
        // The switch turns the key off wherever it exists: the token must act in all of those.
        let filter = FlagFilter {
            environment: None,
            key: Some(key.clone()),
        };
        let existing = state.store.list_flags(&filter).await?;
        let mut environments: EnvironmentSet =
            existing.flags.iter().map(|flag| flag.environment).collect();
        for row in &existing.unreadable {
            environments = environments.union(stored_environment(&row.environment));
        }
        caller.require_all(Action::WriteDefinitions, environments)?;
    }
    match state.admin.kill_switch(&key, expected, &actor).await {
        Ok(killed) => Ok(Json(FlagsBody::from(killed))),
        Err(StoreError::NotFound) => Err(ApiError::NotFound(format!(
            "no flag with key \"{key}\" in any environment"
        ))),
        Err(other) => Err(other.into()),
    }
}
