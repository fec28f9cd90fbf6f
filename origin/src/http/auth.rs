//! Token checks for the admin and edge endpoints, and the `x-actor` header.

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use subtle::ConstantTimeEq;

use crate::config::Secret;
use crate::http::error::ApiError;
use crate::http::state::AppState;

const ADMIN_TOKEN_HEADER: &str = "x-admin-token";
/// The edge worker sends it too (`http_contract`).
const EDGE_TOKEN_HEADER: &str = http_contract::header::EDGE_TOKEN;
const ACTOR_HEADER: &str = "x-actor";
const DEFAULT_ACTOR: &str = "admin";
const MAX_ACTOR_LEN: usize = 200;

/// Compares without an early exit on the first differing byte, so response times do not reveal how
/// much of a guess was right. (Only the length can leak, which a random token does not protect.)
fn token_matches(given: &[u8], expected: &Secret) -> bool {
    given.ct_eq(expected.expose().as_bytes()).into()
}

fn check(headers: &HeaderMap, header: &str, expected: Option<&Secret>) -> Result<(), ApiError> {
    let expected = expected.ok_or(ApiError::Unauthorized("no edge token is configured"))?;
    match headers.get(header) {
        Some(given) if token_matches(given.as_bytes(), expected) => Ok(()),
        Some(_) => Err(ApiError::Unauthorized("invalid token")),
        None => Err(ApiError::Unauthorized("missing token")),
    }
}

/// Middleware in front of every admin route: answers 401 before the body is read.
pub async fn require_admin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    check(
        request.headers(),
        ADMIN_TOKEN_HEADER,
        Some(&state.admin_token),
    )?;
    Ok(next.run(request).await)
}

pub fn require_edge(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    check(headers, EDGE_TOKEN_HEADER, state.edge_token.as_ref())
}

/// Who acts, for the audit log: the `x-actor` header, `"admin"` when absent or blank.
#[derive(Debug, Clone)]
pub struct Actor(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(ACTOR_HEADER) else {
            return Ok(Self(DEFAULT_ACTOR.into()));
        };
        let actor = value
            .to_str()
            .map_err(|_| ApiError::BadRequest("x-actor: must be visible ASCII".into()))?
            .trim();
        if actor.len() > MAX_ACTOR_LEN {
            return Err(ApiError::BadRequest(format!(
                "x-actor: longer than {MAX_ACTOR_LEN} characters"
            )));
        }
        Ok(Self(if actor.is_empty() {
            DEFAULT_ACTOR.into()
        } else {
            actor.to_owned()
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_match_exactly() {
        let secret = Secret::new("s3cret");
        assert!(token_matches(b"s3cret", &secret));
        assert!(!token_matches(b"s3cre", &secret));
        assert!(!token_matches(b"s3cret!", &secret));
        assert!(!token_matches(b"S3cret", &secret));
        assert!(!token_matches(b"", &secret));
    }
}
