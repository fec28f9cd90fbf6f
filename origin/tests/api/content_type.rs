//! 415 for a body not declared as `application/json`, on every route that reads one; after the
//! admin token (401), before the body is read (413, 400); nothing written.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, Reply, TestApp};

backend_tests!(
    every_body_route_refuses_what_is_not_declared_json,
    the_content_type_is_checked_after_the_token_and_before_the_body,
);

const MESSAGE: &str = "content-type: must be application/json";

/// `None`: no `content-type` header.
const REFUSED: [Option<&str>; 7] = [
    Some("text/plain"),
    Some("text/plain;charset=UTF-8"),
    Some("application/x-www-form-urlencoded"),
    None,
    Some("application/vnd.api+json"),
    Some("application/jsonx"),
    Some(""),
];
const ACCEPTED: [&str; 4] = [
    "application/json",
    "application/json; charset=utf-8",
    "APPLICATION/JSON",
    "Application/Json ;charset=UTF-8",
];

fn refused(reply: &Reply, what: &str) {
    assert_eq!(reply.error(415), MESSAGE, "{what}");
}

async fn flags(app: &TestApp) -> Value {
    app.get("/api/admin/flags").admin().send().await.json()["flags"].clone()
}

async fn audit_entries(app: &TestApp) -> usize {
    app.audit("?limit=500").await["entries"]
        .as_array()
        .expect("entries")
        .len()
}

async fn every_body_route_refuses_what_is_not_declared_json(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(
            json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
        )
        .await;
    let flag_path = format!("/api/admin/flags/{}", flag["id"].as_str().expect("id"));
    let evaluate = json!({"environment": "prod", "user": {"id": "u"}}).to_string();

    for content_type in REFUSED {
        let what = format!("{content_type:?}");
        // Evaluate: the 415 carries the CORS headers, so a page sending text/plain can read it.
        let reply = app
            .post("/api/evaluate")
            .header("origin", "https://shop.example")
            .typed(content_type, evaluate.clone())
            .send()
            .await;
        refused(&reply, &what);
        assert_eq!(
            reply.header("access-control-allow-origin"),
            Some("*"),
            "{what}"
        );
        assert_eq!(
            reply.header("access-control-allow-headers"),
            Some("content-type, authorization, x-api-key, if-none-match, x-pennon-environment"),
            "{what}"
        );
        let body = json!({"key": "new", "environment": "prod"}).to_string();
        let reply = app
            .post("/api/admin/flags")
            .admin()
            .typed(content_type, body)
            .send()
            .await;
        refused(&reply, &what);
        let reply = app
            .put(&flag_path)
            .admin()
            .typed(content_type, r#"{"rolloutPercentage": 5}"#)
            .send()
            .await;
        refused(&reply, &what);
        let reply = app
            .post("/api/admin/kill-switch")
            .admin()
            .typed(content_type, r#"{"key": "k"}"#)
            .send()
            .await;
        refused(&reply, &what);
    }
    // Two headers, read joined as `fetch` (the edge) does: not JSON.
    let reply = app
        .post("/api/evaluate")
        .header("content-type", "application/json")
        .typed(Some("text/plain"), evaluate.clone())
        .send()
        .await;
    refused(&reply, "two content-type headers");
    // Nothing written by any of them.
    assert_eq!(flags(&app).await, json!([flag]));
    assert_eq!(audit_entries(&app).await, 1);
    assert_eq!(app.decide("prod", "u", "k").await.1, "ROLLOUT");

    for (i, content_type) in ACCEPTED.into_iter().enumerate() {
        let reply = app
            .post("/api/evaluate")
            .typed(Some(content_type), evaluate.clone())
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{content_type}: {}", reply.text);
        let body = json!({"key": format!("new{i}"), "environment": "dev"}).to_string();
        let reply = app
            .post("/api/admin/flags")
            .admin()
            .typed(Some(content_type), body)
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 201, "{content_type}: {}", reply.text);
        let update = json!({"rolloutPercentage": 10 + i}).to_string();
        let reply = app
            .put(&flag_path)
            .admin()
            .typed(Some(content_type), update)
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{content_type}: {}", reply.text);
        let reply = app
            .post("/api/admin/kill-switch")
            .admin()
            .typed(Some(content_type), r#"{"key": "k"}"#)
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{content_type}: {}", reply.text);
    }
    // Reads and deletes have no body: no content type needed.
    let reply = app.delete(&flag_path).admin().send().await;
    assert_eq!(reply.status.as_u16(), 204, "{}", reply.text);
}

async fn the_content_type_is_checked_after_the_token_and_before_the_body(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let flag_path = format!("/api/admin/flags/{}", flag["id"].as_str().expect("id"));
    // No token: 401 before anything about the body.
    let no_token = [
        app.post("/api/admin/flags")
            .typed(Some("text/plain"), "{")
            .send()
            .await,
        app.put(&flag_path).typed(None, "{").send().await,
    ];
    for reply in no_token {
        assert_eq!(reply.error(401), "missing token");
    }
    let reply = app
        .post("/api/admin/kill-switch")
        .header("x-admin-token", "wrong")
        .typed(Some("text/plain"), "{")
        .send()
        .await;
    assert_eq!(reply.error(401), "invalid token");
    // Invalid JSON and a body over 1 MiB, sent as text: 415 (not 400 or 413).
    let big = format!(r#"{{"key": "{}"}}"#, "x".repeat(2 * 1024 * 1024));
    for body in ["{".to_owned(), big] {
        let what = format!("{} bytes", body.len());
        let reply = app
            .post("/api/evaluate")
            .typed(Some("text/plain"), body.clone())
            .send()
            .await;
        refused(&reply, &what);
        let reply = app
            .post("/api/admin/flags")
            .admin()
            .typed(Some("text/plain"), body.clone())
            .send()
            .await;
        refused(&reply, &what);
        let reply = app
            .post("/api/admin/kill-switch")
            .admin()
            .typed(None, body)
            .send()
            .await;
        refused(&reply, &what);
    }
    // The content type comes before the other checks of an update: If-Match, then the body.
    let reply = app
        .put(&flag_path)
        .admin()
        .header("if-match", "abc")
        .typed(Some("text/plain"), "{")
        .send()
        .await;
    refused(&reply, "update with a bad If-Match");
    assert_eq!(audit_entries(&app).await, 1);
}
