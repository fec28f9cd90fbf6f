//! The HTTP API, one module per concern.

mod audit;
mod content_type;
pub(super) mod cors;
mod evaluate;
mod flags;
mod health;
mod kill_switch;
mod ofrep;
mod query;
mod scope;
mod segments;
mod snapshot;
pub(crate) mod stream;
mod tokens;

use axum::extract::DefaultBodyLimit;
use axum::http::header::X_CONTENT_TYPE_OPTIONS;
use axum::http::{HeaderName, HeaderValue, Request};
use axum::{middleware, Router};
use http_contract::MAX_BODY_BYTES;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth;
use crate::http::error::ApiError;
use crate::http::openapi;
use crate::http::state::AppState;

pub use self::flags::new_flag_from_json;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The whole service as a `Router`, so tests can serve it in-process.
///
/// Every route is registered here through utoipa-axum's `routes!`, which takes the handlers' own
/// `#[utoipa::path]` descriptions and adds each handler and its description together (method and
/// path come from the description), so a route cannot exist without one: `OpenApiRouter::route`,
/// which would add an undescribed route, is not used (a unit test below reads this file to keep it
/// so), and the integration tests (`tests/api/openapi.rs`) check the served document against what
/// the server answers. The document is then built once (`split_for_parts`) and served from memory
/// by `/openapi.json`. The layers and fallbacks are the plain axum router's, as before.
pub fn router(state: AppState) -> Router {
    let admin = OpenApiRouter::new()
        .routes(routes!(flags::list_flags, flags::create_flag))
        .routes(routes!(
            flags::get_flag,
            flags::update_flag,
            flags::delete_flag
        ))
        .routes(routes!(segments::list_segments, segments::create_segment))
        .routes(routes!(
            segments::get_segment,
            segments::update_segment,
            segments::delete_segment
        ))
        .routes(routes!(kill_switch::kill_flag))
        .routes(routes!(audit::list_audit_entries))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::get_token, tokens::revoke_token))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::require_token,
        ));
    let document = openapi::Served::default();
    let (router, api) = OpenApiRouter::with_openapi(openapi::base())
        // The public routes answer browsers on any origin (see `cors`); the others do not.
        .routes(cors::public(routes!(evaluate::evaluate_flags)))
        .routes(cors::public(routes!(ofrep::evaluate_flag)))
        .routes(cors::public(routes!(ofrep::evaluate_flags)))
        .routes(cors::public(routes!(stream::stream_changes)))
        .routes(routes!(snapshot::get_snapshot))
        .routes(cors::public(routes!(health::check_health)))
        .routes(document.routes())
        .nest("/api/admin", admin)
        .split_for_parts();
    document.fill(api);
    router
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

    /// The router gets its routes only through `routes!` (each with its `#[utoipa::path]`), never
    /// through a call that takes a bare path and handler. Read from the source because axum cannot
    /// list a router's routes: the integration tests (`tests/api/openapi.rs`) check every path the
    /// document names against the server, both ways, but a route at a path the document does not
    /// name at all would be invisible to them; this closes that gap. The other module that builds
    /// a route (`openapi::Served::routes`) also goes through `routes!`.
    #[test]
    fn routes_are_only_added_with_their_description() {
        let sources = [
            ("routes/mod.rs", include_str!("mod.rs")),
            ("routes/cors.rs", include_str!("cors.rs")),
            ("openapi/mod.rs", include_str!("../openapi/mod.rs")),
        ];
        for (file, source) in sources {
            // This module's own text names the calls it looks for.
            let code = source.split("#[cfg(test)]").next().unwrap_or(source);
            let code = code.replace("OpenApiRouter::new(", "OpenApiRouter(");
            for bare in [
                ".route(",
                ".route_service(",
                ".nest_service(",
                ".merge(",
                "Router::new(",
                "routing::",
            ] {
                assert!(
                    !code.contains(bare),
                    "{file} registers a route with `{bare}`"
                );
            }
        }
        let code = include_str!("mod.rs");
        assert!(code.contains(".routes(routes!(") && code.contains(".split_for_parts()"));
    }

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
