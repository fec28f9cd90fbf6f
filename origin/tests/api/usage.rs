//! Flag usage: evaluations per variant over 24 h and the last evaluation, from this origin, a
//! second origin on the same store and an edge worker's reports, read on the flag and by the
//! stale filter.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{
    spawn_app, spawn_app_with, Backend, Options, SiblingCache, TestApp, EDGE_TOKEN,
};

backend_tests!(
    evaluations_are_counted_per_variant_on_the_flag,
    two_origins_and_the_edge_add_up,
    the_stale_filter_lists_flags_not_evaluated_since,
    a_batch_the_store_refuses_is_written_with_the_next,
);

const DAY_MS: i64 = 86_400_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn millis(timestamp: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(timestamp.as_str().expect("a timestamp"))
        .expect("RFC 3339")
        .timestamp_millis()
}

/// A string flag with three variants: `red` for the listed users, `blue` for the rest.
async fn colours(app: &TestApp, environment: &str, key: &str) -> Value {
    app.create_flag(json!({
        "key": key, "environment": environment, "enabled": true, "type": "string",
        "variants": {"red": "#f00", "green": "#0f0", "blue": "#00f"}, "offVariant": "green",
        "rules": [{"field": "id", "operator": "in", "value": ["u1", "u2"], "serve": "red"}],
        "fallthrough": "blue"
    }))
    .await
}

async fn evaluate_users(app: &TestApp, environment: &str, key: &str, users: &[&str]) {
    for user in users {
        app.evaluate(json!({"environment": environment, "user": {"id": user}, "flags": [key]}))
            .await;
    }
}

async fn usage_of(app: &TestApp, flag: &Value) -> Value {
    let reply = app
        .get(&format!(
            "/api/admin/flags/{}",
            flag["id"].as_str().unwrap()
        ))
        .admin()
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let body = reply.json();
    assert_eq!(&body["flag"], flag, "the flag document is unchanged");
    body["usage"].clone()
}

async fn flush(app: &TestApp) {
    app.state.usage.flush().await.expect("usage written");
}

async fn report(app: &TestApp, token: Option<&str>, body: Value) -> crate::helpers::Reply {
    let call = app.post("/api/usage").json(&body);
    match token {
        Some(token) => call.header("x-edge-token", token),
        None => call,
    }
    .send()
    .await
}

async fn evaluations_are_counted_per_variant_on_the_flag(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = colours(&app, "prod", "colour").await;
    let before = usage_of(&app, &flag).await;
    assert_eq!(before["last24h"], json!({}));
    assert_eq!(before["lastEvaluatedAt"], Value::Null);
    evaluate_users(&app, "prod", "colour", &["u1", "u2", "u3", "u4", "u5"]).await;
    // OFREP counts too, once per flag answered.
    let reply = app
        .post("/ofrep/v1/evaluate/flags/colour")
        .header("x-pennon-environment", "prod")
        .json(&json!({"context": {"targetingKey": "u1"}}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    // Not written yet: usage goes to the store in batches.
    assert_eq!(usage_of(&app, &flag).await["last24h"], json!({}));
    let started = now_ms();
    flush(&app).await;
    let usage = usage_of(&app, &flag).await;
    assert_eq!(usage["last24h"], json!({"red": 3, "blue": 3}));
    let last = millis(&usage["lastEvaluatedAt"]);
    assert!(last >= started - 1_000 && last <= now_ms(), "{usage}");
    let window = millis(&usage["windowStart"]);
    let hour = 3_600_000;
    assert_eq!(window % hour, 0);
    assert_eq!(window, (now_ms() / hour) * hour - 23 * hour);
    // A second batch adds to the first.
    evaluate_users(&app, "prod", "colour", &["u2"]).await;
    flush(&app).await;
    assert_eq!(
        usage_of(&app, &flag).await["last24h"],
        json!({"red": 4, "blue": 3})
    );
    // Asked for, the list answers every flag's usage by id.
    let list = app
        .get("/api/admin/flags?environment=prod&include=usage")
        .admin()
        .send()
        .await
        .json();
    assert_eq!(
        list["usage"][flag["id"].as_str().unwrap()]["last24h"],
        json!({"red": 4, "blue": 3})
    );
}

async fn two_origins_and_the_edge_add_up(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = colours(&app, "staging", "shared").await;
    let other = app.sibling(SiblingCache::Shared, None).await;
    evaluate_users(&app, "staging", "shared", &["u1", "u3"]).await;
    evaluate_users(&other, "staging", "shared", &["u2", "u4", "u5"]).await;
    let edge_at = now_ms() - 2_000;
    let reply = report(
        &app,
        Some(EDGE_TOKEN),
        json!({"environment": "staging", "counts": [
            {"flag": "shared", "variant": "red", "count": 10, "lastEvaluatedAt": edge_at},
            {"flag": "shared", "variant": "green", "count": 1, "lastEvaluatedAt": edge_at - 10},
            {"flag": "shared", "variant": "purple", "count": 5, "lastEvaluatedAt": edge_at},
            {"flag": "gone", "variant": "on", "count": 5, "lastEvaluatedAt": edge_at},
        ]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    assert_eq!(
        reply.json(),
        json!({"accepted": 2, "ignored": 2, "dropped": 0})
    );
    flush(&app).await;
    flush(&other).await;
    let usage = usage_of(&other, &flag).await;
    assert_eq!(usage["last24h"], json!({"red": 12, "green": 1, "blue": 3}));
    assert!(millis(&usage["lastEvaluatedAt"]) >= edge_at);
}

async fn the_stale_filter_lists_flags_not_evaluated_since(backend: Backend) {
    let app = spawn_app(backend).await;
    let fresh = colours(&app, "dev", "fresh").await;
    let old = colours(&app, "dev", "old").await;
    let never = colours(&app, "dev", "never").await;
    let elsewhere = colours(&app, "prod", "old").await;
    evaluate_users(&app, "dev", "fresh", &["u1"]).await;
    let eight_days_ago = now_ms() - 8 * DAY_MS;
    let reply = report(
        &app,
        Some(EDGE_TOKEN),
        json!({"environment": "dev", "counts": [
            {"flag": "old", "variant": "blue", "count": 7, "lastEvaluatedAt": eight_days_ago},
        ]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text);
    evaluate_users(&app, "prod", "old", &["u1"]).await;
    flush(&app).await;
    let keys = |query: &str| {
        let app = &app;
        let query = query.to_owned();
        async move {
            let reply = app
                .get(&format!("/api/admin/flags{query}"))
                .admin()
                .send()
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{query}: {}", reply.text);
            let body = reply.json();
            body["flags"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    format!(
                        "{}/{}",
                        f["environment"].as_str().unwrap(),
                        f["key"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        keys("?environment=dev&stale=7d").await,
        ["dev/never", "dev/old"]
    );
    assert_eq!(keys("?environment=dev&stale=9d").await, ["dev/never"]);
    assert_eq!(keys("?stale=7d").await, ["dev/never", "dev/old"]);
    assert_eq!(keys("?key=old&stale=1d").await, ["dev/old"]);
    assert_eq!(
        keys("?environment=dev").await,
        ["dev/fresh", "dev/never", "dev/old"]
    );
    // Counts older than the window are not in `last24h`; the last evaluation is kept.
    let usage = usage_of(&app, &old).await;
    assert_eq!(usage["last24h"], json!({}));
    assert_eq!(millis(&usage["lastEvaluatedAt"]), eight_days_ago);
    assert_eq!(usage_of(&app, &never).await["lastEvaluatedAt"], Value::Null);
    assert_eq!(
        usage_of(&app, &elsewhere).await["last24h"],
        json!({"red": 1})
    );
    assert_eq!(usage_of(&app, &fresh).await["last24h"], json!({"red": 1}));
    for bad in ["7w", "0d", "-1d", "1.5h", "3651d", "d"] {
        let reply = app
            .get(&format!("/api/admin/flags?stale={bad}"))
            .admin()
            .send()
            .await;
        let error = reply.error(400);
        assert!(error.starts_with("stale: "), "{bad}: {error}");
    }
}

async fn a_batch_the_store_refuses_is_written_with_the_next(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = colours(&app, "prod", "kept").await;
    evaluate_users(&app, "prod", "kept", &["u1", "u3"]).await;
    // The table gone, the batch fails and is held.
    app.sql("ALTER TABLE flag_usage RENAME TO flag_usage_away")
        .await;
    assert!(app.state.usage.flush().await.is_err());
    evaluate_users(&app, "prod", "kept", &["u4"]).await;
    app.sql("ALTER TABLE flag_usage_away RENAME TO flag_usage")
        .await;
    flush(&app).await;
    assert_eq!(
        usage_of(&app, &flag).await["last24h"],
        json!({"red": 1, "blue": 2})
    );
    let metrics = app.get("/metrics").admin().send().await.text;
    assert!(
        metrics.contains("pennon_usage_batches_total{result=\"failed\"} 1"),
        "{metrics}"
    );
}

#[tokio::test]
async fn usage_reports_need_a_server_token_and_a_readable_body() {
    let app = spawn_app(Backend::Sqlite).await;
    colours(&app, "dev", "colour").await;
    let good = json!({"environment": "dev", "counts": [
        {"flag": "colour", "variant": "red", "count": 1, "lastEvaluatedAt": now_ms()}]});
    assert_eq!(
        report(&app, None, good.clone()).await.status,
        StatusCode::UNAUTHORIZED
    );
    for role in ["viewer", "editor", "client"] {
        let (_, secret) = app
            .create_token(json!({"name": role, "role": role, "environments": ["dev"]}))
            .await;
        let error = report(&app, Some(&secret), good.clone()).await.error(403);
        assert!(
            error.contains("cannot report flag usage"),
            "{role}: {error}"
        );
    }
    let (_, prod_only) = app
        .create_token(json!({"name": "edge-prod", "role": "server", "environments": ["prod"]}))
        .await;
    let error = report(&app, Some(&prod_only), good.clone())
        .await
        .error(403);
    assert!(error.contains("environment dev"), "{error}");
    let (_, server) = app
        .create_token(json!({"name": "edge-dev", "role": "server", "environments": ["dev"]}))
        .await;
    assert_eq!(
        report(&app, Some(&server), good).await.status,
        StatusCode::ACCEPTED
    );
    let bad = [
        (json!({"environment": "dev"}), "counts: required"),
        (json!({"environment": "qa", "counts": []}), "environment: "),
        (
            json!({"environment": "dev", "counts": [{"flag": "colour", "variant": "red", "count": 0, "lastEvaluatedAt": 1}]}),
            "counts[0].count: must be at least 1",
        ),
        (
            json!({"environment": "dev", "counts": [{"flag": "colour", "variant": "red", "count": 1, "lastEvaluatedAt": now_ms() + DAY_MS}]}),
            "counts[0].lastEvaluatedAt: is in the future",
        ),
        (
            json!({"environment": "dev", "counts": [], "extra": 1}),
            "extra: unknown field",
        ),
    ];
    for (body, message) in bad {
        let error = report(&app, Some(EDGE_TOKEN), body.clone())
            .await
            .error(400);
        assert!(error.starts_with(message), "{body}: {error}");
    }
    let reply = app
        .post("/api/usage")
        .header("x-edge-token", EDGE_TOKEN)
        .typed(Some("text/plain"), "{}")
        .send()
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        reply.text
    );
}

#[tokio::test]
async fn with_metrics_off_the_origin_counts_nothing_but_takes_the_edges_reports() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            metrics: false,
            ..Options::default()
        },
    )
    .await;
    let flag = colours(&app, "dev", "quiet").await;
    evaluate_users(&app, "dev", "quiet", &["u1", "u2"]).await;
    let error = app.get("/metrics").admin().send().await.error(404);
    assert!(error.contains("METRICS=off"), "{error}");
    let reply = report(
        &app,
        Some(EDGE_TOKEN),
        json!({"environment": "dev", "counts": [
            {"flag": "quiet", "variant": "blue", "count": 4, "lastEvaluatedAt": now_ms()}]}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    flush(&app).await;
    assert_eq!(usage_of(&app, &flag).await["last24h"], json!({"blue": 4}));
}
