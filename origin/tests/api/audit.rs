//! The audit log: one entry per write, full before/after snapshots, actor, cursor paging.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend};

backend_tests!(
    every_write_is_audited_with_snapshots_and_actor,
    audit_pages_newest_first_with_a_stable_cursor,
    audit_filters_by_entity,
    audit_refuses_bad_parameters,
);

fn entries(page: &Value) -> &Vec<Value> {
    page["entries"].as_array().expect("entries")
}

async fn every_write_is_audited_with_snapshots_and_actor(backend: Backend) {
    let app = spawn_app(backend).await;
    let reply = app
        .post("/api/admin/flags")
        .admin()
        .header("x-actor", "alice@example.com")
        .json(&json!({"key": "k", "environment": "prod", "rolloutPercentage": 10}))
        .send()
        .await;
    let created = reply.json()["flag"].clone();
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/admin/flags/{id}");
    let reply = app
        .put(&path)
        .admin()
        .json(&json!({"enabled": true}))
        .send()
        .await;
    let updated = reply.json()["flag"].clone();
    app.delete(&path)
        .admin()
        .header("x-actor", "bob")
        .send()
        .await;

    let page = app.audit("").await;
    assert!(page.get("nextCursor").is_none(), "{page}");
    let entries = entries(&page);
    assert_eq!(entries.len(), 3);
    // The actor is the token that acted (the bootstrap ADMIN_TOKEN acts as "admin"); what
    // x-actor claims is kept as a note and sets nothing else.
    let expected = [
        ("DELETE_FLAG", updated.clone(), Value::Null, json!("bob")),
        ("UPDATE_FLAG", created.clone(), updated.clone(), Value::Null),
        (
            "CREATE_FLAG",
            Value::Null,
            created.clone(),
            json!("alice@example.com"),
        ),
    ];
    for (entry, (action, before, after, note)) in entries.iter().zip(expected) {
        assert_eq!(entry["action"], action, "{entry}");
        assert_eq!(entry["entity"], "FeatureFlag");
        assert_eq!(entry["entityId"], id.as_str());
        assert_eq!(entry["before"], before, "{action}");
        assert_eq!(entry["after"], after, "{action}");
        assert_eq!(entry["actor"], "admin");
        assert_eq!(entry["actorTokenId"], "ADMIN_TOKEN");
        assert_eq!(entry["note"], note);
        assert_eq!(entry["environment"], "prod");
        assert!(uuid::Uuid::parse_str(entry["id"].as_str().unwrap()).is_ok());
        let at = entry["createdAt"].as_str().unwrap();
        assert!(chrono::DateTime::parse_from_rfc3339(at).is_ok(), "{at}");
    }
    let ids: std::collections::HashSet<_> = entries.iter().map(|e| e["id"].clone()).collect();
    assert_eq!(ids.len(), 3);
}

async fn audit_pages_newest_first_with_a_stable_cursor(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..5 {
        app.create_flag(json!({"key": format!("k{i}"), "environment": "dev"}))
            .await;
    }
    let key_of = |e: &Value| e["after"]["key"].as_str().unwrap().to_owned();
    let first = app.audit("?limit=2").await;
    assert_eq!(
        entries(&first).iter().map(key_of).collect::<Vec<_>>(),
        ["k4", "k3"]
    );
    let cursor = first["nextCursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    // A write after the first page does not shift the pages that follow.
    app.create_flag(json!({"key": "late", "environment": "dev"}))
        .await;
    let second = app.audit(&format!("?limit=2&before={cursor}")).await;
    assert_eq!(
        entries(&second).iter().map(key_of).collect::<Vec<_>>(),
        ["k2", "k1"]
    );
    let cursor = second["nextCursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let third = app.audit(&format!("?limit=2&before={cursor}")).await;
    assert_eq!(
        entries(&third).iter().map(key_of).collect::<Vec<_>>(),
        ["k0"]
    );
    assert!(third.get("nextCursor").is_none(), "{third}");
    // Exactly `limit` left: no cursor to an empty page.
    let all = app.audit("?limit=6").await;
    assert_eq!(entries(&all).len(), 6);
    assert!(all.get("nextCursor").is_none());
    assert_eq!(entries(&app.audit("").await).len(), 6);
}

async fn audit_filters_by_entity(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app
        .create_flag(json!({"key": "a", "environment": "prod"}))
        .await;
    let b = app
        .create_flag(json!({"key": "b", "environment": "prod"}))
        .await;
    let a_id = a["id"].as_str().unwrap();
    app.put(&format!("/api/admin/flags/{a_id}"))
        .admin()
        .json(&json!({"enabled": true}))
        .send()
        .await;
    let page = app.audit(&format!("?entityId={a_id}")).await;
    let actions: Vec<_> = entries(&page)
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["UPDATE_FLAG", "CREATE_FLAG"]);
    assert!(entries(&page).iter().all(|e| e["entityId"] == a_id));
    let page = app
        .audit(&format!("?entityId={}&limit=1", b["id"].as_str().unwrap()))
        .await;
    assert_eq!(entries(&page).len(), 1);
    assert!(page.get("nextCursor").is_none());
    let page = app
        .audit(&format!("?entityId={}", uuid::Uuid::new_v4()))
        .await;
    assert_eq!(page, json!({"entries": []}));
}

async fn audit_refuses_bad_parameters(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(json!({"key": "a", "environment": "prod"}))
        .await;
    for query in [
        "?limit=0",
        "?limit=501",
        "?limit=-3",
        "?limit=ten",
        "?limit=2.5",
    ] {
        let reply = app
            .get(&format!("/api/admin/audit{query}"))
            .admin()
            .send()
            .await;
        assert!(reply.error(400).starts_with("limit: "), "{query}");
    }
    let reply = app.get("/api/admin/audit?entity=x").admin().send().await;
    assert!(reply.error(400).starts_with("entity: unknown field"));
    for query in ["?before=xyz", "?before=12", "?before=a-1"] {
        let reply = app
            .get(&format!("/api/admin/audit{query}"))
            .admin()
            .send()
            .await;
        assert!(reply.error(400).starts_with("before: "), "{query}");
    }
    assert_eq!(entries(&app.audit("?limit=500").await).len(), 1);
    assert_eq!(entries(&app.audit("?limit=1").await).len(), 1);
}
