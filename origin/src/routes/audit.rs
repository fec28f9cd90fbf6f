//! `GET /api/admin/audit?entityId=&limit=&before=`: the audit log, newest first, by cursor.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{AuditEntry, AuditQuery, UnreadableEntry};

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 500;

/// Unknown parameters are refused, as a misspelt `entityId` would silently widen the query.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuditParams {
    entity_id: Option<String>,
    limit: Option<String>,
    before: Option<String>,
}

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

fn parse_query(params: AuditParams) -> Result<AuditQuery, ApiError> {
    let limit = match params.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(raw) => raw
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "limit: must be a whole number from 1 to {MAX_LIMIT}"
                ))
            })?,
    };
    let before = match params.before.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(decode_cursor(raw)?),
    };
    Ok(AuditQuery {
        entity_id: params.entity_id.filter(|e| !e.is_empty()),
        limit,
        before,
    })
}

pub async fn list_audit_entries(
    State(state): State<AppState>,
    params: Result<Query<AuditParams>, QueryRejection>,
) -> Result<Json<AuditBody>, ApiError> {
    let Query(params) = params?;
    let page = state.store.audit(&parse_query(params)?).await?;
    Ok(Json(AuditBody {
        entries: page.entries,
        next_cursor: page.next_cursor.map(encode_cursor),
        unreadable: page.unreadable,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(limit: Option<&str>, before: Option<&str>) -> AuditParams {
        AuditParams {
            entity_id: None,
            limit: limit.map(str::to_owned),
            before: before.map(str::to_owned),
        }
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
        assert_eq!(parse_query(params(None, None)).unwrap().limit, 50);
        assert_eq!(parse_query(params(Some("500"), None)).unwrap().limit, 500);
        for bad in ["0", "501", "-1", "ten", "1.5"] {
            assert!(parse_query(params(Some(bad), None)).is_err(), "{bad}");
        }
    }
}
