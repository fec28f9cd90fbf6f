//! CORS on the public endpoints, the same headers as the edge worker's (`edge-worker/src/api.rs`),
//! so a browser page can call either one on any origin.
//!
//! Only `POST /api/evaluate` and `GET /health` get them. The admin and snapshot endpoints stay
//! without CORS on purpose: a browser must not be invited to send the admin (or edge) token
//! cross-site, so a preflight there gets the usual 405 and no `access-control-*` header.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;

use crate::error::ApiError;

/// Byte for byte the edge worker's `CORS_HEADERS`, so the two deployments answer browsers alike.
const CORS_HEADERS: [(HeaderName, HeaderValue); 5] = [
    (
        HeaderName::from_static("access-control-allow-origin"),
        HeaderValue::from_static("*"),
    ),
    (
        HeaderName::from_static("access-control-allow-methods"),
        HeaderValue::from_static("GET, POST, OPTIONS"),
    ),
    (
        HeaderName::from_static("access-control-allow-headers"),
        HeaderValue::from_static("content-type"),
    ),
    // The edge's snapshot headers; the origin does not send them, but a page written against
    // either deployment then sees the same preflight answer.
    (
        HeaderName::from_static("access-control-expose-headers"),
        HeaderValue::from_static("x-pennon-revision, x-pennon-snapshot"),
    ),
    (
        HeaderName::from_static("access-control-max-age"),
        HeaderValue::from_static("86400"),
    ),
];

/// A public route: `OPTIONS` is the preflight, and a wrong method gets its 405 with the headers.
///
/// Done per route, in the handlers, rather than as a router-wide middleware: nothing to decide
/// from the path at run time, and no extra boxed layer on the hot path.
pub fn public<S>(route: MethodRouter<S>) -> MethodRouter<S>
where
    S: Clone + Send + Sync + 'static,
{
    route.options(preflight).fallback(method_not_allowed)
}

/// The CORS headers onto a response of a public route (errors included: a browser can only read
/// a 400's message when they are there).
pub fn with_cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.reserve(CORS_HEADERS.len());
    for (name, value) in CORS_HEADERS {
        headers.insert(name, value);
    }
    response
}

async fn preflight() -> Response {
    with_cors(StatusCode::NO_CONTENT.into_response())
}

async fn method_not_allowed() -> Response {
    with_cors(ApiError::MethodNotAllowed(super::METHOD_NOT_ALLOWED).into_response())
}
