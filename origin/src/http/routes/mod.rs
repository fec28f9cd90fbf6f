//! The HTTP API, one module per concern.

mod audit;
mod content_type;
mod contexts;
pub(super) mod cors;
mod evaluate;
mod flags;
mod health;
mod kill_switch;
mod metrics;
mod ofrep;
mod query;
mod scope;
mod segments;
mod snapshot;
pub(crate) mod stream;
mod tokens;
mod usage;

use axum::{middleware, Router};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::auth;
use crate::http::error::ApiError;
use crate::http::openapi;
use crate::http::state::AppState;

pub use self::flags::new_flag_from_json;

/// The whole service as a `Router`, so tests can serve it in-process.
///
/// Every route is registered here through utoipa-axum's `routes!`, which takes the handlers' own
/// `#[utoipa::path]` descriptions and adds each handler and its description together (method and
/// path come from the description), so a route cannot exist without one: `OpenApiRouter::route`,
/// which would add an undescribed route, is not used (a unit test below reads this file to keep it
/// so), and the integration tests (`tests/api/openapi.rs`) check the served document against what
/// the server answers. The document is then built once (`split_for_parts`) and served from memory
/// by `/openapi.json`. The fallbacks are the plain axum router's, as before.
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
        .routes(routes!(contexts::list_contexts))
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
        .routes(cors::public(routes!(snapshot::get_signing_keys)))
        .routes(routes!(usage::report_usage))
        .routes(cors::public(routes!(health::check_health)))
        .routes(routes!(metrics::get_metrics))
        .routes(document.routes())
        .nest("/api/admin", admin)
        .split_for_parts();
    // The request counts are labelled with these same templates, so the two cannot drift. With
    // `METRICS=off` the table is never made, and nothing is counted.
    if state.counting {
        state
            .http_metrics
            .set_routes(api.paths.paths.keys().map(String::as_str));
    }
    document.fill(api);
    // The request id, the span, `nosniff` and the body limit are added around the router by the
    // server (`crate::http::frame`), not as layers here: see there why.
    router
        .fallback(|| async { ApiError::NotFound(http_contract::error::NO_SUCH_ENDPOINT.into()) })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .with_state(state)
}

#[cfg(test)]
mod tests {
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
}
