//! The HTTP API, one module per concern.

mod audit;
mod content_type;
mod cors;
mod evaluate;
mod flags;
mod health;
mod kill_switch;
mod query;
mod scope;
mod segments;
mod snapshot;
mod tokens;

use axum::extract::DefaultBodyLimit;
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::routing::{get, post};
use axum::{middleware, Router};
use http_contract::{path, MAX_BODY_BYTES};
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::http::auth;
use crate::http::error::ApiError;
use crate::http::state::AppState;

pub use self::flags::new_flag_from_json;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole service as a `Router`, so tests can serve it in-process.
pub fn router(state: AppState) -> Router {
    let admin = Router::new()
        .route("/flags", get(flags::list_flags).post(flags::create_flag))
        .route(
            "/flags/{id}",
            get(flags::get_flag)
                .put(flags::update_flag)
                .delete(flags::delete_flag),
        )
        .route(
            "/segments",
            get(segments::list_segments).post(segments::create_segment),
        )
        .route(
            "/segments/{id}",
            get(segments::get_segment)
                .put(segments::update_segment)
                .delete(segments::delete_segment),
        )
        .route("/kill-switch", post(kill_switch::kill_flag))
        .route("/audit", get(audit::list_audit_entries))
        .route(
            "/tokens",
            get(tokens::list_tokens).post(tokens::create_token),
        )
        .route(
            "/tokens/{id}",
            get(tokens::get_token).delete(tokens::revoke_token),
        )
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    Router::new()
        // The two public routes answer browsers on any origin (see `cors`); the others do not.
        .route(path::EVALUATE, cors::public(post(evaluate::evaluate_flags)))
        .route(path::SNAPSHOT, get(snapshot::get_snapshot))
        .route(path::HEALTH, cors::public(get(health::check_health)))
        .nest("/api/admin", admin)
        .fallback(|| async { ApiError::NotFound(http_contract::error::NO_SUCH_ENDPOINT.into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
        // Outermost last: the id is set first, is in the span, and is copied onto the response.
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
            let id = request
                .headers()
                .get(REQUEST_ID)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = id)
        }))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
        // Every answer is JSON or nothing: no browser may sniff it into something it would run.
        .layer(SetResponseHeaderLayer::overriding(
            X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}

/// Request ids: random UUIDs (v4), so an id says nothing about how many requests came before it.
/// The bits come from the thread's CSPRNG (ChaCha, seeded and reseeded from the OS), not a
/// syscall per request.
#[derive(Debug, Clone, Copy)]
struct RequestIds;

impl RequestIds {
    fn new() -> Self {
        Self
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &Request<B>) -> Option<RequestId> {
        let bytes: [u8; 16] = rand::random();
        let id = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        let text = id.hyphenated().encode_lower(&mut text);
        HeaderValue::from_str(text).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids_are_random_uuids() {
        let request = Request::new(());
        let ids: Vec<String> = (0..1000)
            .map(|_| {
                let id = RequestIds::new().make_request_id(&request).unwrap();
                id.header_value().to_str().unwrap().to_owned()
            })
            .collect();
        for id in &ids {
            let parsed = uuid::Uuid::parse_str(id).unwrap();
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(id, &parsed.hyphenated().to_string());
        }
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }
}
