//! The admin flag endpoints: create, list, get, partial update with `If-Match`, delete.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use evaluator::{Environment, Flag, FlagKey, RolloutPercentage, RuleList};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::auth::Actor;
use crate::body::parse_json;
use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{FlagFilter, FlagPatch, NewFlag};

/// `POST /api/admin/flags`. Fields use the evaluator's validated types, so a rule that breaks the
/// contract is refused here with its path, and never reaches the store.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateFlagBody {
    key: FlagKey,
    environment: Environment,
    #[serde(default)]
    description: String,
    #[serde(default)]
    enabled: bool,
    #[serde(default)]
    rollout_percentage: RolloutPercentage,
    #[serde(default)]
    rules: RuleList,
}

impl From<CreateFlagBody> for NewFlag {
    fn from(body: CreateFlagBody) -> Self {
        Self {
            key: body.key,
            environment: body.environment,
            description: body.description,
            enabled: body.enabled,
            rollout_percentage: body.rollout_percentage,
            rules: body.rules,
        }
    }
}

/// `PUT /api/admin/flags/:id`: fields left out stay as they are. The key and environment identify
/// the flag and cannot change (they are unknown fields here, so 400).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct UpdateFlagBody {
    description: Option<String>,
    enabled: Option<bool>,
    rollout_percentage: Option<RolloutPercentage>,
    rules: Option<RuleList>,
}

#[derive(Debug, Serialize)]
pub struct FlagBody {
    pub flag: Flag,
}

#[derive(Debug, Serialize)]
pub struct FlagsBody {
    pub flags: Vec<Flag>,
}

#[derive(Debug, Deserialize)]
pub struct ListParams {
    environment: Option<String>,
    key: Option<String>,
}

/// Ids are UUIDs; anything else cannot name a flag, so it is answered like an unknown id (404).
fn flag_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("flag not found".into()))
}

/// `If-Match: 3` (or the ETag-style `"3"`); `*` matches any version, as in HTTP.
fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
    let Some(value) = headers.get(axum::http::header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || ApiError::BadRequest("If-Match: must be a flag version, e.g. 3".into());
    let text = value.to_str().map_err(|_| bad())?.trim();
    if text == "*" {
        return Ok(None);
    }
    let unquoted = text
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text);
    unquoted.parse::<u64>().map(Some).map_err(|_| bad())
}

pub async fn create_flag(
    State(state): State<AppState>,
    Actor(actor): Actor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body: CreateFlagBody = parse_json(&body?)?;
    let flag = state.store.create_flag(body.into(), &actor).await?;
    if let Some(environment) = flag.environment {
        state.flags.invalidate(environment).await;
    }
    Ok((StatusCode::CREATED, Json(FlagBody { flag })).into_response())
}

pub async fn list_flags(
    State(state): State<AppState>,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<FlagsBody>, ApiError> {
    let Query(params) = params?;
    let filter = FlagFilter {
        environment: params
            .environment
            .filter(|e| !e.is_empty())
            .map(|e| Environment::parse(&e))
            .transpose()
            .map_err(|e| ApiError::BadRequest(format!("environment: {}", e.message())))?,
        key: params
            .key
            .filter(|k| !k.is_empty())
            .map(|k| FlagKey::parse(&k))
            .transpose()
            .map_err(|e| ApiError::BadRequest(format!("key: {}", e.message())))?,
    };
    let flags = state.store.list_flags(&filter).await?;
    Ok(Json(FlagsBody { flags }))
}

pub async fn get_flag(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<FlagBody>, ApiError> {
    let flag = state.store.get_flag(flag_id(&id)?).await?;
    Ok(Json(FlagBody { flag }))
}

pub async fn update_flag(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FlagBody>, ApiError> {
    let id = flag_id(&id)?;
    let expected = if_match(&headers)?;
    let body: UpdateFlagBody = parse_json(&body?)?;
    let patch = FlagPatch {
        description: body.description,
        enabled: body.enabled,
        rollout_percentage: body.rollout_percentage,
        rules: body.rules,
    };
    let flag = state.store.update_flag(id, patch, expected, &actor).await?;
    if let Some(environment) = flag.environment {
        state.flags.invalidate(environment).await;
    }
    Ok(Json(FlagBody { flag }))
}

pub async fn delete_flag(
    State(state): State<AppState>,
    Actor(actor): Actor,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let flag = state.store.delete_flag(flag_id(&id)?, &actor).await?;
    if let Some(environment) = flag.environment {
        state.flags.invalidate(environment).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            axum::http::header::IF_MATCH,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn if_match_accepts_versions_quoted_or_not() {
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        assert_eq!(if_match(&headers("3")).unwrap(), Some(3));
        assert_eq!(if_match(&headers("\"12\"")).unwrap(), Some(12));
        assert_eq!(if_match(&headers("*")).unwrap(), None);
        assert!(if_match(&headers("abc")).is_err());
        assert!(if_match(&headers("-1")).is_err());
    }

    #[test]
    fn malformed_ids_are_not_found() {
        assert!(matches!(flag_id("nope"), Err(ApiError::NotFound(_))));
        assert!(flag_id("67e55044-10b1-426f-9247-bb680e5fe0c8").is_ok());
    }
}
