//! `GET /api/flags/snapshot?environment=`: what the edge worker syncs from, with ETag and 304;
//! signed (`Pennon-Signature`) when the origin has a signing key, and `GET
//! /api/flags/signing-keys`, the public key that verifies it (`crate::signing`, docs/signing.md).

use super::query::QueryParams;
use crate::access::Action;
use crate::http::auth::verify;
use crate::http::error::ApiError;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::HeaderValue;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use evaluator::Environment;

/// `environment` and nothing else, as the admin reads: the edge worker sends only that
/// (`edge-worker/src/config.rs`, `snapshot_url`), and a misspelt one must not go unnoticed.
const SNAPSHOT_PARAMS: &[&str] = &["environment"];

/// True when `If-None-Match` lists `etag` (weak or strong) or is `*`.
fn matches_etag(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|value| http_contract::conditional::none_match_holds(value, etag))
}

#[utoipa::path(
    get,
    path = "/api/flags/snapshot",
    tag = "edge",
    operation_id = "getSnapshot",
    summary = "An environment's flags and segments, for the edge workers",
    description = "Roles server, viewer, editor or admin, for the environment.",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    params(
        ("environment" = schemas::Environment, Query, description = "Required"),
        ("If-None-Match" = Option<String>, Header, description = "An ETag held (`\"7\"`, weak or strong, or a list; `*`): 304 when current"),
    ),
    responses(
        (status = 200, description = "The snapshot", body = schemas::Snapshot, headers(
            ("ETag" = String, description = "The revision, quoted: `\"7\"`"),
            ("Cache-Control" = String, description = "`no-cache`"),
            ("Pennon-Signature" = String, description = "Only when the origin signs (`SNAPSHOT_SIGNING_KEY`): `v1; key=<key id>; env=<environment>; version=<revision>; issued=<ms>; expires=<ms>; sig=<base64url>`, an Ed25519 signature over `pennon-snapshot-v1 LF <env> LF <version> LF <issued> LF <expires> LF` followed by the exact body bytes (docs/signing.md). The key id is the first 8 bytes of SHA-256 over the public key, in hex; the public keys are at `GET /api/flags/signing-keys`"),
        )),
        (status = 304, description = "`If-None-Match` holds the current revision; no body", headers(
            ("ETag" = String, description = "The revision, quoted"),
            ("Cache-Control" = String, description = "`no-cache`"),
            ("Pennon-Signature" = String, description = "Only when the origin signs: a fresh signature of the body the client holds (the current one, whose ETag it sent), as on a 200, so that a client holding the body can renew its expiry without downloading it again"),
        )),
        (status = 400, description = "`environment` missing or invalid, or an unknown query parameter", body = schemas::ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token (or no token configured)", body = schemas::ErrorBody),
        (status = 403, description = "A valid token without the role or the environment", body = schemas::ErrorBody),
        (status = 500, description = "An internal error", body = schemas::ErrorBody),
        (status = 503, description = "The environment's flags cannot be loaded from anywhere", body = schemas::ErrorBody),
    )
)]
pub async fn get_snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    let caller = verify(&state, &headers)?;
    caller.require(Action::ReadSnapshot)?;
    let params = QueryParams::read(&uri, SNAPSHOT_PARAMS)?;
    let environment = params
        .parsed("environment", Environment::parse)?
        .ok_or_else(|| ApiError::BadRequest("environment: missing".into()))?;
    caller.require_in(Action::ReadSnapshot, environment)?;
    let set = state.flags.get(environment).await?;
    let etag = format!("\"{}\"", set.revision);
    let caching = [(ETAG, etag.clone()), (CACHE_CONTROL, "no-cache".to_owned())];
    // A 304 is signed too, over the body it stands for (the one whose ETag the client sent).
    let signature = match &state.signer {
        Some(signer) => {
            let header = signer.header(environment, set.revision, &set.snapshot_json);
            Some(HeaderValue::from_str(&header).map_err(ApiError::internal)?)
        }
        None => None,
    };
    let mut response = if matches_etag(&headers, &etag) {
        (StatusCode::NOT_MODIFIED, caching).into_response()
    } else {
        (
            caching,
            [(CONTENT_TYPE, "application/json")],
            set.snapshot_json.clone(),
        )
            .into_response()
    };
    if let Some(value) = signature {
        response
            .headers_mut()
            .insert(http_contract::signature::HEADER, value);
    }
    Ok(response)
}

/// `{"keys": [...]}`: the public keys that verify snapshot signatures.
#[derive(Debug, serde::Serialize)]
struct SigningKeys {
    keys: Vec<crate::signing::PublicKey>,
}

#[utoipa::path(
    get,
    path = "/api/flags/signing-keys",
    tag = "edge",
    operation_id = "getSigningKeys",
    summary = "The public keys that verify snapshot signatures",
    description = "A JSON Web Key Set (RFC 7517; Ed25519 keys as RFC 8037 writes them). Public: \
        no token needed. Empty when the origin does not sign. A verifier should be configured \
        with these keys out of band (the edge's `SNAPSHOT_PUBLIC_KEYS`, the npm package's \
        `publicKeys`) rather than trust what it fetches from the origin it verifies.",
    responses(
        (status = 200, description = "The keys (none when snapshots are unsigned)", body = schemas::SigningKeys),
    )
)]
pub async fn get_signing_keys(State(state): State<AppState>) -> Response {
    let keys = state
        .signer
        .iter()
        .map(|signer| signer.public_key())
        .collect();
    Json(SigningKeys { keys }).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn if_none_match_forms() {
        assert!(matches_etag(&with("\"3\""), "\"3\""));
        assert!(matches_etag(&with("W/\"3\""), "\"3\""));
        assert!(matches_etag(&with("\"1\", \"3\""), "\"3\""));
        assert!(matches_etag(&with("*"), "\"3\""));
        assert!(!matches_etag(&with("\"2\""), "\"3\""));
        assert!(!matches_etag(&HeaderMap::new(), "\"3\""));
    }
}
