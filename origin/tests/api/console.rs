//! The web console as the origin serves it (`origin/src/http/console.rs`): the page and its files
//! embedded in the binary, their content types, cache and security headers, nothing served at any
//! other path; and `GET /api/admin/whoami`, which it signs in with. What the console does in a
//! browser is tested by `scripts/test-console` (Chromium against the origin binary).

use serde_json::json;

use crate::helpers::{spawn_app, Backend, EDGE_TOKEN};

const CSP: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

#[tokio::test]
async fn the_page_and_its_files_are_served_with_their_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    let page = app.get("/").send().await;
    assert_eq!(page.status.as_u16(), 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_eq!(page.header("content-security-policy"), Some(CSP));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.text.starts_with("<!doctype html>"), "{}", page.text);
    let names: Vec<&str> = page
        .text
        .split('"')
        .filter(|s| s.starts_with("/assets/"))
        .collect();
    assert_eq!(names.len(), 3, "{}", page.text);
    let mut script = None;
    for name in names {
        let reply = app.get(name).send().await;
        assert_eq!(reply.status.as_u16(), 200, "{name}");
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(reply.header("content-security-policy"), Some(CSP));
        let expected = match name.rsplit('.').next() {
            Some("js") => "text/javascript; charset=utf-8",
            Some("css") => "text/css; charset=utf-8",
            Some("svg") => "image/svg+xml",
            other => panic!("unexpected file {other:?}"),
        };
        assert_eq!(reply.header("content-type"), Some(expected), "{name}");
        if expected.starts_with("text/javascript") {
            script = Some(reply.text);
        }
    }
    // The evaluator's WebAssembly, which the page loads when a user is tried.
    let script = script.expect("the page names its script");
    let browser_chunk = script
        .split(['"', '\'', '`', '/'])
        .find(|s| s.starts_with("browser-") && s.ends_with(".js"))
        .expect("the script imports the evaluator's chunk on demand");
    let chunk = app.get(&format!("/assets/{browser_chunk}")).send().await;
    assert_eq!(chunk.status.as_u16(), 200, "{browser_chunk}");
    let wasm_name = chunk
        .text
        .split(['"', '\'', '`', '/'])
        .find(|s| s.ends_with(".wasm"))
        .expect("the chunk names its wasm")
        .to_owned();
    let wasm = app
        .client
        .get(format!("{}/assets/{wasm_name}", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(wasm.status().as_u16(), 200);
    assert_eq!(wasm.headers()["content-type"], "application/wasm");
    let bytes = wasm.bytes().await.unwrap();
    assert_eq!(&bytes[..4], b"\0asm");
}

#[tokio::test]
async fn head_answers_the_page_and_other_methods_are_405() {
    let app = spawn_app(Backend::Sqlite).await;
    let head = app.call(reqwest::Method::HEAD, "/").send().await;
    assert_eq!(head.status.as_u16(), 200);
    assert_eq!(head.header("content-security-policy"), Some(CSP));
    assert!(head.text.is_empty());
    let post = app.post("/").json(&json!({})).send().await;
    post.error(405);
}

/// The console routes by the fragment (`/#/flags/prod`), so no other path serves the page: an
/// unknown path stays the JSON 404 of the API, and a file name the build does not have is 404 too.
#[tokio::test]
async fn nothing_else_serves_the_page() {
    let app = spawn_app(Backend::Sqlite).await;
    for path in [
        "/index.html",
        "/flags/prod",
        "/console",
        "/assets",
        "/assets/",
        "/assets/index.html",
        "/assets/../index.html",
        "/assets/a/b.js",
    ] {
        let reply = app.get(path).send().await;
        let message = reply.error(404);
        assert!(
            message == "no such endpoint" || message == "no such console file",
            "{path}: {message}"
        );
    }
}

#[tokio::test]
async fn whoami_names_the_token_presented() {
    let app = spawn_app(Backend::Sqlite).await;
    let reply = app.get("/api/admin/whoami").admin().send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"token": {"id": "ADMIN_TOKEN", "name": "admin", "role": "admin",
                         "environments": ["dev", "staging", "prod"]}})
    );
    let reply = app
        .get("/api/admin/whoami")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(reply.json()["token"]["role"], "server");
    assert_eq!(reply.json()["token"]["id"], "EDGE_TOKEN");

    let (record, secret) = app
        .create_token(json!({"name": "vera", "role": "viewer", "environments": ["prod", "dev"]}))
        .await;
    let reply = app
        .get("/api/admin/whoami")
        .header("authorization", &format!("Bearer {secret}"))
        .send()
        .await;
    assert_eq!(
        reply.json(),
        json!({"token": {"id": record["id"], "name": "vera", "role": "viewer",
                         "environments": ["dev", "prod"]}})
    );
    let (_, client) = app
        .create_token(json!({"name": "web", "role": "client", "environments": ["dev"]}))
        .await;
    let reply = app
        .get("/api/admin/whoami")
        .header("authorization", &format!("Bearer {client}"))
        .send()
        .await;
    assert_eq!(reply.json()["token"]["role"], "client");

    let revoke = app
        .call(
            reqwest::Method::DELETE,
            &format!("/api/admin/tokens/{}", record["id"].as_str().unwrap()),
        )
        .admin()
        .send()
        .await;
    assert_eq!(revoke.status.as_u16(), 204);
    let reply = app
        .get("/api/admin/whoami")
        .header("authorization", &format!("Bearer {secret}"))
        .send()
        .await;
    assert_eq!(reply.error(401), "this token was revoked");
    let reply = app
        .get("/api/admin/whoami")
        .header("authorization", "Bearer nope")
        .send()
        .await;
    assert_eq!(reply.error(401), "invalid token");
}
