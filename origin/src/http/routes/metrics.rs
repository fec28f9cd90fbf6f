//! `GET /metrics`: the origin's metrics for Prometheus (see `docs/metrics.md`).

use axum::extract::State;
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, VARY};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::access::{Action, EnvironmentSet};
use crate::http::auth::verify;
use crate::http::error::ApiError;
use crate::http::openapi::schemas;
use crate::http::state::AppState;
use crate::metrics::CONTENT_TYPE as METRICS_CONTENT_TYPE;

/// On the main port, behind a token: the counts name every environment's flags and variants, so
/// they are read with a role that may read those (server, viewer, editor, admin) for every
/// environment.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    operation_id = "getMetrics",
    summary = "The origin's metrics, for Prometheus",
    description = "OpenMetrics text (`application/openmetrics-text; version=1.0.0`), as written by `prometheus-client`. Roles server, viewer, editor or admin, for every environment. The families and labels are listed in `docs/metrics.md`. Gzipped (`Content-Encoding: gzip`) when `Accept-Encoding` allows it, as Prometheus asks.",
    security(("bearer" = []), ("adminTokenHeader" = []), ("edgeTokenHeader" = [])),
    responses(
        (status = 200, description = "The metrics", body = String,
         content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8"),
        (status = 401, description = "Missing, unknown or revoked token (or no token configured)", body = schemas::ErrorBody),
        (status = 403, description = "A valid token without the role or without every environment", body = schemas::ErrorBody),
        (status = 404, description = "The origin counts nothing (`METRICS=off`)", body = schemas::ErrorBody),
        (status = 500, description = "An internal error", body = schemas::ErrorBody),
    )
)]
pub async fn get_metrics(
    State(state): State<AppState>,
    headers_in: HeaderMap,
) -> Result<Response, ApiError> {
    if !state.counting {
        return Err(ApiError::NotFound(
            "metrics are off on this origin (METRICS=off)".into(),
        ));
    }
    let caller = verify(&state, &headers_in)?;
    caller.require_all(Action::ReadMetrics, EnvironmentSet::ALL)?;
    let text = state
        .metrics
        .render()
        .map_err(|err| ApiError::Internal(Box::new(err)))?;
    let headers = [
        (CONTENT_TYPE, METRICS_CONTENT_TYPE),
        (CACHE_CONTROL, "no-store"),
        (VARY, "accept-encoding"),
    ];
    if !accepts_gzip(&headers_in) {
        return Ok((headers, text).into_response());
    }
    let gzipped = gzip(text.as_bytes()).map_err(|err| ApiError::Internal(Box::new(err)))?;
    Ok((headers, [(CONTENT_ENCODING, "gzip")], gzipped).into_response())
}

/// Prometheus asks for gzip (`Accept-Encoding: gzip`); `gzip;q=0` refuses it.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|param| {
                param
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The fastest level: the text is repetitive (label names and values), so even level 1 takes it to
/// about a twentieth, for a fraction of a millisecond per 100 KB.
fn gzip(text: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(text.len() / 8),
        flate2::Compression::fast(),
    );
    encoder.write_all(text)?;
    encoder.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accepts(value: &str) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_str(value).unwrap());
        accepts_gzip(&headers)
    }

    #[test]
    fn gzip_is_sent_only_when_asked_for() {
        assert!(accepts("gzip"));
        assert!(accepts("identity, GZIP;q=0.5"));
        assert!(accepts("br, *"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn what_is_gzipped_reads_back() {
        use std::io::Read as _;
        let text = "pennon_build_info{version=\"1\"} 1\n".repeat(100);
        let mut back = String::new();
        flate2::read::GzDecoder::new(gzip(text.as_bytes()).unwrap().as_slice())
            .read_to_string(&mut back)
            .unwrap();
        assert_eq!(back, text);
    }
}
