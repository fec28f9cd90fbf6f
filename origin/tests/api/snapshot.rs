//! `GET /api/flags/snapshot`: edge token, ETag = revision, 304, revision per environment.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{spawn_app, spawn_app_with, Backend, Options, EDGE_TOKEN};

backend_tests!(
    snapshot_needs_the_edge_token,
    snapshot_has_the_flags_and_an_etag_of_the_revision,
    snapshot_refuses_a_bad_environment,
);

async fn snapshot_needs_the_edge_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = "/api/flags/snapshot?environment=prod";
    app.get(path).send().await.error(401);
    app.get(path)
        .header("x-edge-token", "nope")
        .send()
        .await
        .error(401);
    // The admin token may do everything, snapshots included, whatever header carries it.
    let reply = app
        .get(path)
        .header("x-admin-token", crate::helpers::ADMIN_TOKEN)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    drop(app);
    let app = spawn_app_with(
        backend,
        Options {
            edge_token: None,
            ..Options::default()
        },
    )
    .await;
    app.get(path).send().await.error(401);
    app.get(path)
        .header("x-edge-token", "")
        .send()
        .await
        .error(401);
    app.get(path)
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await
        .error(401);
}

async fn snapshot_has_the_flags_and_an_etag_of_the_revision(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = "/api/flags/snapshot?environment=prod";
    let reply = app
        .get(path)
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(
        reply.json(),
        json!({"environment": "prod", "revision": 0, "flags": [], "segments": []})
    );
    assert_eq!(reply.header("etag"), Some("\"0\""));

    let b = app
        .create_flag(json!({"key": "b", "environment": "prod", "enabled": true}))
        .await;
    let a = app
        .create_flag(json!({"key": "a", "environment": "prod"}))
        .await;
    app.create_flag(json!({"key": "c", "environment": "dev"}))
        .await;
    let reply = app
        .get(path)
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    let snapshot = reply.json();
    assert_eq!(
        snapshot["revision"], 2,
        "two writes to prod; the dev write does not count"
    );
    assert_eq!(snapshot["flags"], json!([a, b]));
    assert_eq!(reply.header("etag"), Some("\"2\""));

    let reply = app
        .get(path)
        .header("x-edge-token", EDGE_TOKEN)
        .header("if-none-match", "\"2\"")
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 304);
    assert!(reply.text.is_empty());
    assert_eq!(reply.header("etag"), Some("\"2\""));

    app.put(&format!("/api/admin/flags/{}", a["id"].as_str().unwrap()))
        .admin()
        .json(&json!({"enabled": true}))
        .send()
        .await;
    let reply = app
        .get(path)
        .header("x-edge-token", EDGE_TOKEN)
        .header("if-none-match", "\"2\"")
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert_eq!(reply.json()["flags"][0]["enabled"], true);

    let dev = app
        .get("/api/flags/snapshot?environment=dev")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(dev.json()["revision"], 1);
    let staging = app
        .get("/api/flags/snapshot?environment=staging")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(staging.json()["revision"], 0);
}

async fn snapshot_refuses_a_bad_environment(backend: Backend) {
    let app = spawn_app(backend).await;
    for (query, expected) in [
        ("", "environment: missing"),
        ("?environment=", "environment: missing"),
        ("?environment=qa", "environment: "),
    ] {
        let reply = app
            .get(&format!("/api/flags/snapshot{query}"))
            .header("x-edge-token", EDGE_TOKEN)
            .send()
            .await;
        assert!(reply.error(400).starts_with(expected), "{query}");
    }
}
