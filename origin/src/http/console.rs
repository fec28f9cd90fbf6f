//! The web console (`console/`, docs/console.md): its built files, embedded in the binary by
//! `build.rs` from the committed `console/dist/`, served at `GET /` (the page) and
//! `GET /assets/{file}` (what Vite built, each named by a hash of its content).
//!
//! Both routes are described in the OpenAPI document (tag `console`) and registered through
//! `routes!` like every other, so the document still names every route the server has. Nothing
//! else is served: the console routes by the URL's fragment (`/#/flags/...`), which never reaches
//! the server, so there is no fallback to the page and an unknown path stays the JSON 404.
//!
//! Every answer carries a strict Content-Security-Policy: the page may load and fetch only from
//! this origin, run only its own scripts (`'wasm-unsafe-eval'` lets it compile the evaluator's
//! WebAssembly, which `'self'` does not cover), and be framed by nobody.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};

use crate::http::error::ApiError;
use crate::http::openapi::schemas;

mod files {
    include!(concat!(env!("OUT_DIR"), "/console_files.rs"));
}

/// What the console's page may load and run.
pub const CONTENT_SECURITY_POLICY_VALUE: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
/// The page is small and names the current assets: revalidated on every load.
const PAGE_CACHE: &str = "no-cache";
/// An asset's name changes with its content, so a cached copy never goes stale.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";

fn file(path: &str) -> Option<&'static [u8]> {
    files::FILES
        .binary_search_by(|(name, _)| (*name).cmp(path))
        .ok()
        .map(|i| files::FILES[i].1)
}

/// The content type of a built file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("svg") => "image/svg+xml",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn answer(path: &str, body: &'static [u8], cache: &'static str) -> Response {
    (
        [
            (CONTENT_TYPE, content_type(path)),
            (CACHE_CONTROL, cache),
            (CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY_VALUE),
        ],
        body,
    )
        .into_response()
}

#[utoipa::path(
    get,
    path = "/",
    tag = "console",
    operation_id = "getConsole",
    summary = "The web console's page (docs/console.md)",
    description = "The console's HTML page; it signs in with a token and calls the admin API. `Cache-Control: no-cache`, and a Content-Security-Policy that allows this origin only.",
    responses(
        (status = 200, description = "The page", body = String, content_type = "text/html; charset=utf-8",
            headers(
                ("Cache-Control" = String, description = "`no-cache`"),
                ("Content-Security-Policy" = String, description = "`default-src 'self'`, scripts from this origin and `'wasm-unsafe-eval'`"),
            )),
        (status = 500, description = "An internal error", body = schemas::ErrorBody),
    )
)]
pub async fn get_console() -> Result<Response, ApiError> {
    let page = file("index.html")
        .ok_or_else(|| ApiError::Internal("the console's index.html is not embedded".into()))?;
    Ok(answer("index.html", page, PAGE_CACHE))
}

#[utoipa::path(
    get,
    path = "/assets/{file}",
    tag = "console",
    operation_id = "getConsoleAsset",
    summary = "A file of the web console (script, style sheet, WebAssembly, icon)",
    description = "Named by a hash of its content, so cached for a year (`immutable`).",
    params(("file" = String, Path, description = "The file's name, as the page names it")),
    responses(
        (status = 200, description = "The file",
            content(
                (String = "text/javascript; charset=utf-8"),
                (String = "text/css; charset=utf-8"),
                (String = "application/wasm"),
                (String = "image/svg+xml"),
            ),
            headers(
                ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
                ("Content-Security-Policy" = String, description = "As on the page"),
            )),
        (status = 404, description = "No such file", body = schemas::ErrorBody),
    )
)]
pub async fn get_console_asset(Path(name): Path<String>) -> Result<Response, ApiError> {
    let path = format!("assets/{name}");
    let body = file(&path).ok_or_else(|| ApiError::NotFound("no such console file".into()))?;
    Ok(answer(&path, body, ASSET_CACHE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_console_is_embedded_and_sorted() {
        assert!(file("index.html").is_some());
        assert!(files::FILES.windows(2).all(|w| w[0].0 < w[1].0));
        let page = std::str::from_utf8(file("index.html").unwrap()).unwrap();
        for (name, _) in files::FILES.iter().filter(|(n, _)| n.ends_with(".js")) {
            assert!(name.starts_with("assets/"), "{name}");
            if name.contains("/index-") {
                assert!(
                    page.contains(&format!("/{name}")),
                    "{name} is not on the page"
                );
            }
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type("assets/index-1.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("assets/a.wasm"), "application/wasm");
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }
}
