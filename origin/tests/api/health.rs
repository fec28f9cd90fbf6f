//! `/health`, unknown routes and methods, request ids.

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend};

backend_tests!(
    health_reports_the_store_and_cache,
    unknown_routes_and_methods_get_json_errors,
    every_response_has_a_request_id
);

async fn health_reports_the_store_and_cache(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app.get("/health").send().await;
    assert_eq!(reply.status.as_u16(), 200);
    let body = reply.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["store"], "ok");
    assert_eq!(
        body["storeKind"],
        if backend == Backend::Sqlite {
            "sqlite"
        } else {
            "postgres"
        }
    );
    assert_eq!(
        body["cache"],
        if backend == Backend::PostgresRedis {
            "redis"
        } else {
            "memory"
        }
    );
    assert_eq!(body["cacheStatus"], "ok");
    assert_eq!(body["evaluations"], "ok");
    assert_eq!(
        body["invalidation"],
        match backend {
            Backend::Sqlite => "none",
            Backend::Postgres => "postgres",
            Backend::PostgresRedis => "redis+postgres",
        }
    );
    // On PostgreSQL the store's NOTIFY is listened to with or without Redis.
    assert_eq!(
        body["invalidationChannels"],
        match backend {
            Backend::Sqlite => serde_json::json!({}),
            Backend::Postgres => serde_json::json!({"postgres": "ok"}),
            Backend::PostgresRedis => serde_json::json!({"redis": "ok", "postgres": "ok"}),
        }
    );
    assert_eq!(body["invalidationStatus"], "ok");
}

async fn unknown_routes_and_methods_get_json_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/nope").send().await.error(404);
    app.get("/api/evaluate").send().await.error(405);
    app.delete("/api/admin/audit")
        .admin()
        .send()
        .await
        .error(405);
}

async fn every_response_has_a_request_id(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.get("/health").send().await;
    let b = app.post("/api/evaluate").raw("{").send().await;
    let (a, b) = (
        a.header("x-request-id").unwrap().to_owned(),
        b.header("x-request-id").unwrap().to_owned(),
    );
    assert!(!a.is_empty() && a != b);
    let given = app
        .get("/health")
        .header("x-request-id", "trace-me-42")
        .send()
        .await;
    assert_eq!(given.header("x-request-id"), Some("trace-me-42"));
}

#[tokio::test]
async fn a_lost_database_degrades_health_and_evaluations_go_on() {
    let app = spawn_app(Backend::Postgres).await;
    app.create_flag(serde_json::json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 100}))
        .await;
    assert_eq!(app.decide("prod", "u", "k").await, (true, "ROLLOUT".into()));
    app.drop_database().await;

    // 200 while evaluations can be served: prod is held in process; dev and staging never loaded.
    let reply = app.get("/health").send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let body = reply.json();
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["store"], "unavailable");
    assert_eq!(body["evaluations"], "partial");
    assert_eq!(body["cacheStatus"], "ok");

    // The last flag set keeps serving, past the one-second revalidation too.
    assert_eq!(app.decide("prod", "u", "k").await, (true, "ROLLOUT".into()));
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(app.decide("prod", "u", "k").await, (true, "ROLLOUT".into()));

    // Writes fail with the contract's body and no internals.
    let reply = app
        .post("/api/admin/flags")
        .admin()
        .json(&serde_json::json!({"key": "x", "environment": "prod"}))
        .send()
        .await;
    let message = reply.error(503);
    assert!(
        !message.contains("pennon_test_") && !message.contains("postgres"),
        "{message}"
    );
}
