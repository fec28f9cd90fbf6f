//! The admin segment endpoints: create, list, get, partial update with `If-Match`, delete; laid
//! out as the flag endpoints are.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use evaluator::{Environment, Segment, SegmentKey, ValidationError};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::content_type::JsonContentType;
use super::flags::if_match;
use super::query::QueryParams;
use super::scope::{self, check_segment};
use crate::access::{Action, Actor};
use crate::http::auth::Caller;
use crate::http::body::{json_object, optional, refuse_nul, refuse_unknown};
use crate::http::error::ApiError;
use crate::http::openapi::responses::{AdminErrors, BodyErrors};
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::store::{
    NewSegment, SegmentFilter, SegmentList, SegmentPatch, StoreError, StoredSegment,
    UnreadableSegment,
};

/// The writable fields of a segment, in the contract's order.
const UPDATE_FIELDS: &[&str] = &["description", "include", "rules"];
const CREATE_FIELDS: &[&str] = &["key", "environment", "description", "include", "rules"];
const LIST_PARAMS: &[&str] = &["environment", "key"];

/// `POST /api/admin/segments`: the contract's Segment without the fields the origin assigns, read
/// whole by the evaluator.
pub fn new_segment_from_json(body: &Map<String, Value>) -> Result<NewSegment, ApiError> {
    refuse_unknown(body, CREATE_FIELDS)?;
    refuse_nul(body)?;
    let segment = Segment::from_json_value(&Value::Object(body.clone()))?;
    let environment = optional(body, "environment")
        .map(Environment::from_json_value)
        .transpose()?
        .ok_or_else(|| ValidationError::new("environment", "required"))?;
    Ok(NewSegment {
        environment,
        segment,
    })
}

/// `PUT /api/admin/segments/:id`: fields left out stay; key and environment cannot change.
fn patch_from_json(body: &Map<String, Value>) -> Result<SegmentPatch, ApiError> {
    refuse_unknown(body, UPDATE_FIELDS)?;
    refuse_nul(body)?;
    Ok(SegmentPatch {
        fields: body.clone(),
    })
}

#[derive(Debug, Serialize)]
pub struct SegmentBody {
    pub segment: StoredSegment,
}

/// `{"segments": [...]}`, and `"unreadable": [{id, environment, key}]` only when some stored rows
/// cannot be read (they are left out of `segments`).
#[derive(Debug, Serialize)]
pub struct SegmentsBody {
    pub segments: Vec<StoredSegment>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<UnreadableSegment>,
}

impl From<SegmentList> for SegmentsBody {
    fn from(list: SegmentList) -> Self {
        Self {
            segments: list.segments,
            unreadable: list.unreadable,
        }
    }
}

fn not_found() -> ApiError {
    ApiError::NotFound("segment not found".into())
}

/// Ids are UUIDs; anything else cannot name a segment (404, as an unknown id).
fn segment_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw).map_err(|_| not_found())
}

/// The store's errors, with "not found" about a segment.
fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::NotFound => not_found(),
        other => other.into(),
    }
}

#[utoipa::path(
    post,
    path = "/segments",
    tag = "segments",
    operation_id = "createSegment",
    summary = "Create a segment",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    request_body(content = schemas::SegmentCreate, content_type = "application/json"),
    responses(
        (status = 201, description = "Created, at version 1", body = schemas::SegmentBody),
        (status = 400, description = "Invalid: the message names the field (also a reference the environment does not hold)", body = schemas::ErrorBody),
        (status = 409, description = "The key exists in that environment", body = schemas::ErrorBody),
        BodyErrors,
        AdminErrors,
    )
)]
pub async fn create_segment(
    State(state): State<AppState>,
    _: JsonContentType,
    Caller(caller): Caller,
    actor: Actor,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::WriteDefinitions)?;
    let new = new_segment_from_json(&json_object(&body?)?)?;
    caller.require_in(Action::WriteDefinitions, new.environment)?;
    let segment = state
        .admin
        .create_segment(new, &actor)
        .await
        .map_err(store_error)?;
    Ok((StatusCode::CREATED, Json(SegmentBody { segment })).into_response())
}

#[utoipa::path(
    get,
    path = "/segments",
    tag = "segments",
    operation_id = "listSegments",
    summary = "List segments",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("environment" = Option<schemas::Environment>, Query, description = "Only segments of this environment (empty: no filter)"), ("key" = Option<String>, Query, description = "Only segments with this key (empty: no filter)")),
    responses(
        (status = 200, description = "Sorted by key, then environment", body = schemas::SegmentList),
        (status = 400, description = "An unknown or repeated query parameter, or a bad filter value", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn list_segments(
    State(state): State<AppState>,
    Caller(caller): Caller,
    uri: Uri,
) -> Result<Json<SegmentsBody>, ApiError> {
    let params = QueryParams::read(&uri, LIST_PARAMS)?;
    let filter = SegmentFilter {
        environment: params.parsed("environment", Environment::parse)?,
        key: params.parsed("key", SegmentKey::parse)?,
    };
    let shown = scope::listed(&caller, filter.environment)?;
    let mut list = state.store.list_segments(&filter).await?;
    if let Some(shown) = shown {
        list.segments
            .retain(|segment| shown.contains(segment.environment));
        list.unreadable.retain(|row| {
            caller
                .environments
                .contains_all(scope::stored_environment(&row.environment))
        });
    }
    Ok(Json(SegmentsBody::from(list)))
}

#[utoipa::path(
    get,
    path = "/segments/{id}",
    tag = "segments",
    operation_id = "getSegment",
    summary = "Get a segment",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("id" = String, Path, description = "The segment's id (a UUID; anything else is 404)")),
    responses(
        (status = 200, description = "The segment", body = schemas::SegmentBody),
        (status = 404, description = "No segment with this id", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn get_segment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    Path(id): Path<String>,
) -> Result<Json<SegmentBody>, ApiError> {
    let id = segment_id(&id)?;
    check_segment(&state, &caller, Action::ReadDefinitions, id).await?;
    let segment = state.store.get_segment(id).await.map_err(store_error)?;
    Ok(Json(SegmentBody { segment }))
}

#[utoipa::path(
    put,
    path = "/segments/{id}",
    tag = "segments",
    operation_id = "updateSegment",
    summary = "Update a segment (fields left out stay)",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("id" = String, Path, description = "The segment's id (a UUID; anything else is 404)"), ("If-Match" = Option<String>, Header, description = "Compare-and-set: the segment's version, e.g. `3` or `\"3\"`; `*` matches any"), ("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    request_body(content = schemas::SegmentUpdate, content_type = "application/json"),
    responses(
        (status = 200, description = "Updated, at version + 1 (unchanged when nothing changes)", body = schemas::SegmentBody),
        (status = 400, description = "Invalid: the message names the field (`key`, `environment`: cannot change); a bad `If-Match`", body = schemas::ErrorBody),
        (status = 404, description = "No segment with this id", body = schemas::ErrorBody),
        (status = 409, description = "`If-Match` names another version, or the change would take away what other flags name", body = schemas::ErrorBody),
        BodyErrors,
        AdminErrors,
    )
)]
pub async fn update_segment(
    State(state): State<AppState>,
    _: JsonContentType,
    Caller(caller): Caller,
    actor: Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<SegmentBody>, ApiError> {
    let id = segment_id(&id)?;
    caller.require(Action::WriteDefinitions)?;
    let expected = if_match(&headers)?;
    let patch = patch_from_json(&json_object(&body?)?)?;
    check_segment(&state, &caller, Action::WriteDefinitions, id).await?;
    let segment = state
        .admin
        .update_segment(id, patch, expected, &actor)
        .await
        .map_err(store_error)?;
    Ok(Json(SegmentBody { segment }))
}

#[utoipa::path(
    delete,
    path = "/segments/{id}",
    tag = "segments",
    operation_id = "deleteSegment",
    summary = "Delete a segment",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(("id" = String, Path, description = "The segment's id (a UUID; anything else is 404)"), ("If-Match" = Option<String>, Header, description = "Compare-and-set: the segment's version; `*` matches any"), ("x-actor" = Option<String>, Header, description = "A note on who acts, kept in the audit entry (`note`): trimmed, at most 200 visible ASCII characters (else 400)")),
    responses(
        (status = 204, description = "Deleted (its audit entries stay)"),
        (status = 400, description = "A bad `If-Match` or `x-actor`", body = schemas::ErrorBody),
        (status = 404, description = "No segment with this id", body = schemas::ErrorBody),
        (status = 409, description = "`If-Match` names another version, or other flags name it", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
pub async fn delete_segment(
    State(state): State<AppState>,
    Caller(caller): Caller,
    actor: Actor,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let id = segment_id(&id)?;
    let expected = if_match(&headers)?;
    check_segment(&state, &caller, Action::WriteDefinitions, id).await?;
    state
        .admin
        .delete_segment(id, expected, &actor)
        .await
        .map_err(store_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn object(json: &str) -> Map<String, Value> {
        json_object(json.as_bytes()).unwrap()
    }

    fn bad_request(result: Result<impl std::fmt::Debug, ApiError>) -> String {
        match result {
            Err(ApiError::BadRequest(m)) => m,
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn creates_need_an_environment_and_known_fields() {
        let ok = new_segment_from_json(&object(r#"{"key": "beta", "environment": "dev"}"#));
        let ok = ok.unwrap();
        assert_eq!(ok.environment, Environment::Dev);
        assert!(ok.segment.include.is_empty() && ok.segment.rules.is_empty());
        assert_eq!(
            bad_request(new_segment_from_json(&object(r#"{"key": "beta"}"#))),
            "environment: required"
        );
        assert_eq!(
            bad_request(new_segment_from_json(&object(
                r#"{"key": "beta", "environment": "dev", "version": 1}"#
            ))),
            "version: unknown field"
        );
        assert_eq!(
            bad_request(new_segment_from_json(&object(
                r#"{"key": "beta", "environment": "dev", "include": ["a", "a"]}"#
            ))),
            "include[1]: \"a\" is listed twice"
        );
    }

    #[test]
    fn patches_hold_only_known_fields() {
        assert_eq!(
            patch_from_json(&object(r#"{"include": []}"#))
                .unwrap()
                .fields
                .len(),
            1
        );
        assert_eq!(
            bad_request(patch_from_json(&object(r#"{"key": "other"}"#))),
            "key: unknown field"
        );
    }
}
