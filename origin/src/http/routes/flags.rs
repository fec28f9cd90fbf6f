//! The admin flag endpoints: create, list, get, partial update with `If-Match`, delete.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use evaluator::{Environment, Flag, FlagKey, ValidationError};
use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::content_type::JsonContentType;
use super::query::QueryParams;
use super::scope::{self, check_flag};
use crate::access::{Action, Actor};
use crate::http::auth::Caller;
use crate::http::body::{json_object, optional, refuse_nul, refuse_unknown};
use crate::http::error::ApiError;
use crate::http::openapi::responses::{AdminErrors, BodyErrors};
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::store::{FlagFilter, FlagList, FlagPatch, NewFlag, StoredFlag, UnreadableFlag};
use crate::usage::{FlagUsage, StaleFor};

/// The writable fields of a flag, in the contract's order.
const UPDATE_FIELDS: &[&str] = &[
    "description",
    "enabled",
    "type",
    "variants",
    "offVariant",
    "prerequisites",
    "rules",
    "rolloutPercentage",
    "fallthrough",
];
const CREATE_FIELDS: &[&str] = &[
    "key",
    "environment",
    "description",
    "enabled",
    "type",
    "variants",
    "offVariant",
    "prerequisites",
    "rules",
    "rolloutPercentage",
    "fallthrough",
];

/// `POST /api/admin/flags`: the contract's Flag without the fields the origin assigns. Read whole
/// by the evaluator, so a flag that breaks the contract is refused here with its path and never
/// stored. What it names of other documents is checked by the store, in the write's transaction.
pub fn new_flag_from_json(body: &Map<String, Value>) -> Result<NewFlag, ApiError> {
    refuse_unknown(body, CREATE_FIELDS)?;
    refuse_nul(body)?;
    // The evaluator checks every field, `environment` among them, in the contract's order; it
    // keeps only what evaluates, so the environment is read here too (it cannot fail twice).
    let flag = Flag::from_json_value(&Value::Object(body.clone()))?;
    let environment = optional(body, "environment")
        .map(Environment::from_json_value)
        .transpose()?
        .ok_or_else(|| ValidationError::new("environment", "required"))?;
    Ok(NewFlag { environment, flag })
}

/// `PUT /api/admin/flags/:id`: fields left out stay as they are. The key and environment identify
/// the flag and cannot change (they are unknown fields here, so 400). The fields are laid over the
/// stored flag and the result read whole in the store's transaction (`store::model::patched`).
fn patch_from_json(body: &Map<String, Value>) -> Result<FlagPatch, ApiError> {
    refuse_unknown(body, UPDATE_FIELDS)?;
    refuse_nul(body)?;
    Ok(FlagPatch {
        fields: body.clone(),
    })
}

/// `{"flag": …}`, and its `usage` when read (`GET`), not when written.
#[derive(Debug, Serialize)]
pub struct FlagBody {
    pub flag: StoredFlag,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<FlagUsage>,
}

impl FlagBody {
    pub fn written(flag: StoredFlag) -> Self {
        Self { flag, usage: None }
    }
}

/// `{"flags": [...]}`, and `"unreadable": [{id, environment, key}]` only when some stored rows
/// cannot be read (they are left out of `flags`). Asked for (`?include=usage`, or with `?stale=`),
/// the list adds each flag's `usage` by its id: beside the flags, so the flag documents stay what
/// every other answer holds, and only when asked, so the list answers as before otherwise.
#[derive(Debug, Serialize)]
pub struct FlagsBody {
    pub flags: Vec<StoredFlag>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableFlag>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub usage: BTreeMap<Uuid, FlagUsage>,
}

impl From<FlagList> for FlagsBody {
    fn from(list: FlagList) -> Self {
        Self {
            flags: list.flags,
            unreadable: list.unreadable,
            usage: BTreeMap::new(),
        }
    }
}

/// The filters of the list. Unknown parameters are refused: a misspelt filter (`?enviroment=prod`)
/// must not list every flag.
const LIST_PARAMS: &[&str] = &["environment", "key", "stale", "include"];

/// Ids are UUIDs; anything else cannot name a flag, so it is answered like an unknown id (404).
fn flag_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| ApiError::NotFound("flag not found".into()))
}

/// `If-Match: 3` (or the ETag-style `"3"`); `*` matches any version, as in HTTP. The same on
/// every write that names a version: update, delete and the kill switch.
pub(super) fn if_match(headers: &HeaderMap) -> Result<Option<u64>, ApiError> {
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

#[utoipa::path(
    post,
    path = "/flags",
    tag = "flags",
    operation_id = "createFlag",
    summary = "Create a flag",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    request_body(content = schemas::FlagCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created, at version 1", body = schemas::FlagBody),
        (status = 400, description = "Invalid: the message names the field (also a reference the environment does not hold)", body = schemas::ErrorBody),
        (status = 409, description = "The key exists in that environment", body = schemas::ErrorBody),
        BodyErrors,
        AdminErrors,
    )
)]
pub async fn create_flag(
    State(state): State<AppState>,
    _: JsonContentType,
    Caller(caller): Caller,
    actor: Actor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::WriteDefinitions)?;
    let new = new_flag_from_json(&json_object(&body?)?)?;
    caller.require_in(Action::WriteDefinitions, new.environment)?;
    let flag = state.admin.create_flag(new, &actor).await?;
    Ok((StatusCode::CREATED, Json(FlagBody::written(flag))).into_response())
}

#[utoipa::path(
    get,
    path = "/flags",
    tag = "flags",
    operation_id = "listFlags",
    summary = "List flags",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("environment" = Option<schemas::Environment>, Query, description = "Only flags of this environment (empty: no filter)"), ("key" = Option<String>, Query, description = "Only flags with this key (empty: no filter)"), ("stale" = Option<String>, Query, description = "Only flags not evaluated for this long, or never: a whole number and a unit, `s`, `m`, `h` or `d` (`7d`), at most `3650d` (empty: no filter); the answer includes `usage`"), ("include" = Option<String>, Query, description = "`usage`: add each listed flag's usage, by id, in `usage`")),
    responses(
        (status = 200, description = "Sorted by key, then environment", body = schemas::FlagList),
        (status = 400, description = "An unknown or repeated query parameter, or a bad filter value", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn list_flags(
    State(state): State<AppState>,
    Caller(caller): Caller,
    uri: Uri,
) -> Result<Json<FlagsBody>, ApiError> {
    let params = QueryParams::read(&uri, LIST_PARAMS)?;
    let filter = FlagFilter {
        environment: params.parsed("environment", Environment::parse)?,
        key: params.parsed("key", FlagKey::parse)?,
    };
    let stale = params
        .get("stale")
        .map(StaleFor::parse)
        .transpose()
        .map_err(ApiError::BadRequest)?;
    let with_usage = match params.get("include") {
        None => stale.is_some(),
        Some("usage") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "include: {other:?} is not something the list can include (usage)"
            )))
        }
    };
    let shown = scope::listed(&caller, filter.environment)?;
    let mut list = state.store.list_flags(&filter).await?;
    if let Some(shown) = shown {
        list.flags.retain(|flag| shown.contains(flag.environment));
        list.unreadable.retain(|row| {
            caller
                .environments
                .contains_all(scope::stored_environment(&row.environment))
        });
    }
    if !with_usage {
        return Ok(Json(FlagsBody::from(list)));
    }
    let usage = state
        .usage
        .read(filter.environment, filter.key.as_ref().map(FlagKey::as_str))
        .await?;
    if let Some(stale) = stale {
        list.flags
            .retain(|flag| usage.is_stale(flag.environment, flag.flag.key.as_str(), stale));
    }
    let mut body = FlagsBody::from(list);
    body.usage = body
        .flags
        .iter()
        .map(|flag| (flag.id, usage.of(flag.environment, flag.flag.key.as_str())))
        .collect();
    Ok(Json(body))
}

#[utoipa::path(
    get,
    path = "/flags/{id}",
    tag = "flags",
    operation_id = "getFlag",
    summary = "Get a flag",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("id" = String, Path, description = "The flag's id (a UUID; anything else is 404)")),
    responses(
        (status = 200, description = "The flag", body = schemas::FlagBody),
        (status = 404, description = "No flag with this id", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn get_flag(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<FlagBody>, ApiError> {
    let id = flag_id(&id)?;
    check_flag(&state, &caller, Action::ReadDefinitions, id).await?;
    let flag = state.store.get_flag(id).await?;
    let usage = state
        .usage
        .read(Some(flag.environment), Some(flag.flag.key.as_str()))
        .await?
        .of(flag.environment, flag.flag.key.as_str());
    Ok(Json(FlagBody {
        flag,
        usage: Some(usage),
    }))
}

#[utoipa::path(
    put,
    path = "/flags/{id}",
    tag = "flags",
    operation_id = "updateFlag",
    summary = "Update a flag (fields left out stay)",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("id" = String, Path, description = "The flag's id (a UUID; anything else is 404)"), ("If-Match" = Option<String>, Header, description = "Compare-and-set: the flag's version, e.g. `3` or `\"3\"`; `*` matches any"), ("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    request_body(content = schemas::FlagUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated, at version + 1 (unchanged when nothing changes)", body = schemas::FlagBody),
        (status = 400, description = "Invalid: the message names the field (`key`, `environment`: cannot change); a bad `If-Match`", body = schemas::ErrorBody),
        (status = 404, description = "No flag with this id", body = schemas::ErrorBody),
        (status = 409, description = "`If-Match` names another version, or the change would take away what other flags name", body = schemas::ErrorBody),
        BodyErrors,
        AdminErrors,
    )
)]
pub async fn update_flag(
    State(state): State<AppState>,
    _: JsonContentType,
    Caller(caller): Caller,
    actor: Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<FlagBody>, ApiError> {
    let id = flag_id(&id)?;
    caller.require(Action::WriteDefinitions)?;
    let expected = if_match(&headers)?;
    let patch = patch_from_json(&json_object(&body?)?)?;
    check_flag(&state, &caller, Action::WriteDefinitions, id).await?;
    let flag = state.admin.update_flag(id, patch, expected, &actor).await?;
    Ok(Json(FlagBody::written(flag)))
}

#[utoipa::path(
    delete,
    path = "/flags/{id}",
    tag = "flags",
    operation_id = "deleteFlag",
    summary = "Delete a flag",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("id" = String, Path, description = "The flag's id (a UUID; anything else is 404)"), ("If-Match" = Option<String>, Header, description = "Compare-and-set: the flag's version; `*` matches any"), ("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    responses(
        (status = 204, description = "Deleted (its audit entries stay)"),
        (status = 400, description = "A bad `If-Match` or `x-actor`", body = schemas::ErrorBody),
        (status = 404, description = "No flag with this id", body = schemas::ErrorBody),
        (status = 409, description = "`If-Match` names another version, or other flags name it", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn delete_flag(
    State(state): State<AppState>,
    Caller(caller): Caller,
    actor: Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let id = flag_id(&id)?;
    let expected = if_match(&headers)?;
    check_flag(&state, &caller, Action::WriteDefinitions, id).await?;
    state.admin.delete_flag(id, expected, &actor).await?;
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

    fn bad_request(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        match result {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    fn object(json: &str) -> Map<String, Value> {
        json_object(json.as_bytes()).unwrap()
    }

    #[test]
    fn creates_need_an_environment_and_known_fields() {
        let ok = new_flag_from_json(&object(r#"{"key": "k", "environment": "dev"}"#)).unwrap();
        assert_eq!(ok.environment, Environment::Dev);
        assert!(!ok.flag.enabled && ok.flag.rules().is_empty());
        assert_eq!(
            ok.flag.fallthrough(),
            &evaluator::Fallthrough::Rollout(evaluator::RolloutPercentage::default())
        );
        assert_eq!(
            bad_request(new_flag_from_json(&object(r#"{"key": "k"}"#))),
            "environment: required"
        );
        assert_eq!(
            bad_request(new_flag_from_json(&object(
                r#"{"key": "k", "environment": "dev", "version": 3}"#
            ))),
            "version: unknown field"
        );
    }

    #[test]
    fn patches_hold_only_known_fields() {
        let patch = patch_from_json(&object(r#"{"enabled": true, "fallthrough": "on"}"#)).unwrap();
        assert_eq!(patch.fields.len(), 2);
        for field in ["key", "environment", "version", "id"] {
            assert_eq!(
                bad_request(patch_from_json(&object(&format!(r#"{{"{field}": "x"}}"#)))),
                format!("{field}: unknown field")
            );
        }
        assert_eq!(
            bad_request(patch_from_json(&object(r#"{"description": "a\u0000"}"#))),
            "description: must not contain the NUL character (\\u0000)"
        );
    }

    #[test]
    fn malformed_ids_are_not_found() {
        assert!(matches!(flag_id("nope"), Err(ApiError::NotFound(_))));
        assert!(flag_id("67e55044-10b1-426f-9247-bb680e5fe0c8").is_ok());
    }
}
