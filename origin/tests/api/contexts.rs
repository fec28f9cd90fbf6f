//! `GET /api/admin/contexts`: the sample of recent evaluation contexts (`CONTEXT_SAMPLE_SIZE`),
//! fed by every evaluation route, read by editors and admins of the environment.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, Backend, Options, TestApp};

async fn contexts(app: &TestApp, query: &str, token: Option<&str>) -> crate::helpers::Reply {
    let call = app.get(&format!("/api/admin/contexts{query}"));
    match token {
        Some(token) => call.header("authorization", &format!("Bearer {token}")),
        None => call.admin(),
    }
    .send()
    .await
}

#[tokio::test]
async fn off_by_default() {
    let app = spawn_app(Backend::Sqlite).await;
    app.evaluate(json!({"environment": "prod", "user": {"id": "u1"}}))
        .await;
    let error = contexts(&app, "?environment=prod", None).await.error(404);
    assert!(error.contains("CONTEXT_SAMPLE_SIZE is 0"), "{error}");
}

#[tokio::test]
async fn every_evaluation_route_feeds_the_sample_one_context_per_user() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            context_sample_size: 1_000,
            ..Options::default()
        },
    )
    .await;
    app.create_flag(json!({"key": "f", "environment": "prod", "enabled": true}))
        .await;
    let alice = json!({"id": "alice", "email": "a@example.com", "country": "DE",
        "attributes": {"plan": "pro", "seats": 12, "org": {"tier": 2}}});
    for _ in 0..3 {
        app.evaluate(json!({"environment": "prod", "user": alice}))
            .await;
    }
    let reply = app
        .post("/ofrep/v1/evaluate/flags/f")
        .header("x-pennon-environment", "prod")
        .json(&json!({"context": {"targetingKey": "bob"}}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let reply = app
        .post("/ofrep/v1/evaluate/flags")
        .header("x-pennon-environment", "prod")
        .json(&json!({"context": {"targetingKey": "carol"}}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    app.evaluate(json!({"environment": "dev", "user": {"id": "dave"}}))
        .await;

    let reply = contexts(&app, "?environment=prod", None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.header("cache-control"), Some("no-store"));
    let body = reply.json();
    assert_eq!(body["environment"], "prod");
    assert_eq!(body["size"], 1_000);
    let users: Vec<&Value> = body["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| &c["user"])
        .collect();
    assert_eq!(users.len(), 3, "{body}");
    assert!(users.contains(&&alice), "the user as sent: {body}");
    assert!(users.contains(&&json!({"id": "bob"})));
    assert!(users.contains(&&json!({"id": "carol"})));
    let limited = contexts(&app, "?environment=prod&limit=1", None)
        .await
        .json();
    assert_eq!(limited["contexts"].as_array().unwrap().len(), 1);
    let dev = contexts(&app, "?environment=dev", None).await.json();
    assert_eq!(dev["contexts"][0]["user"], json!({"id": "dave"}));

    // Personal data: editors and admins of the environment only.
    let (_, editor) = app
        .create_token(json!({"name": "ed", "role": "editor", "environments": ["prod"]}))
        .await;
    assert_eq!(
        contexts(&app, "?environment=prod", Some(&editor))
            .await
            .status,
        StatusCode::OK
    );
    let error = contexts(&app, "?environment=dev", Some(&editor))
        .await
        .error(403);
    assert!(error.contains("environment dev"), "{error}");
    for role in ["viewer", "server"] {
        let (_, secret) = app
            .create_token(json!({"name": role, "role": role, "environments": ["prod"]}))
            .await;
        let error = contexts(&app, "?environment=prod", Some(&secret))
            .await
            .error(403);
        assert!(error.contains("sample of evaluation contexts"), "{error}");
    }
    assert!(contexts(&app, "", None)
        .await
        .error(400)
        .starts_with("environment"));
    assert!(contexts(&app, "?environment=prod&limit=-1", None)
        .await
        .error(400)
        .starts_with("limit"));
}
