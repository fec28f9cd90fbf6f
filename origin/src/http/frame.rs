//! What every request and its response pass through, around the router: the request id (a given
//! `x-request-id` is kept, else a random one is made; either is copied onto the response), the
//! request's span and its log lines (and, when traces are exported, the response's status on the
//! span), `X-Content-Type-Options: nosniff` on every answer, and the body limit the extractors
//! apply.
//!
//! Opened and closed by the server's per-request service and future (`server::ConnService`,
//! `server::Answer`) rather than added as tower layers with `Router::layer`: axum wraps every route
//! in a boxed service of its own for each such layer, cloned and boxed again on every request.
//! Here the same work is a few header operations, with no allocation of its own but the id.

use std::time::Instant;

use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::http::{HeaderName, HeaderValue, Request, Response};
use http_contract::MAX_BODY_BYTES;
use tracing::Span;

use crate::metrics::{HttpMetrics, Series};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// One request between its arrival and its response.
#[derive(Debug)]
pub struct Frame {
    id: HeaderValue,
    span: Span,
    started: Instant,
    /// Where the request is counted (`GET /metrics`); found here, where the path is at hand.
    series: Series,
}

impl Frame {
    /// Gives `request` its id (when it came without one) and the body limit, and opens its span.
    pub fn open(request: &mut Request<Body>, metrics: &HttpMetrics) -> Self {
        let id = match request.headers().get(REQUEST_ID) {
            Some(given) => given.clone(),
            None => {
                let id = new_request_id();
                request.headers_mut().insert(REQUEST_ID, id.clone());
                id
            }
        };
        DefaultBodyLimit::max(MAX_BODY_BYTES).apply(request);
        let span = tracing::info_span!(
            "request",
            method = %request.method(),
            path = %request.uri().path(),
            request_id = id.to_str().unwrap_or(""),
        );
        tracing::debug!(parent: &span, "started processing request");
        let series = metrics.series(request.method(), request.uri().path());
        Self {
            id,
            span,
            started: Instant::now(),
            series,
        }
    }

    /// The request's span, entered while its response is being made.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Puts the id and `nosniff` on the response (an id the handler set stays), counts it, and
    /// logs it: a server error (5xx) at `error`, anything else at `debug`.
    pub fn close<B>(self, response: &mut Response<B>, metrics: &HttpMetrics) {
        let Self {
            id,
            span,
            started,
            series,
        } = self;
        let headers = response.headers_mut();
        if !headers.contains_key(REQUEST_ID) {
            headers.insert(REQUEST_ID, id);
        }
        // Every answer is JSON or nothing: no browser may sniff it into something it would run.
        headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        let status = response.status();
        let elapsed = started.elapsed();
        metrics.record(series, status, elapsed);
        let latency_ms = elapsed.as_secs_f64() * 1e3;
        if crate::traces::is_on() {
            crate::traces::record_response(&span, status);
        }
        if status.is_server_error() {
            tracing::error!(parent: &span, status = status.as_u16(), latency_ms, "response failed");
        } else {
            tracing::debug!(parent: &span, status = status.as_u16(), latency_ms, "finished processing request");
        }
    }
}

/// A random UUID (v4), so an id says nothing about how many requests came before it. The bits
/// come from the thread's CSPRNG (ChaCha, seeded and reseeded from the OS), not a syscall per
/// request.
fn new_request_id() -> HeaderValue {
    let bytes: [u8; 16] = rand::random();
    let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let text = id.hyphenated().encode_lower(&mut text);
    // A hyphenated UUID is always a valid header value.
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static("invalid-request-id"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_random_uuids() {
        let ids: Vec<String> = (0..1000)
            .map(|_| new_request_id().to_str().unwrap().to_owned())
            .collect();
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(id, &parsed.hyphenated().to_string());
        }
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn a_given_id_is_kept_and_a_missing_one_made() {
        let metrics = HttpMetrics::default();
        let mut given = Request::builder()
            .header(REQUEST_ID, "trace-me-42")
            .body(Body::empty())
            .unwrap();
        let frame = Frame::open(&mut given, &metrics);
        let mut response = Response::new(());
        frame.close(&mut response, &metrics);
        assert_eq!(response.headers()[REQUEST_ID], "trace-me-42");
        assert_eq!(response.headers()[X_CONTENT_TYPE_OPTIONS], "nosniff");

        let mut fresh = Request::new(Body::empty());
        let frame = Frame::open(&mut fresh, &metrics);
        let made = fresh.headers()[REQUEST_ID].clone();
        let mut response = Response::new(());
        frame.close(&mut response, &metrics);
        assert_eq!(response.headers()[REQUEST_ID], made);
    }
}
