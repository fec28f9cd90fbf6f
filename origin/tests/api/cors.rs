//! CORS: the public endpoints answer browsers on any origin with the headers of the shared HTTP
//! contract (`http_contract::cors`, which the edge worker sends too); the admin and snapshot
//! endpoints do not. Pure HTTP behaviour, the same on every store: SQLite only.

use http_contract::cors::HEADERS;
use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, Backend, Reply, TestApp};

/// Exactly the contract's headers: each once, with its value, and no other `access-control-*`.
fn assert_cors(reply: &Reply, what: &str) {
    let sent = reply
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .count();
    assert_eq!(sent, HEADERS.len(), "{what}: {:?}", reply.headers);
    for (name, value) in HEADERS {
        assert_eq!(reply.header(name), Some(value), "{what}: {name}");
        assert_eq!(
            reply.headers.get_all(name).iter().count(),
            1,
            "{what}: {name} once"
        );
    }
}

fn assert_no_cors(reply: &Reply, what: &str) {
    let found: Vec<_> = reply
        .headers
        .keys()
        .filter(|name| name.as_str().starts_with("access-control-"))
        .collect();
    assert!(found.is_empty(), "{what}: unexpected {found:?}");
}

/// What a browser sends before a cross-origin `POST` with a JSON body.
async fn preflight(app: &TestApp, path: &str, method: &str) -> Reply {
    app.call(Method::OPTIONS, path)
        .header("origin", "https://shop.example")
        .header("access-control-request-method", method)
        .header("access-control-request-headers", "content-type")
        .send()
        .await
}

#[tokio::test]
async fn a_preflight_on_a_public_endpoint_is_204_with_the_edge_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    for (path, method) in [("/api/evaluate", "POST"), ("/health", "GET")] {
        let reply = preflight(&app, path, method).await;
        assert_eq!(reply.status.as_u16(), 204, "{path}: {}", reply.text);
        assert_eq!(reply.text, "", "{path}");
        assert_cors(&reply, path);
        assert!(reply.header("x-request-id").is_some(), "{path}");
    }
    // A bare OPTIONS (no preflight headers) is answered the same, as on the edge.
    let reply = app.call(Method::OPTIONS, "/api/evaluate").send().await;
    assert_eq!(reply.status.as_u16(), 204);
    assert_cors(&reply, "bare OPTIONS");
}

#[tokio::test]
async fn every_response_of_a_public_endpoint_carries_the_headers() {
    let app = spawn_app(Backend::Sqlite).await;
    app.create_flag(
        json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
    )
    .await;

    let ok = app
        .post("/api/evaluate")
        .header("origin", "https://shop.example")
        .json(&json!({"environment": "prod", "user": {"id": "u"}}))
        .send()
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.text);
    assert_eq!(ok.json()["results"][0]["flagKey"], "k");
    assert_cors(&ok, "evaluate 200");

    let bad = app.post("/api/evaluate").raw("{").send().await;
    bad.error(400);
    assert_cors(&bad, "evaluate 400");

    let unknown_env = app
        .post("/api/evaluate")
        .json(&json!({"environment": "moon", "user": {"id": "u"}}))
        .send()
        .await;
    unknown_env.error(400);
    assert_cors(&unknown_env, "evaluate 400 environment");

    let big = "x".repeat(1024 * 1024);
    let too_large = app
        .post("/api/evaluate")
        .json(&json!({"environment": "prod", "user": {"id": big}}))
        .send()
        .await;
    too_large.error(413);
    assert_cors(&too_large, "evaluate 413");

    let wrong_method = app.get("/api/evaluate").send().await;
    wrong_method.error(405);
    assert_cors(&wrong_method, "evaluate 405");
    assert_eq!(wrong_method.header("allow"), Some("POST,OPTIONS"));

    let health = app
        .get("/health")
        .header("origin", "https://status.example")
        .send()
        .await;
    assert_eq!(health.status.as_u16(), 200);
    assert_cors(&health, "health 200");
    let head = app.call(Method::HEAD, "/health").send().await;
    assert_eq!(head.status.as_u16(), 200);
    assert_cors(&head, "health HEAD");
    let health_post = app.post("/health").raw("{}").send().await;
    health_post.error(405);
    assert_cors(&health_post, "health 405");
    assert_eq!(health_post.header("allow"), Some("GET,HEAD,OPTIONS"));
}

#[tokio::test]
async fn admin_snapshot_and_unknown_paths_stay_without_cors() {
    let app = spawn_app(Backend::Sqlite).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let id = flag["id"].as_str().expect("an id");

    // A preflight is refused there (405), so a browser never sends the token cross-site.
    for (path, method) in [
        ("/api/admin/flags", "POST"),
        (&*format!("/api/admin/flags/{id}"), "PUT"),
        ("/api/admin/kill-switch", "POST"),
        ("/api/admin/audit", "GET"),
        ("/api/flags/snapshot?environment=prod", "GET"),
    ] {
        let reply = preflight(&app, path, method).await;
        reply.error(405);
        assert_no_cors(&reply, path);
    }
    let listed = app
        .get("/api/admin/flags")
        .admin()
        .header("origin", "https://evil.example")
        .send()
        .await;
    assert_eq!(listed.status.as_u16(), 200);
    assert_no_cors(&listed, "admin list");
    let unauthorised = app.get("/api/admin/flags").send().await;
    unauthorised.error(401);
    assert_no_cors(&unauthorised, "admin 401");
    let snapshot = app.get("/api/flags/snapshot?environment=prod").send().await;
    assert_no_cors(&snapshot, "snapshot");
    // Only the exact public paths: no prefix or trailing-slash look-alike gets the headers.
    for path in ["/nope", "/health/", "/api/evaluate/x"] {
        let reply = app.call(Method::OPTIONS, path).send().await;
        reply.error(404);
        assert_no_cors(&reply, path);
    }
}
