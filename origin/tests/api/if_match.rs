//! `If-Match` on DELETE and on the kill switch, as on PUT: a stale version is 409 and writes nothing
//! (no change, no audit entry, no new revision), garbage is 400, the current version or `*` writes.

use serde_json::{json, Value};

use origin::revision::Revision;

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, TestApp};

backend_tests!(
    delete_honours_if_match,
    delete_and_update_with_one_if_match_never_both_win,
    kill_switch_honours_if_match_on_every_environment,
);

/// What a refused write must leave as it was: every flag, the audit log and every revision.
async fn state_of(app: &TestApp) -> (Value, usize, Vec<Revision>) {
    let flags = app.get("/api/admin/flags").admin().send().await.json()["flags"].clone();
    let audit = app.audit("?limit=500").await["entries"]
        .as_array()
        .expect("entries")
        .len();
    let mut revisions = app.state.store.revisions().await.expect("revisions");
    revisions.sort();
    (flags, audit, revisions)
}

fn path_of(flag: &Value) -> String {
    format!("/api/admin/flags/{}", flag["id"].as_str().expect("id"))
}

async fn delete_honours_if_match(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod", "enabled": true}))
        .await;
    let path = path_of(&flag);
    let reply = app
        .put(&path)
        .admin()
        .json(&json!({"rolloutPercentage": 50}))
        .send()
        .await;
    assert_eq!(reply.json()["flag"]["version"], 2);
    let before = state_of(&app).await;

    let stale = app
        .delete(&path)
        .admin()
        .header("if-match", "1")
        .send()
        .await;
    assert_eq!(
        stale.error(409),
        "If-Match: version 1 is not the current version 2"
    );
    for garbage in ["abc", "-1", "W/\"2\"", "2, 3", ""] {
        let reply = app
            .delete(&path)
            .admin()
            .header("if-match", garbage)
            .send()
            .await;
        assert_eq!(
            reply.error(400),
            "If-Match: must be a flag version, e.g. 3",
            "{garbage:?}"
        );
    }
    assert_eq!(state_of(&app).await, before, "a refused delete wrote");

    let current = app
        .delete(&path)
        .admin()
        .header("if-match", "\"2\"")
        .send()
        .await;
    assert_eq!(current.status.as_u16(), 204, "{}", current.text);
    app.get(&path).admin().send().await.error(404);
    // Gone: any If-Match, even `*`, finds nothing to delete.
    for value in ["2", "*"] {
        app.delete(&path)
            .admin()
            .header("if-match", value)
            .send()
            .await
            .error(404);
    }
    let other = app
        .create_flag(json!({"key": "other", "environment": "dev"}))
        .await;
    let any = app
        .delete(&path_of(&other))
        .admin()
        .header("if-match", "*")
        .send()
        .await;
    assert_eq!(any.status.as_u16(), 204, "{}", any.text);
    let entries = app.audit("").await["entries"].clone();
    let actions: Vec<_> = entries
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| e["action"].as_str().expect("action").to_owned())
        .collect();
    assert_eq!(
        actions,
        [
            "DELETE_FLAG",
            "CREATE_FLAG",
            "DELETE_FLAG",
            "UPDATE_FLAG",
            "CREATE_FLAG"
        ]
    );
}

/// Compare-and-set across the two writes: with the same `If-Match`, a delete and an update of one
/// flag never both succeed (the loser sees 409, or 404 when the delete won).
async fn delete_and_update_with_one_if_match_never_both_win(backend: Backend) {
    let app = spawn_app(backend).await;
    for round in 0..5 {
        let key = format!("k{round}");
        let flag = app
            .create_flag(json!({"key": key, "environment": "prod"}))
            .await;
        let path = path_of(&flag);
        let update = app
            .put(&path)
            .admin()
            .header("if-match", "1")
            .json(&json!({"enabled": true}))
            .send();
        let delete = app.delete(&path).admin().header("if-match", "1").send();
        let (update, delete) = tokio::join!(update, delete);
        let outcome = (update.status.as_u16(), delete.status.as_u16());
        assert!(
            matches!(outcome, (200, 409) | (404, 204)),
            "round {round}: {outcome:?}: {} / {}",
            update.text,
            delete.text
        );
    }
}

async fn kill_switch_honours_if_match_on_every_environment(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut flags = Vec::new();
    for env in ["dev", "staging", "prod"] {
        flags.push(
            app.create_flag(json!({"key": "checkout", "environment": env, "enabled": true, "rolloutPercentage": 100}))
                .await,
        );
    }
    // prod moves to version 2.
    let reply = app
        .put(&path_of(&flags[2]))
        .admin()
        .json(&json!({"description": "v2"}))
        .send()
        .await;
    assert_eq!(reply.json()["flag"]["version"], 2);
    let before = state_of(&app).await;
    let kill = |if_match: &'static str| {
        app.post("/api/admin/kill-switch")
            .admin()
            .header("if-match", if_match)
            .json(&json!({"key": "checkout"}))
            .send()
    };

    assert_eq!(
        kill("1").await.error(409),
        "If-Match: \"checkout\" is not at version 1 in every environment: prod is at 2"
    );
    assert_eq!(
        kill("\"2\"").await.error(409),
        "If-Match: \"checkout\" is not at version 2 in every environment: dev is at 1, staging is at 1"
    );
    for garbage in ["abc", "1.0", "W/\"1\""] {
        assert_eq!(
            kill(garbage).await.error(400),
            "If-Match: must be a flag version, e.g. 3",
            "{garbage:?}"
        );
    }
    // Nothing written by any of them: still on everywhere, no audit entry, no new revision.
    assert_eq!(state_of(&app).await, before, "a refused kill switch wrote");
    for env in ["dev", "staging", "prod"] {
        assert_eq!(
            app.decide(env, "u1", "checkout").await,
            (true, "ROLLOUT".into())
        );
    }
    // An unknown key is 404 whatever If-Match says.
    let reply = app
        .post("/api/admin/kill-switch")
        .admin()
        .header("if-match", "1")
        .json(&json!({"key": "nope"}))
        .send()
        .await;
    assert!(reply.error(404).starts_with("no flag with key"));

    // Every flag of the key at version 2: the condition holds, all three are turned off.
    for flag in &flags[..2] {
        let reply = app
            .put(&path_of(flag))
            .admin()
            .json(&json!({"description": "v2"}))
            .send()
            .await;
        assert_eq!(reply.json()["flag"]["version"], 2);
    }
    let reply = kill("2").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let killed = reply.json()["flags"].clone();
    for flag in killed.as_array().expect("flags") {
        assert_eq!(
            (flag["enabled"].clone(), flag["version"].clone()),
            (json!(false), json!(3))
        );
    }
    for env in ["dev", "staging", "prod"] {
        assert_eq!(app.decide(env, "u1", "checkout").await.1, "FLAG_DISABLED");
    }
    // `*` matches any version: pulled again, nothing left to change.
    let reply = kill("*").await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(reply.json()["flags"], killed);
}
