//! Who is calling: the token a request presents, verified (`crate::tokens`), and the `x-actor` note.
//!
//! A token may come in `Authorization: Bearer …` or, as before tokens were scoped, in
//! `x-admin-token` or `x-edge-token`: the three carry the same tokens, and what a token may do
//! depends on the token, never on the header that carried it.

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::Response;

use crate::access::{Actor, Principal, MAX_NOTE_LEN};
use crate::http::error::ApiError;
use crate::http::rate_limit::{ClientAddr, RateKey, RouteClass};
use crate::http::state::AppState;
use crate::tokens::Unverified;

const ADMIN_TOKEN_HEADER: &str = "x-admin-token";
/// The edge worker sends it too (`http_contract`).
const EDGE_TOKEN_HEADER: &str = http_contract::header::EDGE_TOKEN;
const ACTOR_HEADER: &str = "x-actor";

/// The verified caller of a request, put in its extensions by [`require_token`].
#[derive(Debug, Clone)]
pub struct Caller(pub Arc<Principal>);

/// The alias headers of `Authorization: Bearer` on every route, in the order they are read.
const ALIASES: &[&str] = &[ADMIN_TOKEN_HEADER, EDGE_TOKEN_HEADER];
/// On the OFREP routes `X-API-Key` comes first: the header OFREP's providers send an API key in.
const OFREP_ALIASES: &[&str] = &[
    http_contract::header::API_KEY,
    ADMIN_TOKEN_HEADER,
    EDGE_TOKEN_HEADER,
];

/// The token a request presents, from the first of `Authorization: Bearer`, then `aliases`, that
/// is there; `None` when none is.
fn presented<'h>(headers: &'h HeaderMap, aliases: &[&str]) -> Result<Option<&'h [u8]>, ApiError> {
    if let Some(value) = headers.get(AUTHORIZATION) {
        let value = value.as_bytes().trim_ascii();
        // The scheme is case-insensitive (RFC 9110, 11.1); one or more spaces follow it.
        let (scheme, token) = match value.iter().position(|&b| b == b' ') {
            Some(space) => (&value[..space], value[space..].trim_ascii()),
            None => (value, &b""[..]),
        };
        if !scheme.eq_ignore_ascii_case(b"bearer") {
            return Err(ApiError::Unauthorized(
                "Authorization: only the Bearer scheme is accepted",
            ));
        }
        return Ok((!token.is_empty()).then_some(token));
    }
    Ok(aliases
        .iter()
        .find_map(|name| headers.get(*name))
        .map(|value| value.as_bytes()))
}

/// The caller, or 401 (no token, an unknown or revoked one) or 503 (tokens not loaded yet).
pub fn verify(state: &AppState, headers: &HeaderMap) -> Result<Arc<Principal>, ApiError> {
    let token = presented(headers, ALIASES)?.ok_or(ApiError::Unauthorized("missing token"))?;
    verify_token(state, token)
}

/// The caller of an OFREP request when it presents a token (`X-API-Key` too), verified: 401 for
/// an unknown or revoked one whatever `REQUIRE_CLIENT_TOKEN` says, and for none when it is on.
pub fn verify_ofrep(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Arc<Principal>>, ApiError> {
    match presented(headers, OFREP_ALIASES)? {
        Some(token) => verify_token(state, token).map(Some),
        None if state.require_client_token => Err(ApiError::Unauthorized("missing token")),
        None => Ok(None),
    }
}

fn verify_token(state: &AppState, token: &[u8]) -> Result<Arc<Principal>, ApiError> {
    state.tokens.verify(token).map_err(|err| match err {
        Unverified::Unknown => ApiError::Unauthorized("invalid token"),
        Unverified::Revoked => ApiError::Unauthorized("this token was revoked"),
        Unverified::NotLoaded => ApiError::TokensNotLoaded,
    })
}

/// Middleware in front of every admin route: answers 401 before the body is read (and 429 for a
/// write past `RATE_LIMIT_ADMIN_WRITES`), and leaves the caller in the request for the handler,
/// which checks its role and environments.
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let caller = verify(&state, request.headers())?;
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        state
            .rate_limits
            .check(RouteClass::AdminWrite, RateKey::Token(caller.id))?;
    }
    request.extensions_mut().insert(Caller(caller));
    Ok(next.run(request).await)
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            // A route that reads the caller without the middleware: a bug, never the client's.
            .ok_or(ApiError::Unauthorized("missing token"))
    }
}

/// The caller of `POST /api/evaluate`: `None` unless `REQUIRE_CLIENT_TOKEN` is on, so evaluation
/// costs nothing more while it is off (the default). The handler checks the environment once the
/// body has named it.
#[derive(Debug)]
pub struct EvaluationCaller(pub Option<Arc<Principal>>);

impl FromRequestParts<AppState> for EvaluationCaller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = if state.require_client_token {
            let caller = verify(state, &parts.headers)?;
            caller.require(crate::access::Action::Evaluate)?;
            Some(caller)
        } else {
            None
        };
        if state.rate_limits.is_limited(RouteClass::Evaluate) {
            let key = match &caller {
                Some(caller) => RateKey::Token(caller.id),
                None => parts
                    .extensions
                    .get::<ClientAddr>()
                    .map_or(RateKey::Unknown, |addr| RateKey::Address(addr.0)),
            };
            state.rate_limits.check(RouteClass::Evaluate, key)?;
        }
        Ok(Self(caller))
    }
}

/// Who acts, for the audit log: the verified token, with the `x-actor` header as a free-text note.
impl<S: Send + Sync> FromRequestParts<S> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Caller(caller) = Caller::from_request_parts(parts, state).await?;
        let note = match parts.headers.get(ACTOR_HEADER) {
            None => None,
            Some(value) => {
                let note = value
                    .to_str()
                    .map_err(|_| ApiError::BadRequest("x-actor: must be visible ASCII".into()))?
                    .trim();
                if note.len() > MAX_NOTE_LEN {
                    return Err(ApiError::BadRequest(format!(
                        "x-actor: longer than {MAX_NOTE_LEN} characters"
                    )));
                }
                (!note.is_empty()).then(|| note.to_owned())
            }
        };
        Ok(Actor::new(&caller, note))
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn a_token_comes_from_bearer_or_the_two_aliases() {
        let token = |pairs| presented(&headers(pairs), ALIASES).map(|t| t.map(<[u8]>::to_vec));
        assert_eq!(token(&[]).unwrap(), None);
        assert_eq!(
            token(&[("authorization", "Bearer abc")]).unwrap(),
            Some(b"abc".to_vec())
        );
        assert_eq!(
            token(&[("authorization", "bearer   abc ")]).unwrap(),
            Some(b"abc".to_vec())
        );
        assert_eq!(token(&[("authorization", "Bearer ")]).unwrap(), None);
        assert!(token(&[("authorization", "Basic YTpi")]).is_err());
        assert_eq!(
            token(&[("x-admin-token", "a"), ("x-edge-token", "e")]).unwrap(),
            Some(b"a".to_vec())
        );
        assert_eq!(
            token(&[("x-edge-token", "e")]).unwrap(),
            Some(b"e".to_vec())
        );
        // Authorization wins over the aliases.
        assert_eq!(
            token(&[("x-admin-token", "a"), ("authorization", "Bearer b")]).unwrap(),
            Some(b"b".to_vec())
        );
        // `X-API-Key` is read on the OFREP routes only, before the aliases, after Authorization.
        assert_eq!(token(&[("x-api-key", "k")]).unwrap(), None);
        let ofrep =
            |pairs| presented(&headers(pairs), OFREP_ALIASES).map(|t| t.map(<[u8]>::to_vec));
        assert_eq!(
            ofrep(&[("x-api-key", "k"), ("x-admin-token", "a")]).unwrap(),
            Some(b"k".to_vec())
        );
        assert_eq!(
            ofrep(&[("x-api-key", "k"), ("authorization", "Bearer b")]).unwrap(),
            Some(b"b".to_vec())
        );
    }
}
