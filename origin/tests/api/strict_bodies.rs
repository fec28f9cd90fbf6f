//! What an admin body may not hold, on every store: a key twice in any object (`<path>: duplicate
//! field`), and NUL in any string (`<path>: must not contain the NUL character (\u0000)`). Each is
//! a 400 that writes nothing: no flag, no audit entry, no new revision.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, TestApp, EDGE_TOKEN};

backend_tests!(
    duplicate_keys_in_admin_bodies_are_refused_and_write_nothing,
    nul_in_admin_bodies_is_refused_and_writes_nothing,
);

const NUL: &str = ": must not contain the NUL character (\\u0000)";

/// Everything a refused write could have touched.
async fn state(app: &TestApp) -> Value {
    let flags = app.get("/api/admin/flags").admin().send().await.json();
    let mut revisions = Vec::new();
    for environment in ["dev", "staging", "prod"] {
        let snapshot = app
            .get(&format!("/api/flags/snapshot?environment={environment}"))
            .header("x-edge-token", EDGE_TOKEN)
            .send()
            .await
            .json();
        revisions.push(snapshot["revision"].clone());
    }
    json!({"flags": flags["flags"], "audit": app.audit("").await["entries"], "revisions": revisions})
}

/// A flag `base` on in prod that targets `a@x` only, and the path of its PUT.
async fn base_flag(app: &TestApp) -> String {
    let flag = app
        .create_flag(
            json!({"key": "base", "environment": "prod", "enabled": true,
            "rules": [{"field": "email", "operator": "eq", "value": "a@x"}]}),
        )
        .await;
    format!("/api/admin/flags/{}", flag["id"].as_str().expect("id"))
}

async fn assert_refused(app: &TestApp, method: &str, path: &str, body: &str, expected: &str) {
    let call = match method {
        "POST" => app.post(path),
        "PUT" => app.put(path),
        other => panic!("{other}"),
    };
    let reply = call.admin().raw(body.to_owned()).send().await;
    assert_eq!(reply.error(400), expected, "{method} {path} {body}");
}

async fn duplicate_keys_in_admin_bodies_are_refused_and_write_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let put = base_flag(&app).await;
    let before = state(&app).await;
    let create = "/api/admin/flags";
    let cases: &[(&str, &str, &str)] = &[
        (
            create,
            r#"{"key": "k", "key": "k2", "environment": "prod"}"#,
            "key",
        ),
        (
            create,
            r#"{"key": "k", "environment": "prod", "environment": "dev"}"#,
            "environment",
        ),
        (
            create,
            r#"{"key": "k", "environment": "prod", "enabled": false, "enabled": true}"#,
            "enabled",
        ),
        (
            create,
            r#"{"key": "k", "environment": "prod", "rules": [], "rules": []}"#,
            "rules",
        ),
        // The finding: stored as `id starts_with ""`, which matched everyone.
        (
            create,
            r#"{"key": "k", "environment": "prod", "enabled": true, "rules": [{"field": "email", "operator": "eq", "value": "a@x", "field": "id", "operator": "starts_with", "value": ""}]}"#,
            "rules[0].field",
        ),
        (
            create,
            r#"{"key": "k", "environment": "prod", "rules": [{"field": "id", "operator": "eq", "value": "a"}, {"all": [{"field": "id", "operator": "in", "value": ["a"], "value": ["b"]}]}]}"#,
            "rules[1].all[0].value",
        ),
        (
            create,
            r#"{"key": "k", "environment": "prod", "rules": [{"all": [], "all": [{"field": "id", "operator": "eq", "value": "a"}]}]}"#,
            "rules[0].all",
        ),
        // Before any other check, and the least path whatever the order of the keys.
        (
            create,
            r#"{"rules": [{"field": "id", "field": "id", "operator": "eq", "value": "a"}], "key": "k", "environment": "prod", "key": "k"}"#,
            "key",
        ),
        (
            create,
            r#"{"key": "k", "environment": "prod", "extra": {"a": 1, "a": 2}}"#,
            "extra.a",
        ),
        (
            create,
            r#"{"key": "k", "environment": "qa", "enabled": 1, "enabled": 1}"#,
            "enabled",
        ),
        (
            put.as_str(),
            r#"{"enabled": false, "enabled": true}"#,
            "enabled",
        ),
        (
            put.as_str(),
            r#"{"description": "a", "description": "b"}"#,
            "description",
        ),
        (
            put.as_str(),
            r#"{"rolloutPercentage": 100, "rolloutPercentage": 0}"#,
            "rolloutPercentage",
        ),
        (
            put.as_str(),
            r#"{"rules": [{"field": "id", "operator": "starts_with", "value": "", "operator": "eq"}]}"#,
            "rules[0].operator",
        ),
        (
            put.as_str(),
            r#"{"rules": [{"field": "id", "operator": "eq", "value": "a"}, {"all": [{"field": "country", "operator": "eq", "value": "DE"}, {"field": "id", "operator": "in", "value": ["a"], "value": []}]}]}"#,
            "rules[1].all[1].value",
        ),
        // The finding: this turned `base` off.
        (
            "/api/admin/kill-switch",
            r#"{"key": "nope", "key": "base"}"#,
            "key",
        ),
        (
            "/api/admin/kill-switch",
            r#"{"key": "base", "key": "base"}"#,
            "key",
        ),
    ];
    for (path, body, field) in cases {
        let method = if *path == put { "PUT" } else { "POST" };
        assert_refused(
            &app,
            method,
            path,
            body,
            &format!("{field}: duplicate field"),
        )
        .await;
    }
    // The existing messages stay as they were.
    assert_refused(
        &app,
        "POST",
        create,
        r#"[{"a": 1, "a": 2}]"#,
        "body: must be a JSON object",
    )
    .await;
    assert_refused(&app, "PUT", &put, "[]", "body: must be a JSON object").await;
    assert_refused(
        &app,
        "POST",
        "/api/admin/kill-switch",
        r#"{"key": "base", "x": 1}"#,
        "x: unknown field",
    )
    .await;

    assert_eq!(
        state(&app).await,
        before,
        "a refused write changed something"
    );
    assert_eq!(
        app.decide("prod", "u1", "base").await,
        (false, "NO_MATCH".into())
    );
    // The same key in different objects is no duplicate.
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod", "rules": [
            {"all": [{"field": "id", "operator": "eq", "value": "a"}, {"field": "id", "operator": "eq", "value": "b"}]},
            {"field": "id", "operator": "eq", "value": "c"}]}))
        .await;
    assert_eq!(flag["rules"][0]["all"][1]["value"], "b");
}

async fn nul_in_admin_bodies_is_refused_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let put = base_flag(&app).await;
    let before = state(&app).await;
    let create = "/api/admin/flags";
    let cases: &[(&str, Value, &str)] = &[
        (
            create,
            json!({"key": "k", "environment": "prod", "description": "a\u{0}b"}),
            "description",
        ),
        (
            create,
            json!({"key": "k", "environment": "prod", "rules": [{"field": "email", "operator": "eq", "value": "\u{0}"}]}),
            "rules[0].value",
        ),
        (
            create,
            json!({"key": "k", "environment": "prod", "rules": [{"field": "id", "operator": "eq", "value": "a"}, {"all": [
                {"field": "country", "operator": "in", "value": ["DE", "F\u{0}R"]}]}]}),
            "rules[1].all[0].value[1]",
        ),
        (
            create,
            json!({"key": "k", "environment": "prod", "rules": [{"field": "attributes.a\u{0}b", "operator": "eq", "value": 1}]}),
            "rules[0].field",
        ),
        (
            create,
            json!({"key": "k\u{0}", "environment": "prod"}),
            "key",
        ),
        (put.as_str(), json!({"description": "\u{0}"}), "description"),
        (
            put.as_str(),
            json!({"rules": [{"field": "id", "operator": "ends_with", "value": "x\u{0}"}]}),
            "rules[0].value",
        ),
        (
            put.as_str(),
            json!({"rules": [{"field": "attributes.org.\u{0}", "operator": "eq", "value": true}]}),
            "rules[0].field",
        ),
        ("/api/admin/kill-switch", json!({"key": "base\u{0}"}), "key"),
    ];
    for (path, body, field) in cases {
        let method = if *path == put { "PUT" } else { "POST" };
        assert_refused(
            &app,
            method,
            path,
            &body.to_string(),
            &format!("{field}{NUL}"),
        )
        .await;
    }
    assert_eq!(
        state(&app).await,
        before,
        "a refused write changed something"
    );

    // A backslash followed by `u0000` is text like any other.
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod", "description": "\\u0000"}))
        .await;
    assert_eq!(flag["description"], "\\u0000");
}
