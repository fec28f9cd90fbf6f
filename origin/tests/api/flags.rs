//! Create, list, get, update (partial, If-Match, concurrent) and delete.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, TestApp};

backend_tests!(
    create_answers_201_with_the_contract_defaults,
    create_refuses_a_taken_key_in_the_same_environment_only,
    create_refuses_bad_input_and_writes_nothing,
    every_invalid_flag_vector_is_refused_with_its_field,
    bodies_over_one_mebibyte_are_413,
    admin_endpoints_need_the_token,
    list_filters_by_environment_and_key,
    get_finds_by_id_and_404s_otherwise,
    update_changes_only_the_given_fields,
    an_update_that_changes_nothing_writes_nothing,
    update_refuses_bad_input_and_writes_nothing,
    update_with_a_stale_if_match_is_409_and_writes_nothing,
    concurrent_updates_with_one_if_match_exactly_one_wins,
    delete_removes_the_flag,
);

fn id_of(flag: &Value) -> String {
    flag["id"].as_str().expect("flag id").to_owned()
}

async fn count_flags(app: &TestApp) -> usize {
    let reply = app.get("/api/admin/flags").admin().send().await;
    reply.json()["flags"].as_array().expect("flags").len()
}

async fn create_answers_201_with_the_contract_defaults(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "new_checkout_flow", "environment": "prod"}))
        .await;
    assert!(uuid::Uuid::parse_str(&id_of(&flag)).is_ok(), "{flag}");
    assert_eq!(flag["key"], "new_checkout_flow");
    assert_eq!(flag["environment"], "prod");
    assert_eq!(flag["description"], "");
    assert_eq!(flag["enabled"], false);
    assert_eq!(flag["rolloutPercentage"], 0);
    assert_eq!(flag["rules"], json!([]));
    assert_eq!(flag["version"], 1);
    let created = flag["createdAt"].as_str().expect("createdAt");
    assert!(chrono::DateTime::parse_from_rfc3339(created).is_ok() && created.ends_with('Z'));
    assert_eq!(flag["updatedAt"], flag["createdAt"]);

    // What is read back is what was answered.
    let reply = app
        .get(&format!("/api/admin/flags/{}", id_of(&flag)))
        .admin()
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["flag"], flag);

    let full = app
        .create_flag(json!({
            "key": "beta", "environment": "dev", "description": "d", "enabled": true,
            "rolloutPercentage": 40,
            "rules": [{"all": [{"field": "attributes.org.tier", "operator": "in", "value": ["gold", 3, true]}]}]
        }))
        .await;
    assert_eq!(full["enabled"], true);
    assert_eq!(full["rolloutPercentage"], 40);
    assert_eq!(
        full["rules"][0]["all"][0]["value"],
        json!(["gold", 3, true])
    );
}

async fn create_refuses_a_taken_key_in_the_same_environment_only(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let reply = app
        .post("/api/admin/flags")
        .admin()
        .json(&json!({"key": "k", "environment": "prod", "enabled": true}))
        .send()
        .await;
    assert!(reply.error(409).contains("already exists"));
    app.create_flag(json!({"key": "k", "environment": "dev"}))
        .await;
    assert_eq!(count_flags(&app).await, 2);
    assert_eq!(app.audit("").await["entries"].as_array().unwrap().len(), 2);
}

async fn create_refuses_bad_input_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let cases: &[(&str, &str)] = &[
        (r#"{"key": "k", "environment": "prod""#, "invalid JSON"),
        ("not json", "invalid JSON"),
        ("", "invalid JSON"),
        ("[1]", "body: must be a JSON object"),
        (
            r#"{"key": "k", "environment": "prod", "color": "red"}"#,
            "color: unknown field",
        ),
        (
            r#"{"key": "k", "environment": "prod", "version": 7}"#,
            "version: unknown field",
        ),
        (
            r#"{"key": "k", "environment": "prod", "enabled": "yes"}"#,
            "enabled: must be a boolean",
        ),
        (
            r#"{"key": "k", "environment": "prod", "rolloutPercentage": 101}"#,
            "rolloutPercentage: ",
        ),
        (
            r#"{"key": "k", "environment": "prod", "rolloutPercentage": -1}"#,
            "rolloutPercentage: ",
        ),
        (
            r#"{"key": "k", "environment": "prod", "rules": [{"field": "id", "operator": "like", "value": "a"}]}"#,
            "rules[0].operator: unknown operator \"like\"",
        ),
        (
            r#"{"key": "k", "environment": "prod", "rules": [{"field": "name", "operator": "eq", "value": "a"}]}"#,
            "rules[0].field: unknown field \"name\"",
        ),
        (
            r#"{"key": "k", "environment": "prod", "rules": [{"field": "country", "operator": "in", "value": "DE"}]}"#,
            "rules[0].value: in needs a non-empty array",
        ),
        (r#"{"key": "has space", "environment": "prod"}"#, "key: "),
        (r#"{"key": "k", "environment": "qa"}"#, "environment: "),
        (r#"{"key": "k"}"#, "environment: required"),
        (r#"{"environment": "prod"}"#, "key: required"),
    ];
    for (body, expected) in cases {
        let reply = app
            .post("/api/admin/flags")
            .admin()
            .raw(body.to_string())
            .send()
            .await;
        let message = reply.error(400);
        assert!(
            message.starts_with(expected),
            "{body}: {message:?} should start with {expected:?}"
        );
    }
    assert_eq!(count_flags(&app).await, 0);
    assert_eq!(app.audit("").await["entries"], json!([]));
}

async fn every_invalid_flag_vector_is_refused_with_its_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/invalid/flags.json"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let file: Value = serde_json::from_str(&text).expect("vector file is JSON");
    let cases = file["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    for case in cases {
        let mut flag = case["flag"].clone();
        let Some(object) = flag.as_object_mut() else {
            continue;
        };
        // The origin needs an environment on create; the vectors that test it bring their own.
        object.entry("environment").or_insert(json!("prod"));
        let reply = app
            .post("/api/admin/flags")
            .admin()
            .json(&flag)
            .send()
            .await;
        let expected = format!(
            "{}: {}",
            case["field"].as_str().expect("field"),
            case["message"].as_str().expect("message")
        );
        assert_eq!(reply.error(400), expected, "{}", case["name"]);
    }
    assert_eq!(count_flags(&app).await, 0);
}

async fn bodies_over_one_mebibyte_are_413(backend: Backend) {
    let app = spawn_app(backend).await;
    let description = "x".repeat(1024 * 1024);
    let body = json!({"key": "big", "environment": "prod", "description": description});
    let reply = app
        .post("/api/admin/flags")
        .admin()
        .json(&body)
        .send()
        .await;
    reply.error(413);
    let body = json!({"environment": "prod", "user": {"id": description}});
    app.post("/api/evaluate")
        .json(&body)
        .send()
        .await
        .error(413);
    assert_eq!(count_flags(&app).await, 0);
}

async fn admin_endpoints_need_the_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let by_id = format!("/api/admin/flags/{}", id_of(&flag));
    let calls = [
        app.get("/api/admin/flags"),
        app.post("/api/admin/flags")
            .json(&json!({"key": "x", "environment": "prod"})),
        app.get(&by_id),
        app.put(&by_id).json(&json!({"enabled": true})),
        app.delete(&by_id),
        app.post("/api/admin/kill-switch")
            .json(&json!({"key": "k"})),
        app.get("/api/admin/audit"),
    ];
    for call in calls {
        call.send().await.error(401);
    }
    let calls = [
        app.get("/api/admin/flags").header("x-admin-token", "wrong"),
        app.delete(&by_id)
            .header("x-admin-token", "test-admin-toke"),
        app.delete(&by_id)
            .header("x-admin-token", "test-admin-token2"),
    ];
    for call in calls {
        call.send().await.error(401);
    }
    // Nothing was written by the refused calls.
    let reply = app.get(&by_id).admin().send().await;
    assert_eq!(reply.json()["flag"], flag);
    assert_eq!(count_flags(&app).await, 1);
}

async fn list_filters_by_environment_and_key(backend: Backend) {
    let app = spawn_app(backend).await;
    for (key, env) in [("b", "prod"), ("a", "prod"), ("a", "dev"), ("c", "staging")] {
        app.create_flag(json!({"key": key, "environment": env}))
            .await;
    }
    let list = |query: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .get(&format!("/api/admin/flags{query}"))
                .admin()
                .send()
                .await;
            assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
            reply.json()["flags"]
                .as_array()
                .expect("flags")
                .iter()
                .map(|f| {
                    format!(
                        "{}/{}",
                        f["key"].as_str().unwrap(),
                        f["environment"].as_str().unwrap()
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(list("").await, ["a/dev", "a/prod", "b/prod", "c/staging"]);
    assert_eq!(list("?environment=prod").await, ["a/prod", "b/prod"]);
    assert_eq!(list("?key=a").await, ["a/dev", "a/prod"]);
    assert_eq!(list("?environment=dev&key=a").await, ["a/dev"]);
    assert!(list("?environment=staging&key=a").await.is_empty());
    let reply = app
        .get("/api/admin/flags?environment=qa")
        .admin()
        .send()
        .await;
    assert!(reply.error(400).starts_with("environment: "));
    let reply = app
        .get("/api/admin/flags?enviroment=prod")
        .admin()
        .send()
        .await;
    assert!(reply.error(400).starts_with("enviroment: unknown field"));
    let reply = app.get("/api/admin/flags?key=a%20b").admin().send().await;
    assert!(reply.error(400).starts_with("key: "));
}

async fn get_finds_by_id_and_404s_otherwise(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let reply = app
        .get(&format!("/api/admin/flags/{}", id_of(&flag)))
        .admin()
        .send()
        .await;
    // With its usage (none yet): `tests/api/usage.rs` reads it as it grows.
    let body = reply.json();
    assert_eq!(body["flag"], flag);
    assert_eq!(body["usage"]["last24h"], json!({}));
    assert_eq!(body["usage"]["lastEvaluatedAt"], Value::Null);
    assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    let unknown = uuid::Uuid::new_v4();
    for path in [
        format!("/api/admin/flags/{unknown}"),
        "/api/admin/flags/not-a-uuid".into(),
    ] {
        app.get(&path).admin().send().await.error(404);
        app.put(&path)
            .admin()
            .json(&json!({"enabled": true}))
            .send()
            .await
            .error(404);
        app.delete(&path).admin().send().await.error(404);
    }
}

async fn update_changes_only_the_given_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let rules = json!([{"field": "country", "operator": "eq", "value": "DE"}]);
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod", "description": "d", "rolloutPercentage": 30, "rules": rules}))
        .await;
    let path = format!("/api/admin/flags/{}", id_of(&flag));
    let reply = app
        .put(&path)
        .admin()
        .json(&json!({"enabled": true}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let updated = reply.json()["flag"].clone();
    assert_eq!(updated["enabled"], true);
    assert_eq!(updated["version"], 2);
    for field in [
        "id",
        "key",
        "environment",
        "description",
        "rolloutPercentage",
        "rules",
        "createdAt",
    ] {
        assert_eq!(updated[field], flag[field], "{field}");
    }
    let reply = app
        .put(&path)
        .admin()
        .json(&json!({"rolloutPercentage": 0, "rules": [], "description": "e", "enabled": null}))
        .send()
        .await;
    let updated = reply.json()["flag"].clone();
    assert_eq!(updated["rolloutPercentage"], 0);
    assert_eq!(updated["rules"], json!([]));
    assert_eq!(updated["description"], "e");
    assert_eq!(updated["enabled"], true, "null leaves a field as it is");
    assert_eq!(updated["version"], 3);
    let reply = app.get(&path).admin().send().await;
    assert_eq!(reply.json()["flag"], updated);
}

async fn an_update_that_changes_nothing_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(
            json!({"key": "k", "environment": "prod", "description": "d", "rolloutPercentage": 30}),
        )
        .await;
    let path = format!("/api/admin/flags/{}", id_of(&flag));
    let snapshot_revision = || async {
        let reply = app
            .get("/api/flags/snapshot?environment=prod")
            .header("x-edge-token", crate::helpers::EDGE_TOKEN)
            .send()
            .await;
        reply.json()["revision"].clone()
    };
    let revision = snapshot_revision().await;
    for body in [
        json!({}),
        json!({"description": "d", "rolloutPercentage": 30, "enabled": false, "rules": []}),
    ] {
        let reply = app
            .put(&path)
            .admin()
            .header("if-match", "1")
            .json(&body)
            .send()
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
        assert_eq!(
            reply.json()["flag"],
            flag,
            "{body}: the flag as it is, version 1"
        );
    }
    // A stale If-Match is still a conflict, even for a change of nothing.
    app.put(&path)
        .admin()
        .header("if-match", "7")
        .json(&json!({}))
        .send()
        .await
        .error(409);
    assert_eq!(
        snapshot_revision().await,
        revision,
        "the environment's revision did not move"
    );
    assert_eq!(app.audit("").await["entries"].as_array().unwrap().len(), 1);
}

async fn update_refuses_bad_input_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let path = format!("/api/admin/flags/{}", id_of(&flag));
    let cases: &[(&str, &str)] = &[
        ("{", "invalid JSON"),
        (r#"{"key": "other"}"#, "key: unknown field"),
        (r#"{"environment": "dev"}"#, "environment: unknown field"),
        (r#"{"enabled": "true"}"#, "enabled: must be a boolean"),
        (r#"{"description": 5}"#, "description: must be a string"),
        (r#"{"rolloutPercentage": 250}"#, "rolloutPercentage: "),
        (r#"{"rules": {"field": "id"}}"#, "rules: must be an array"),
        (
            r#"{"enabled": true, "rules": [{"field": "id", "operator": "eq", "value": "a"}, {"all": []}]}"#,
            "rules[1].all: ",
        ),
    ];
    for (body, expected) in cases {
        let reply = app.put(&path).admin().raw(body.to_string()).send().await;
        let message = reply.error(400);
        assert!(message.starts_with(expected), "{body}: {message:?}");
    }
    app.put(&path)
        .admin()
        .header("if-match", "v1")
        .json(&json!({}))
        .send()
        .await
        .error(400);
    let reply = app.get(&path).admin().send().await;
    assert_eq!(reply.json()["flag"], flag);
    assert_eq!(app.audit("").await["entries"].as_array().unwrap().len(), 1);
}

async fn update_with_a_stale_if_match_is_409_and_writes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let path = format!("/api/admin/flags/{}", id_of(&flag));
    let reply = app
        .put(&path)
        .admin()
        .header("if-match", "1")
        .json(&json!({"enabled": true}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    assert_eq!(reply.json()["flag"]["version"], 2);
    let reply = app
        .put(&path)
        .admin()
        .header("if-match", "1")
        .json(&json!({"rolloutPercentage": 99}))
        .send()
        .await;
    assert!(reply.error(409).contains("version"));
    let reply = app
        .put(&path)
        .admin()
        .header("if-match", "\"2\"")
        .json(&json!({"rolloutPercentage": 5}))
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text);
    let current = reply.json()["flag"].clone();
    assert_eq!(current["rolloutPercentage"], 5);
    assert_eq!(current["version"], 3);
    assert_eq!(app.audit("").await["entries"].as_array().unwrap().len(), 3);
}

async fn concurrent_updates_with_one_if_match_exactly_one_wins(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let path = format!("/api/admin/flags/{}", id_of(&flag));
    for round in 1..=5_u64 {
        let version = round.to_string();
        // Values no earlier round wrote: an update to the value already there changes nothing.
        let first = app
            .put(&path)
            .admin()
            .header("if-match", &version)
            .json(&json!({"rolloutPercentage": 10 + 2 * round}))
            .send();
        let second = app
            .put(&path)
            .admin()
            .header("if-match", &version)
            .json(&json!({"rolloutPercentage": 11 + 2 * round}))
            .send();
        let (a, b) = tokio::join!(first, second);
        let mut statuses = [a.status.as_u16(), b.status.as_u16()];
        statuses.sort_unstable();
        assert_eq!(
            statuses,
            [200, 409],
            "round {round}: {} / {}",
            a.text,
            b.text
        );
    }
    let reply = app.get(&path).admin().send().await;
    assert_eq!(reply.json()["flag"]["version"], 6);
    // One audit entry per successful write: the create and five winners.
    assert_eq!(app.audit("").await["entries"].as_array().unwrap().len(), 6);
}

async fn delete_removes_the_flag(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    let other = app
        .create_flag(json!({"key": "k", "environment": "dev"}))
        .await;
    let path = format!("/api/admin/flags/{}", id_of(&flag));
    let reply = app.delete(&path).admin().send().await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.text.is_empty());
    app.get(&path).admin().send().await.error(404);
    app.delete(&path).admin().send().await.error(404);
    let reply = app
        .get(&format!("/api/admin/flags/{}", id_of(&other)))
        .admin()
        .send()
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    // The key is free again in that environment.
    app.create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
}
