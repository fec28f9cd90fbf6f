//! The kill switch: one key off in every environment, one transaction, one audit entry per flag.

use serde_json::json;

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend};

backend_tests!(
    kill_switch_disables_the_key_everywhere_and_is_seen_at_once,
    kill_switch_refuses_bad_input_and_unknown_keys,
);

async fn kill_switch_disables_the_key_everywhere_and_is_seen_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    for env in ["dev", "staging", "prod"] {
        app.create_flag(json!({"key": "checkout", "environment": env, "enabled": true, "rolloutPercentage": 100}))
            .await;
    }
    app.create_flag(
        json!({"key": "other", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
    )
    .await;
    for env in ["dev", "staging", "prod"] {
        assert_eq!(
            app.decide(env, "u1", "checkout").await,
            (true, "ROLLOUT".into())
        );
    }

    let reply = app
        .post("/api/admin/kill-switch")
        .admin()
        .header("x-actor", "oncall")
        .json(&json!({"key": "checkout"}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let flags = reply.json()["flags"].as_array().expect("flags").clone();
    let envs: Vec<_> = flags
        .iter()
        .map(|f| f["environment"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(envs, ["dev", "prod", "staging"]);
    for flag in &flags {
        assert_eq!(flag["key"], "checkout");
        assert_eq!(flag["enabled"], false);
        assert_eq!(flag["version"], 2);
        assert_eq!(flag["rolloutPercentage"], 100, "only `enabled` changes");
    }
    for env in ["dev", "staging", "prod"] {
        assert_eq!(
            app.decide(env, "u1", "checkout").await,
            (false, "FLAG_DISABLED".into())
        );
    }
    assert_eq!(
        app.decide("prod", "u1", "other").await,
        (true, "ROLLOUT".into())
    );

    let page = app.audit("?limit=3").await;
    let entries = page["entries"].as_array().unwrap();
    assert!(entries
        .iter()
        .all(|e| e["action"] == "KILL_SWITCH" && e["actor"] == "admin" && e["note"] == "oncall"));
    assert!(entries
        .iter()
        .all(|e| e["before"]["enabled"] == true && e["after"]["enabled"] == false));
    let mut ids: Vec<_> = entries.iter().map(|e| e["entityId"].clone()).collect();
    let mut expected: Vec<_> = flags.iter().map(|f| f["id"].clone()).collect();
    ids.sort_by_key(|v| v.to_string());
    expected.sort_by_key(|v| v.to_string());
    assert_eq!(ids, expected);

    // Pulled again: already off, so nothing changes and nothing more is audited.
    let reply = app
        .post("/api/admin/kill-switch")
        .admin()
        .json(&json!({"key": "checkout"}))
        .send()
        .await;
    assert_eq!(reply.json()["flags"], json!(flags));
    assert_eq!(
        app.audit("").await["entries"].as_array().unwrap().len(),
        4 + 3
    );
}

async fn kill_switch_refuses_bad_input_and_unknown_keys(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(json!({"key": "k", "environment": "prod", "enabled": true}))
        .await;
    let cases = [
        (json!({}), 400, "key: required"),
        (
            json!({"key": "k", "environment": "prod"}),
            400,
            "environment: unknown field",
        ),
        (json!({"key": "a b"}), 400, "key: "),
        (json!({"key": 3}), 400, "key: must be a string"),
        (json!(["k"]), 400, "body: must be a JSON object"),
        (json!({"key": "missing"}), 404, "no flag with key"),
    ];
    for (body, status, expected) in cases {
        let reply = app
            .post("/api/admin/kill-switch")
            .admin()
            .json(&body)
            .send()
            .await;
        let message = reply.error(status);
        assert!(message.starts_with(expected), "{body}: {message}");
    }
    assert_eq!(app.decide("prod", "u", "k").await.1, "NO_MATCH");
    assert_eq!(app.audit("").await["entries"].as_array().unwrap().len(), 1);
}
