//! CORS on the public endpoints, the same headers as the edge worker's (`edge-worker/src/api.rs`),
//! so a browser page can call either one on any origin.
//!
//! Only `POST /api/evaluate` and `GET /health` get them. The admin and snapshot endpoints stay
//! without CORS on purpose: a browser must not be invited to send the admin (or edge) token
//! cross-site, so a preflight there gets the usual 405 and no `access-control-*` header.

use axum::extract::Request;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The paths browsers may call from any origin.
const PUBLIC_PATHS: [&str; 2] = ["/api/evaluate", "/health"];

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

/// Answers a preflight on a public path with 204, and puts the CORS headers on every response of
/// those paths (errors included: a browser can only read a 400's message when they are there).
pub async fn public_cors(request: Request, next: Next) -> Response {
    if !PUBLIC_PATHS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let mut response = if request.method() == Method::OPTIONS {
        StatusCode::NO_CONTENT.into_response()
    } else {
        next.run(request).await
    };
    let headers = response.headers_mut();
    for (name, value) in CORS_HEADERS {
        headers.insert(name, value);
    }
    response
}
