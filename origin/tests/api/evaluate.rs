//! `POST /api/evaluate`: results, errors, and writes seen by the very next evaluation.

use evaluator::{CompiledFlagSet, EvaluateResponse, Flag, User};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend};

backend_tests!(
    evaluate_answers_every_flag_sorted_or_the_named_keys,
    a_write_is_seen_by_the_next_evaluation,
    request_errors_are_exactly_the_vectors,
    response_bytes_are_the_evaluators,
);

async fn evaluate_answers_every_flag_sorted_or_the_named_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(
        json!({"key": "zeta", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
    )
    .await;
    app.create_flag(
        json!({"key": "alpha", "environment": "prod", "enabled": true,
        "rules": [{"field": "email", "operator": "ends_with", "value": "@example.com"}]}),
    )
    .await;
    app.create_flag(
        json!({"key": "off", "environment": "prod", "enabled": false, "rolloutPercentage": 100}),
    )
    .await;
    app.create_flag(json!({"key": "elsewhere", "environment": "dev", "enabled": true}))
        .await;

    let body = app
        .evaluate(json!({"environment": "prod", "user": {"id": "u1", "email": "a@example.com"}}))
        .await;
    assert_eq!(
        body,
        json!({"results": [
            {"flagKey": "alpha", "enabled": true, "reason": "RULE_MATCH", "variant": "on", "value": true},
            {"flagKey": "off", "enabled": false, "reason": "FLAG_DISABLED", "variant": "off", "value": false},
            {"flagKey": "zeta", "enabled": true, "reason": "ROLLOUT", "variant": "on", "value": true},
        ]})
    );
    let body = app
        .evaluate(json!({"environment": "prod", "user": {"id": "u1"}, "flags": ["zeta", "nope", "alpha", "zeta"]}))
        .await;
    assert_eq!(
        body,
        json!({"results": [
            {"flagKey": "alpha", "enabled": false, "reason": "NO_MATCH", "variant": "off", "value": false},
            {"flagKey": "nope", "enabled": false, "reason": "FLAG_NOT_FOUND", "variant": null, "value": null},
            {"flagKey": "zeta", "enabled": true, "reason": "ROLLOUT", "variant": "on", "value": true},
        ]})
    );
    let body = app
        .evaluate(json!({"environment": "staging", "user": {"id": "u1"}}))
        .await;
    assert_eq!(body, json!({"results": []}));
}

async fn a_write_is_seen_by_the_next_evaluation(backend: Backend) {
    let app = spawn_app(backend).await;
    // Warm the caches with the empty set first, so the create has something to invalidate.
    assert_eq!(app.decide("prod", "u", "k").await.1, "FLAG_NOT_FOUND");
    let flag = app
        .create_flag(
            json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
        )
        .await;
    assert_eq!(app.decide("prod", "u", "k").await, (true, "ROLLOUT".into()));
    let path = format!("/api/admin/flags/{}", flag["id"].as_str().unwrap());
    for round in 0..10 {
        let enabled = round % 2 == 1;
        let reply = app
            .put(&path)
            .admin()
            .json(&json!({"enabled": enabled}))
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 200);
        let expected = if enabled {
            (true, "ROLLOUT".into())
        } else {
            (false, "FLAG_DISABLED".into())
        };
        assert_eq!(
            app.decide("prod", "u", "k").await,
            expected,
            "round {round}"
        );
    }
    app.put(&path)
        .admin()
        .json(&json!({"enabled": true, "rolloutPercentage": 0}))
        .send()
        .await;
    assert_eq!(
        app.decide("prod", "u", "k").await,
        (false, "NO_MATCH".into())
    );
    app.delete(&path).admin().send().await;
    assert_eq!(
        app.decide("prod", "u", "k").await,
        (false, "FLAG_NOT_FOUND".into())
    );
}

async fn request_errors_are_exactly_the_vectors(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/invalid/requests.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("vector file is JSON");
    let cases = file["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    for case in cases {
        let body = case["body"].as_str().expect("body").to_owned();
        let reply = app.post("/api/evaluate").raw(body).send().await;
        let status = case["status"].as_u64().expect("status") as u16;
        assert_eq!(
            reply.error(status),
            case["error"].as_str().unwrap(),
            "{}",
            case["name"]
        );
    }
}

async fn response_bytes_are_the_evaluators(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(json!({"key": "b.flag", "environment": "prod", "enabled": true, "rolloutPercentage": 50,
        "rules": [{"all": [{"field": "attributes.plan", "operator": "in", "value": ["pro", 2.5, false]},
                           {"field": "country", "operator": "neq", "value": "FR"}]}]}))
        .await;
    app.create_flag(
        json!({"key": "a-flag", "environment": "prod", "enabled": true, "rolloutPercentage": 7}),
    )
    .await;
    let reply = app
        .get("/api/admin/flags?environment=prod")
        .admin()
        .send()
        .await;
    let flags: Vec<Flag> =
        serde_json::from_value(reply.json()["flags"].clone()).expect("flags parse");
    let set = CompiledFlagSet::new(&flags).expect("compiles");
    for i in 0..20 {
        let user = json!({"id": format!("user-{i}"), "country": "DE", "attributes": {"plan": if i % 3 == 0 { "pro" } else { "free" }}});
        let request = json!({"environment": "prod", "user": user});
        let reply = app.post("/api/evaluate").json(&request).send().await;
        assert_eq!(reply.status.as_u16(), 200);
        assert_eq!(reply.header("content-type"), Some("application/json"));
        let user: User = serde_json::from_value(user).expect("user parses");
        let expected = serde_json::to_string(&EvaluateResponse {
            results: set.evaluate_all(&user),
        })
        .unwrap();
        assert_eq!(reply.text, expected);
    }
}
