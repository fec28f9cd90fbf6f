//! `GET /api/admin/audit?entityId=&limit=&before=`: the audit log, newest first, by cursor.

use axum::extract::State;
use axum::http::Uri;
use axum::Json;
use serde::Serialize;
use uuid::Uuid;

use super::query::QueryParams;
use crate::access::{Action, Role};
use crate::http::auth::Caller;
use crate::http::error::ApiError;
use crate::http::openapi::responses::AdminErrors;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::store::{AuditEntry, AuditQuery, UnreadableEntry};

const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// Unknown parameters are refused, as a misspelt `entityId` would silently widen the query.
const AUDIT_PARAMS: &[&str] = &["entityId", "limit", "before"];

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditBody {
    entries: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    next_cursor: Option<String>,
    /// Entries of this page whose own columns cannot be read, left out of `entries`; only when
    /// there are some.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unreadable: Vec<UnreadableEntry>,
}

/// Cursors are opaque to clients. Inside, a cursor is the log position of the last entry of the
/// previous page: positions only grow, so a page boundary stays put while new entries arrive.
fn encode_cursor(seq: i64) -> String {
    format!("a{seq:x}")
}

fn decode_cursor(cursor: &str) -> Result<i64, ApiError> {
    cursor
        .strip_prefix('a')
        .filter(|hex| !hex.is_empty() && hex.len() <= 16)
        .and_then(|hex| i64::from_str_radix(hex, 16).ok())
        .filter(|seq| *seq > 0)
        .ok_or_else(|| ApiError::BadRequest("before: not a cursor returned by this API".into()))
}

/// `limit` in canonical decimal only (`5`, not `05`, `+5` or `5.0`): one spelling per value.
fn parse_limit(raw: Option<&str>) -> Result<u32, ApiError> {
    let Some(raw) = raw else {
        return Ok(DEFAULT_LIMIT);
    };
    let canonical = raw.bytes().all(|b| b.is_ascii_digit()) && !raw.starts_with('0');
    canonical
        .then(|| raw.parse::<u32>().ok())
        .flatten()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "limit: must be a whole number from 1 to {MAX_LIMIT}, in decimal digits without \
                 a sign or leading zeros"
            ))
        })
}

/// A flag id is accepted in every spelling the paths accept (`{…}`, upper case, without hyphens,
/// `urn:uuid:`) and looked up in the stored form; any other value names another kind of entity and
/// is matched exactly.
fn entity_id(raw: &str) -> String {
    Uuid::parse_str(raw).map_or_else(|_| raw.to_owned(), |id| id.to_string())
}

fn parse_query(params: &QueryParams) -> Result<AuditQuery, ApiError> {
    Ok(AuditQuery {
        entity_id: params.get("entityId").map(entity_id),
        limit: parse_limit(params.get("limit"))?,
        before: params.get("before").map(decode_cursor).transpose()?,
        environments: None,
    })
}

#[utoipa::path(
    get,
    path = "/audit",
    tag = "audit",
    operation_id = "listAuditEntries",
    summary = "The audit log, newest first",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(
        ("entityId" = Option<String>, Query, description = "Only entries about this flag or segment (any spelling of its UUID)"),
        ("limit" = Option<u32>, Query, minimum = 1, maximum = 500, description = "Entries per page, in plain decimal (default 50)"),
        ("before" = Option<String>, Query, description = "The `nextCursor` of the previous page"),
    ),
    responses(
        (status = 200, description = "A page of entries", body = schemas::AuditPage),
        (status = 400, description = "An unknown or repeated parameter, a bad `limit` or cursor", body = schemas::ErrorBody),
        AdminErrors,
    )
)]
/// An admin token reads every entry; any other reader the entries of its environments, so
/// neither the token entries (of no environment) nor those of other environments.
pub async fn list_audit_entries(
    State(state): State<AppState>,
    Caller(caller): Caller,
    uri: Uri,
) -> Result<Json<AuditBody>, ApiError> {
    caller.require(Action::ReadDefinitions)?;
    let params = QueryParams::read(&uri, AUDIT_PARAMS)?;
    let mut query = parse_query(&params)?;
    if caller.role != Role::Admin {
        query.environments = Some(caller.environments);
    }
    let page = state.store.audit(&query).await?;
    Ok(Json(AuditBody {
        entries: page.entries,
        next_cursor: page.next_cursor.map(encode_cursor),
        unreadable: page.unreadable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(query: &str) -> Result<AuditQuery, ApiError> {
        let uri: Uri = format!("/audit?{query}").parse().expect("a uri");
        parse_query(&QueryParams::read(&uri, AUDIT_PARAMS)?)
    }

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        for seq in [1, 42, i64::MAX] {
            assert_eq!(decode_cursor(&encode_cursor(seq)).unwrap(), seq);
        }
        for bad in ["", "a", "42", "a-1", "azz", "a0", "a10000000000000000"] {
            assert!(decode_cursor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limits_default_and_are_bounded() {
        assert_eq!(query("").unwrap().limit, 50);
        assert_eq!(query("limit=").unwrap().limit, 50);
        assert_eq!(query("limit=500").unwrap().limit, 500);
        assert_eq!(query("limit=1").unwrap().limit, 1);
        assert_eq!(query("limit=10").unwrap().limit, 10);
        for bad in [
            "0",
            "501",
            "-1",
            "ten",
            "1.5",
            "05",
            "%2B5",
            "+5",
            "00",
            "%205",
            "5%20",
            "1e2",
            "4294967301",
        ] {
            match query(&format!("limit={bad}")) {
                Err(ApiError::BadRequest(m)) => assert_eq!(
                    m,
                    "limit: must be a whole number from 1 to 500, in decimal digits without a \
                     sign or leading zeros",
                    "{bad}"
                ),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }

    #[test]
    fn flag_ids_are_found_in_every_spelling_other_entities_exactly() {
        let stored = "67e55044-10b1-426f-9247-bb680e5fe0c8";
        for spelling in [
            stored,
            "67E55044-10B1-426F-9247-BB680E5FE0C8",
            "%7B67e55044-10b1-426f-9247-bb680e5fe0c8%7D",
            "67e5504410b1426f9247bb680e5fe0c8",
            "urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8",
        ] {
            let q = query(&format!("entityId={spelling}")).unwrap();
            assert_eq!(q.entity_id.as_deref(), Some(stored), "{spelling}");
        }
        let other = query("entityId=Segment-7").unwrap();
        assert_eq!(other.entity_id.as_deref(), Some("Segment-7"));
        assert_eq!(query("entityId=").unwrap().entity_id, None);
    }
}
