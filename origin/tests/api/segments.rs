//! Segments: the admin API (CRUD, `If-Match`, audit), the invalid-segment vectors, the snapshot
//! and evaluation with segments, and revision bumps on segment writes.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, TestApp, EDGE_TOKEN};

backend_tests!(
    segments_are_created_listed_read_updated_and_deleted,
    segment_writes_are_audited_with_their_actor,
    every_invalid_segment_vector_is_refused_with_its_field,
    segment_writes_bump_the_revision_and_change_answers,
    segment_bodies_are_strict,
);

async fn count_segments(app: &TestApp) -> usize {
    let reply = app.get("/api/admin/segments").admin().send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    reply.json()["segments"].as_array().expect("segments").len()
}

async fn segments_are_created_listed_read_updated_and_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let beta = app
        .create_segment(
            json!({"key": "beta", "environment": "prod", "include": ["u1"],
            "rules": [{"field": "attributes.plan", "operator": "eq", "value": "pro"}]}),
        )
        .await;
    let id = beta["id"].as_str().expect("id").to_owned();
    // Every field of the contract's Segment (their order is the unit tests' business).
    let mut names: Vec<&str> = beta
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        [
            "createdAt",
            "description",
            "environment",
            "id",
            "include",
            "key",
            "rules",
            "updatedAt",
            "version"
        ]
    );
    assert_eq!(beta["description"], "");
    assert_eq!(beta["version"], 1);
    assert_eq!(beta["createdAt"], beta["updatedAt"]);

    // One key per environment: the same key elsewhere is another segment.
    let taken = app
        .post("/api/admin/segments")
        .admin()
        .json(&json!({"key": "beta", "environment": "prod"}))
        .send()
        .await;
    assert_eq!(
        taken.error(409),
        "segment \"beta\" already exists in environment \"prod\""
    );
    app.create_segment(json!({"key": "beta", "environment": "dev"}))
        .await;
    app.create_segment(json!({"key": "alpha", "environment": "prod"}))
        .await;

    let list = |query: &'static str| {
        let app = &app;
        async move {
            let reply = app
                .get(&format!("/api/admin/segments{query}"))
                .admin()
                .send()
                .await;
            assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
            reply.json()["segments"]
                .as_array()
                .expect("segments")
                .iter()
                .map(|s| format!("{}/{}", s["environment"].as_str().unwrap(), s["key"]))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list("").await,
        ["prod/\"alpha\"", "dev/\"beta\"", "prod/\"beta\""]
    );
    assert_eq!(list("?environment=prod").await.len(), 2);
    assert_eq!(list("?key=beta").await.len(), 2);
    assert_eq!(list("?environment=prod&key=beta").await, ["prod/\"beta\""]);
    app.get("/api/admin/segments?enviroment=prod")
        .admin()
        .send()
        .await
        .error(400);

    let path = format!("/api/admin/segments/{id}");
    let got = app.get(&path).admin().send().await;
    assert_eq!(got.json()["segment"], beta);

    // PUT: fields left out stay; key and environment cannot change.
    let put = app
        .put(&path)
        .admin()
        .json(&json!({"include": ["u1", "u2"]}))
        .send()
        .await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.text);
    let updated = put.json()["segment"].clone();
    assert_eq!(updated["include"], json!(["u1", "u2"]));
    assert_eq!(updated["rules"], beta["rules"]);
    assert_eq!(updated["version"], 2);
    for field in ["key", "environment"] {
        let reply = app
            .put(&path)
            .admin()
            .json(&json!({field: "x"}))
            .send()
            .await;
        assert_eq!(reply.error(400), format!("{field}: unknown field"));
    }
    let bad = app
        .put(&path)
        .admin()
        .json(&json!({"rules": [{"segment": "alpha"}]}))
        .send()
        .await;
    assert!(bad.error(400).starts_with("rules[0]"), "{}", bad.text);

    // A PUT that changes nothing writes nothing.
    let same = app
        .put(&path)
        .admin()
        .json(&json!({"include": ["u1", "u2"], "description": null}))
        .send()
        .await;
    assert_eq!(same.json()["segment"], updated);

    // If-Match: a stale version is 409 and writes nothing.
    let stale = app
        .put(&path)
        .admin()
        .header("if-match", "1")
        .json(&json!({"description": "late"}))
        .send()
        .await;
    assert_eq!(
        stale.error(409),
        "If-Match: version 1 is not the current version 2"
    );
    let fresh = app
        .put(&path)
        .admin()
        .header("if-match", "\"2\"")
        .json(&json!({"description": "on time"}))
        .send()
        .await;
    assert_eq!(fresh.json()["segment"]["version"], 3);
    app.delete(&path)
        .admin()
        .header("if-match", "2")
        .send()
        .await
        .error(409);

    let deleted = app
        .delete(&path)
        .admin()
        .header("if-match", "3")
        .send()
        .await;
    assert_eq!(deleted.status.as_u16(), 204, "{}", deleted.text);
    assert_eq!(
        app.get(&path).admin().send().await.error(404),
        "segment not found"
    );
    assert_eq!(
        app.delete(&path).admin().send().await.error(404),
        "segment not found"
    );
    app.get("/api/admin/segments/not-a-uuid")
        .admin()
        .send()
        .await
        .error(404);
    assert_eq!(count_segments(&app).await, 2);
    // Without the admin token: 401.
    app.get("/api/admin/segments").send().await.error(401);
}

async fn segment_writes_are_audited_with_their_actor(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app
        .post("/api/admin/segments")
        .admin()
        .header("x-actor", "ada")
        .json(&json!({"key": "beta", "environment": "staging", "include": ["u1"]}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 201, "{}", reply.text);
    let created = reply.json()["segment"].clone();
    let id = created["id"].as_str().expect("id");
    let path = format!("/api/admin/segments/{id}");
    let updated = app
        .put(&path)
        .admin()
        .json(&json!({"include": []}))
        .send()
        .await
        .json()["segment"]
        .clone();
    app.delete(&path)
        .admin()
        .header("x-actor", "bob")
        .send()
        .await;
    let entries = app.audit(&format!("?entityId={id}")).await["entries"].clone();
    let summary: Vec<(String, String, String)> = entries
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_owned(),
                e["entity"].as_str().unwrap().to_owned(),
                format!("{}/{}", e["actor"].as_str().unwrap(), e["note"]),
            )
        })
        .collect();
    let entry =
        |action: &str, actor: &str| (action.to_owned(), "Segment".to_owned(), actor.to_owned());
    assert_eq!(
        summary,
        [
            entry("DELETE_SEGMENT", "admin/\"bob\""),
            entry("UPDATE_SEGMENT", "admin/null"),
            entry("CREATE_SEGMENT", "admin/\"ada\""),
        ]
    );
    assert_eq!(entries[2]["before"], Value::Null);
    assert_eq!(entries[2]["after"], created);
    assert_eq!(entries[1]["before"], created);
    assert_eq!(entries[1]["after"], updated);
    assert_eq!(entries[0]["before"], updated);
    assert_eq!(entries[0]["after"], Value::Null);
    assert!(entries[0].get("unreadable").is_none());
}

/// `tests/vectors/invalid/segments.json`, when it is there: `{name, segment, field, message}`.
async fn every_invalid_segment_vector_is_refused_with_its_field(backend: Backend) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/invalid/segments.json"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        eprintln!("{path} is not there (yet): nothing to run");
        return;
    };
    let file: Value = serde_json::from_str(&text).expect("vector file is JSON");
    let cases = file["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let app = spawn_app(backend).await;
    for case in cases {
        let mut segment = case["segment"].clone();
        let Some(object) = segment.as_object_mut() else {
            continue;
        };
        object.entry("environment").or_insert(json!("prod"));
        let reply = app
            .post("/api/admin/segments")
            .admin()
            .json(&segment)
            .send()
            .await;
        let expected = format!(
            "{}: {}",
            case["field"].as_str().expect("field"),
            case["message"].as_str().expect("message")
        );
        assert_eq!(reply.error(400), expected, "{}", case["name"]);
    }
    assert_eq!(count_segments(&app).await, 0);
}

async fn segment_writes_bump_the_revision_and_change_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let beta = app
        .create_segment(json!({"key": "beta", "environment": "prod", "include": ["u1"]}))
        .await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod", "enabled": true,
            "rules": [{"segment": "beta"}]}))
        .await;
    let snapshot = app.snapshot("prod").await;
    assert_eq!(snapshot["revision"], 2);
    assert_eq!(snapshot["flags"], json!([flag]));
    assert_eq!(snapshot["segments"], json!([beta]));
    assert_eq!(
        app.decide("prod", "u1", "k").await,
        (true, "RULE_MATCH".into())
    );
    assert_eq!(
        app.decide("prod", "u2", "k").await,
        (false, "NO_MATCH".into())
    );

    // A segment write is seen by the next evaluation, and by the edge as a new revision.
    let path = format!("/api/admin/segments/{}", beta["id"].as_str().unwrap());
    app.put(&path)
        .admin()
        .json(&json!({"include": ["u2"]}))
        .send()
        .await;
    assert_eq!(
        app.decide("prod", "u1", "k").await,
        (false, "NO_MATCH".into())
    );
    assert_eq!(
        app.decide("prod", "u2", "k").await,
        (true, "RULE_MATCH".into())
    );
    let reply = app
        .get("/api/flags/snapshot?environment=prod")
        .header("x-edge-token", EDGE_TOKEN)
        .header("if-none-match", "\"2\"")
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.header("etag"), Some("\"3\""));
    assert_eq!(reply.json()["segments"][0]["include"], json!(["u2"]));
    // Other environments are not touched.
    assert_eq!(app.snapshot("dev").await["revision"], 0);
    app.create_segment(json!({"key": "other", "environment": "dev"}))
        .await;
    assert_eq!(app.snapshot("dev").await["revision"], 1);
    assert_eq!(app.snapshot("prod").await["revision"], 3);
    // Segments sorted by key in the snapshot.
    app.create_segment(json!({"key": "alpha", "environment": "prod"}))
        .await;
    let keys: Vec<Value> = app.snapshot("prod").await["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .map(|s| s["key"].clone())
        .collect();
    assert_eq!(keys, [json!("alpha"), json!("beta")]);
}

async fn segment_bodies_are_strict(backend: Backend) {
    let app = spawn_app(backend).await;
    for (body, expected) in [
        (
            r#"{"key": "a", "environment": "prod", "key": "b"}"#,
            "key: duplicate field",
        ),
        (r#"{"key": "a"}"#, "environment: required"),
        (
            r#"{"key": "a", "environment": "prod", "id": "x"}"#,
            "id: unknown field",
        ),
        (
            r#"{"key": "a", "environment": "prod", "include": ["a\u0000"]}"#,
            "include[0]: must not contain the NUL character (\\u0000)",
        ),
        (r#"[]"#, "body: must be a JSON object"),
    ] {
        let reply = app
            .post("/api/admin/segments")
            .admin()
            .raw(body.to_owned())
            .send()
            .await;
        assert_eq!(reply.error(400), expected, "{body}");
    }
    let reply = app
        .post("/api/admin/segments")
        .admin()
        .typed(Some("text/plain"), r#"{"key": "a", "environment": "prod"}"#)
        .send()
        .await;
    reply.error(415);
    assert_eq!(count_segments(&app).await, 0);
}
