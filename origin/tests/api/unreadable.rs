//! A stored row that cannot be read takes down only itself: evaluations, the snapshot, the list,
//! the audit log and the kill switch go on without it and name it; GET and PUT of it answer a
//! clear 500; DELETE removes it; `/health` names it. The rows are made with SQL, as no API write
//! can make them.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, SiblingCache, TestApp, EDGE_TOKEN};

backend_tests!(
    an_unreadable_flag_takes_down_only_itself,
    health_names_an_unreadable_segment,
);

fn id_of(flag: &Value) -> String {
    flag["id"].as_str().expect("id").to_owned()
}

fn keys(flags: &Value) -> Vec<String> {
    flags
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {flags}"))
        .iter()
        .map(|flag| {
            let key = flag["key"]
                .as_str()
                .or_else(|| flag["flagKey"].as_str())
                .expect("key");
            match flag["environment"].as_str() {
                Some(environment) => format!("{key}/{environment}"),
                None => key.to_owned(),
            }
        })
        .collect()
}

async fn evaluated_keys(app: &TestApp) -> Vec<String> {
    let body = app
        .evaluate(json!({"environment": "prod", "user": {"id": "u"}}))
        .await;
    keys(&body["results"])
}

async fn snapshot_keys(app: &TestApp) -> Vec<String> {
    let reply = app
        .get("/api/flags/snapshot?environment=prod")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    keys(&reply.json()["flags"])
}

async fn list(app: &TestApp, query: &str) -> Value {
    let reply = app
        .get(&format!("/api/admin/flags{query}"))
        .admin()
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    reply.json()
}

async fn health(app: &TestApp) -> Value {
    let reply = app.get("/health").send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    reply.json()
}

fn unreadable_message(id: &str) -> String {
    format!(
        "flag {id} is stored but cannot be read; delete it (DELETE /api/admin/flags/{id}) and create it again"
    )
}

/// The stored JSON of the newest audit entry of `id` with `action`, read with SQL.
async fn stored_audit(app: &TestApp, id: &str, action: &str, side: &str) -> Value {
    let cast = if matches!(app.config.database, origin::DatabaseUrl::Sqlite(_)) {
        ""
    } else {
        "::text"
    };
    let rows = app
        .sql(&format!(
            "SELECT {side}{cast} FROM audit_log WHERE entity_id = '{id}' AND action = '{action}' \
             ORDER BY seq DESC"
        ))
        .await;
    serde_json::from_str(rows.first().expect("an audit entry")).expect("JSON")
}

async fn an_unreadable_flag_takes_down_only_itself(backend: Backend) {
    let app = spawn_app(backend).await;
    let on = |key: &str, environment: &str| json!({"key": key, "environment": environment, "enabled": true, "rolloutPercentage": 100});
    app.create_flag(on("good", "prod")).await;
    let bad = id_of(&app.create_flag(on("bad", "prod")).await);
    let bad_dev = id_of(&app.create_flag(on("bad", "dev")).await);
    let huge = id_of(&app.create_flag(on("huge", "prod")).await);
    // What no API write can store: an operator the evaluator does not know, and a number no
    // double holds (what jsonb's 309-digit spelling of f64::MAX was to the old parser).
    app.sql(&format!(
        r#"UPDATE flags SET rules = '[{{"field":"id","operator":"like","value":"a"}}]' WHERE id = '{bad}'"#
    ))
    .await;
    app.sql(&format!(
        r#"UPDATE flags SET rules = '[{{"field":"attributes.n","operator":"eq","value":1e400}}]' WHERE id = '{huge}'"#
    ))
    .await;
    app.sql(&format!(
        r#"UPDATE audit_log SET after = '{{"key":"bad","rules":"broken"}}' WHERE entity_id = '{bad}'"#
    ))
    .await;
    let reported = json!([
        {"id": bad, "environment": "prod", "key": "bad"},
        {"id": huge, "environment": "prod", "key": "huge"},
    ]);

    // Evaluations and the snapshot serve the other flags; the unreadable one is not there.
    assert_eq!(evaluated_keys(&app).await, ["good"]);
    assert_eq!(
        app.decide("prod", "u", "bad").await,
        (false, "FLAG_NOT_FOUND".into())
    );
    assert_eq!(snapshot_keys(&app).await, ["good/prod"]);

    // The list answers with the others and names the unreadable ones (no reason: that is logged).
    let all = list(&app, "").await;
    assert_eq!(keys(&all["flags"]), ["bad/dev", "good/prod"]);
    assert_eq!(all["unreadable"], reported);
    let dev = list(&app, "?environment=dev").await;
    assert_eq!(
        dev.as_object().map(|o| o.len()),
        Some(1),
        "no `unreadable` when none: {dev}"
    );

    // GET and PUT of it: a clear error naming the id and the way out, nothing of the row.
    let path = format!("/api/admin/flags/{bad}");
    let message = app.get(&path).admin().send().await.error(500);
    assert_eq!(message, unreadable_message(&bad));
    let message = app
        .put(&path)
        .admin()
        .json(&json!({"enabled": false}))
        .send()
        .await
        .error(500);
    assert_eq!(message, unreadable_message(&bad));

    // The audit log lists the entry; the side that cannot be read is null and named.
    let audit = app.audit(&format!("?entityId={bad}")).await;
    let entries = audit["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), 1, "{audit}");
    assert_eq!(entries[0]["action"], "CREATE_FLAG");
    assert_eq!(entries[0]["after"], Value::Null);
    assert_eq!(entries[0]["unreadable"], json!(["after"]));
    assert!(app.audit("").await["entries"].as_array().unwrap().len() >= 4);

    // /health names them; evaluations go on, so 200.
    let body = health(&app).await;
    assert_eq!(body["status"], "degraded");
    assert_eq!(body["store"], "degraded");
    assert_eq!(body["evaluations"], "ok");
    assert_eq!(body["unreadableFlags"], reported);

    // A restart does not bring it back: a fresh origin reads the store and does the same.
    let fresh = app.sibling(SiblingCache::Fresh, None).await;
    assert_eq!(evaluated_keys(&fresh).await, ["good"]);
    assert_eq!(health(&fresh).await["unreadableFlags"], reported);
    drop(fresh);

    // If-Match on the kill switch reads the unreadable row's version too: a stale one writes
    // nothing, the current one goes through.
    let reply = app
        .post("/api/admin/kill-switch")
        .admin()
        .header("if-match", "2")
        .json(&json!({"key": "bad"}))
        .send()
        .await;
    assert_eq!(
        reply.error(409),
        "If-Match: \"bad\" is not at version 2 in every environment: dev is at 1, prod is at 1"
    );
    let state = app
        .sql(&format!(
            "SELECT CASE WHEN enabled THEN 'on' ELSE 'off' END FROM flags WHERE id = '{bad}'"
        ))
        .await;
    assert_eq!(state, ["on"], "a refused kill switch wrote");

    // The kill switch turns the key off everywhere, the unreadable row included (in SQL).
    let reply = app
        .post("/api/admin/kill-switch")
        .admin()
        .header("if-match", "1")
        .json(&json!({"key": "bad"}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let killed = reply.json();
    assert_eq!(keys(&killed["flags"]), ["bad/dev"]);
    assert_eq!(killed["flags"][0]["enabled"], false);
    assert_eq!(
        killed["unreadable"],
        json!([{"id": bad, "environment": "prod", "key": "bad"}])
    );
    let state = app
        .sql(&format!(
            "SELECT CASE WHEN enabled THEN 'on' ELSE 'off' END FROM flags WHERE id = '{bad}'"
        ))
        .await;
    assert_eq!(state, ["off"]);
    let after = stored_audit(&app, &bad, "KILL_SWITCH", "after").await;
    assert_eq!(
        (&after["enabled"], &after["version"]),
        (&json!(false), &json!(2))
    );
    let newest = &app.audit(&format!("?entityId={bad}&limit=1")).await["entries"][0];
    assert_eq!(newest["action"], "KILL_SWITCH");
    assert_eq!(newest["unreadable"], json!(["before", "after"]));
    assert_eq!(
        app.decide("dev", "u", "bad").await,
        (false, "FLAG_DISABLED".into())
    );
    assert_eq!(evaluated_keys(&app).await, ["good"]);

    // DELETE repairs: the rows go, the audit keeps what could be recovered of each. If-Match
    // reads the unreadable row's version as for any other (`huge` is at 1, `bad` at 2 since the
    // kill switch).
    let reply = app
        .delete(&format!("/api/admin/flags/{huge}"))
        .admin()
        .header("if-match", "7")
        .send()
        .await;
    assert_eq!(
        reply.error(409),
        "If-Match: version 7 is not the current version 1"
    );
    for id in [&bad, &huge] {
        let reply = app
            .delete(&format!("/api/admin/flags/{id}"))
            .admin()
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 204, "{}", reply.text);
        app.get(&format!("/api/admin/flags/{id}"))
            .admin()
            .send()
            .await
            .error(404);
    }
    let recovered = stored_audit(&app, &bad, "DELETE_FLAG", "before").await;
    assert_eq!(recovered["key"], "bad");
    assert_eq!(recovered["enabled"], false);
    assert_eq!(recovered["rules"][0]["operator"], "like");
    let recovered = stored_audit(&app, &huge, "DELETE_FLAG", "before").await;
    assert!(
        recovered["rules"]
            .as_str()
            .is_some_and(|r| r.contains("1e400")),
        "not JSON a double holds, so kept as text: {recovered}"
    );
    let newest = &app.audit(&format!("?entityId={huge}&limit=1")).await["entries"][0];
    assert_eq!(newest["action"], "DELETE_FLAG");
    assert_eq!(newest["before"], Value::Null);
    assert_eq!(newest["unreadable"], json!(["before"]));

    // Back to normal, byte for byte: no `unreadable` anywhere.
    let body = health(&app).await;
    assert_eq!(
        (&body["status"], &body["store"]),
        (&json!("ok"), &json!("ok"))
    );
    assert!(body.get("unreadableFlags").is_none(), "{body}");
    let all = list(&app, "").await;
    assert!(all.get("unreadable").is_none(), "{all}");
    assert_eq!(keys(&all["flags"]), ["bad/dev", "good/prod"]);
    let reply = app
        .get(&format!("/api/admin/flags/{bad_dev}"))
        .admin()
        .send()
        .await;
    assert_eq!(reply.json()["flag"]["enabled"], false, "{}", reply.text);
    assert_eq!(evaluated_keys(&app).await, ["good"]);
}

/// SQLite types columns per value, so a hand edit can also leave a column of the wrong type, text
/// that is not a timestamp, or (with its CHECK constraints off) text that is not JSON: each makes
/// only its row unreadable.
#[tokio::test]
async fn sqlite_columns_of_the_wrong_type_make_only_their_row_unreadable() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut ids = Vec::new();
    for key in ["a", "b", "c", "d"] {
        let flag = app
            .create_flag(json!({"key": key, "environment": "prod", "enabled": true, "rolloutPercentage": 100}))
            .await;
        ids.push(id_of(&flag));
    }
    let (a, b, c) = (&ids[0], &ids[1], &ids[2]);
    app.sql(&format!("UPDATE flags SET version = 'x' WHERE id = '{a}'"))
        .await;
    app.sql(&format!(
        "PRAGMA ignore_check_constraints = ON; UPDATE flags SET rules = 'not json' WHERE id = '{b}'"
    ))
    .await;
    app.sql(&format!(
        "UPDATE flags SET created_at = 'yesterday' WHERE id = '{c}'"
    ))
    .await;
    app.sql(&format!(
        "UPDATE audit_log SET created_at = 'never' WHERE entity_id = '{c}'"
    ))
    .await;

    assert_eq!(evaluated_keys(&app).await, ["d"]);
    assert_eq!(snapshot_keys(&app).await, ["d/prod"]);
    let all = list(&app, "").await;
    assert_eq!(keys(&all["flags"]), ["d/prod"]);
    let named: Vec<&str> = all["unreadable"]
        .as_array()
        .expect("unreadable")
        .iter()
        .map(|u| u["id"].as_str().expect("id"))
        .collect();
    assert_eq!(named, [a.as_str(), b.as_str(), c.as_str()]);
    assert_eq!(health(&app).await["unreadableFlags"], all["unreadable"]);

    // An audit entry whose own columns do not read is left out of its page and named there.
    let audit = app.audit("").await;
    assert_eq!(audit["entries"].as_array().expect("entries").len(), 3);
    assert_eq!(audit["unreadable"][0]["entityId"], c.as_str());

    for id in [a, b, c] {
        let reply = app
            .delete(&format!("/api/admin/flags/{id}"))
            .admin()
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 204, "{}", reply.text);
    }
    assert_eq!(evaluated_keys(&app).await, ["d"]);
    assert!(health(&app).await.get("unreadableFlags").is_none());
    let recovered = stored_audit(&app, b, "DELETE_FLAG", "before").await;
    assert_eq!(recovered["rules"], "not json");
    // What was recovered lacks the column that did not read (the version, the rules, the
    // timestamp): it is no flag, so the audit API shows it as unreadable rather than as a flag
    // without that field.
    for id in [a, b, c] {
        let newest = &app.audit(&format!("?entityId={id}&limit=1")).await["entries"][0];
        assert_eq!(newest["action"], "DELETE_FLAG", "{newest}");
        assert_eq!(newest["before"], Value::Null, "{newest}");
        assert_eq!(newest["unreadable"], json!(["before"]), "{newest}");
    }
}

/// A segment row that cannot be read changes answers (flags that name it find no members), so
/// `/health` names it until it is deleted, as it names flags.
async fn health_names_an_unreadable_segment(backend: Backend) {
    let app = spawn_app(backend).await;
    let segment = app
        .create_segment(json!({"key": "beta", "environment": "prod", "include": ["u"]}))
        .await;
    let segment_id = id_of(&segment);
    let flag = app
        .create_flag(json!({"key": "f", "environment": "prod", "enabled": true,
                            "rules": [{"segment": "beta"}]}))
        .await;
    assert_eq!(
        app.decide("prod", "u", "f").await,
        (true, "RULE_MATCH".into())
    );
    assert!(health(&app).await.get("unreadableSegments").is_none());

    // An operator the evaluator does not know: valid JSON in every store, no readable segment.
    app.sql(&format!(
        r#"UPDATE segments SET rules = '[{{"field":"id","operator":"like","value":"a"}}]' WHERE id = '{segment_id}'"#
    ))
    .await;
    let fresh = app.sibling(SiblingCache::Fresh, None).await;
    assert_eq!(
        fresh.decide("prod", "u", "f").await,
        (false, "NO_MATCH".into()),
        "the flag finds no members in a segment that cannot be read"
    );
    let body = health(&fresh).await;
    assert_eq!(body["status"], "degraded", "{body}");
    assert_eq!(body["store"], "degraded", "{body}");
    assert_eq!(
        body["unreadableSegments"],
        json!([{"id": segment_id, "environment": "prod", "key": "beta"}])
    );

    // The flag stops naming it, then it is deleted: the store is whole again.
    let put = fresh
        .put(&format!("/api/admin/flags/{}", id_of(&flag)))
        .admin()
        .json(&json!({"rules": []}))
        .send()
        .await;
    assert_eq!(put.status.as_u16(), 200, "{}", put.text);
    let reply = fresh
        .delete(&format!("/api/admin/segments/{segment_id}"))
        .admin()
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 204, "{}", reply.text);
    let body = health(&fresh).await;
    assert!(body.get("unreadableSegments").is_none(), "{body}");
    assert_eq!(body["store"], "ok", "{body}");
}
