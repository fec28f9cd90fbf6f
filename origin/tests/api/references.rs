//! What documents of one environment name of each other: prerequisites (flags, variants, no
//! cycle) and segment conditions are checked on write (400 naming the field), and a write that
//! would take away what others name is refused (409 naming them); concurrent writers cannot get
//! around either.

use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, TestApp};

backend_tests!(
    references_are_checked_when_a_flag_is_written,
    what_others_name_cannot_be_taken_away,
);

fn plan() -> Value {
    json!({"key": "plan", "environment": "prod", "enabled": true, "type": "string",
           "variants": {"free": "F", "pro": "P"}, "offVariant": "free", "fallthrough": "pro"})
}

async fn refused(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    body: Value,
    status: u16,
) -> String {
    let reply = app.call(method, path).admin().json(&body).send().await;
    reply.error(status)
}

async fn revision(app: &TestApp) -> Value {
    app.snapshot("prod").await["revision"].clone()
}

async fn references_are_checked_when_a_flag_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let post = reqwest::Method::POST;
    let flags = "/api/admin/flags";
    app.create_flag(plan()).await;
    let at = revision(&app).await;
    let audit_before = app.audit("").await["entries"].as_array().unwrap().len();
    for (body, expected) in [
        (
            json!({"key": "a", "environment": "prod",
                   "prerequisites": [{"flag": "plan", "variants": ["pro"]}, {"flag": "x", "variants": ["on"]}]}),
            "prerequisites[1].flag: no flag \"x\" in prod",
        ),
        (
            json!({"key": "a", "environment": "prod",
                   "prerequisites": [{"flag": "plan", "variants": ["pro", "y"]}]}),
            "prerequisites[0].variants[1]: flag \"plan\" has no variant \"y\"",
        ),
        (
            json!({"key": "a", "environment": "prod", "rules": [{"segment": "beta"}]}),
            "rules[0].segment: no segment \"beta\" in prod",
        ),
        (
            json!({"key": "a", "environment": "prod", "rules": [
                {"field": "id", "operator": "eq", "value": "u"},
                {"all": [{"field": "id", "operator": "eq", "value": "u"}, {"notSegment": "beta"}]}]}),
            "rules[1].all[1].notSegment: no segment \"beta\" in prod",
        ),
        // Another environment's flag does not count.
        (
            json!({"key": "a", "environment": "dev",
                   "prerequisites": [{"flag": "plan", "variants": ["pro"]}]}),
            "prerequisites[0].flag: no flag \"plan\" in dev",
        ),
    ] {
        assert_eq!(
            refused(&app, post.clone(), flags, body, 400).await,
            expected
        );
    }
    // Nothing was written: no revision, no audit entry.
    assert_eq!(revision(&app).await, at);
    assert_eq!(
        app.audit("").await["entries"].as_array().unwrap().len(),
        audit_before
    );

    app.create_segment(json!({"key": "beta", "environment": "prod", "include": ["u1"]}))
        .await;
    let a = app
        .create_flag(json!({"key": "a", "environment": "prod", "enabled": true,
            "prerequisites": [{"flag": "plan", "variants": ["pro"]}],
            "rules": [{"segment": "beta"}], "rolloutPercentage": 0}))
        .await;
    assert_eq!(
        app.decide("prod", "u1", "a").await,
        (true, "RULE_MATCH".into())
    );
    assert_eq!(
        app.decide("prod", "u2", "a").await,
        (false, "NO_MATCH".into())
    );

    // Cycles, on create and on update, named from the flag written.
    let b = app
        .create_flag(json!({"key": "b", "environment": "prod",
            "prerequisites": [{"flag": "a", "variants": ["on"]}]}))
        .await;
    let plan_id = app
        .get("/api/admin/flags?environment=prod&key=plan")
        .admin()
        .send()
        .await
        .json()["flags"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let put = reqwest::Method::PUT;
    assert_eq!(
        refused(
            &app,
            put.clone(),
            &format!("{flags}/{plan_id}"),
            json!({"prerequisites": [{"flag": "b", "variants": ["off"]}]}),
            400
        )
        .await,
        "prerequisites[0].flag: makes a cycle: plan → b → a → plan"
    );
    assert_eq!(
        refused(
            &app,
            put.clone(),
            &format!("{flags}/{}", a["id"].as_str().unwrap()),
            json!({"prerequisites": [{"flag": "plan", "variants": ["pro"]}, {"flag": "b", "variants": ["on"]}]}),
            400
        )
        .await,
        "prerequisites[1].flag: makes a cycle: a → b → a"
    );
    // A PUT is checked as the whole flag it makes: a rule naming a segment that is not there.
    assert_eq!(
        refused(
            &app,
            put.clone(),
            &format!("{flags}/{}", b["id"].as_str().unwrap()),
            json!({"rules": [{"notSegment": "gamma"}]}),
            400
        )
        .await,
        "rules[0].notSegment: no segment \"gamma\" in prod"
    );
}

async fn what_others_name_cannot_be_taken_away(backend: Backend) {
    let app = spawn_app(backend).await;
    let plan = app.create_flag(plan()).await;
    let plan_path = format!("/api/admin/flags/{}", plan["id"].as_str().unwrap());
    let beta = app
        .create_segment(json!({"key": "beta", "environment": "prod", "include": ["u1"]}))
        .await;
    let beta_path = format!("/api/admin/segments/{}", beta["id"].as_str().unwrap());
    let a = app
        .create_flag(json!({"key": "a", "environment": "prod", "enabled": true,
            "prerequisites": [{"flag": "plan", "variants": ["pro", "free"]}],
            "rules": [{"segment": "beta"}], "rolloutPercentage": 100}))
        .await;
    app.create_flag(json!({"key": "c", "environment": "prod",
        "rules": [{"all": [{"notSegment": "beta"}]}]}))
        .await;
    app.create_flag(json!({"key": "b", "environment": "prod",
        "prerequisites": [{"flag": "plan", "variants": ["free"]}]}))
        .await;
    let at = revision(&app).await;

    // Variants that others' prerequisites name stay.
    assert_eq!(
        refused(
            &app,
            reqwest::Method::PUT,
            &plan_path,
            json!({"variants": {"pro": "P", "team": "T"}, "offVariant": "pro"}),
            409
        )
        .await,
        "flag \"plan\" would no longer have variants that prerequisites of other flags name: \
         a names \"free\", b names \"free\""
    );
    // Deleting what others name.
    assert_eq!(
        app.delete(&plan_path).admin().send().await.error(409),
        "flag \"plan\" is a prerequisite of flags: a, b"
    );
    assert_eq!(
        app.delete(&beta_path).admin().send().await.error(409),
        "segment \"beta\" is used by flags: a, c"
    );
    assert_eq!(revision(&app).await, at, "nothing written");

    // Adding a variant is fine, and so is the kill switch, always.
    let more = app
        .put(&plan_path)
        .admin()
        .json(&json!({"variants": {"free": "F", "pro": "P", "team": "T"}}))
        .send()
        .await;
    assert_eq!(more.status.as_u16(), 200, "{}", more.text);
    let killed = app
        .post("/api/admin/kill-switch")
        .admin()
        .json(&json!({"key": "plan"}))
        .send()
        .await;
    assert_eq!(killed.status.as_u16(), 200, "{}", killed.text);
    // A disabled prerequisite fails its dependents.
    let result = app
        .evaluate(json!({"environment": "prod", "user": {"id": "u1"}, "flags": ["a"]}))
        .await;
    assert_eq!(
        result["results"][0],
        json!({"flagKey": "a", "enabled": false, "reason": "PREREQUISITE_FAILED",
               "variant": "off", "value": false})
    );

    // Once nothing names them, they go.
    for key in ["a", "b", "c"] {
        let id = app
            .get(&format!("/api/admin/flags?environment=prod&key={key}"))
            .admin()
            .send()
            .await
            .json()["flags"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let reply = app
            .delete(&format!("/api/admin/flags/{id}"))
            .admin()
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 204, "{key}: {}", reply.text);
    }
    let _ = a;
    assert_eq!(
        app.delete(&beta_path).admin().send().await.status.as_u16(),
        204
    );
    assert_eq!(
        app.delete(&plan_path).admin().send().await.status.as_u16(),
        204
    );
}

/// Two writers race to close a cycle (a → b and b → a) on PostgreSQL: the environment's lock
/// makes the second see the first, so at most one succeeds, every round.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_cannot_make_a_cycle_on_postgres() {
    for backend in [Backend::Postgres, Backend::PostgresRedis] {
        let app = spawn_app(backend).await;
        for round in 0..10 {
            let a_key = format!("a{round}");
            let b_key = format!("b{round}");
            let a = app
                .create_flag(json!({"key": a_key, "environment": "prod"}))
                .await;
            let b = app
                .create_flag(json!({"key": b_key, "environment": "prod"}))
                .await;
            let a_path = format!("/api/admin/flags/{}", a["id"].as_str().unwrap());
            let b_path = format!("/api/admin/flags/{}", b["id"].as_str().unwrap());
            let to_b = json!({"prerequisites": [{"flag": b_key, "variants": ["on"]}]});
            let to_a = json!({"prerequisites": [{"flag": a_key, "variants": ["on"]}]});
            let (first, second) = tokio::join!(
                app.put(&a_path).admin().json(&to_b).send(),
                app.put(&b_path).admin().json(&to_a).send(),
            );
            let statuses = [first.status.as_u16(), second.status.as_u16()];
            let ok = statuses.iter().filter(|s| **s == 200).count();
            assert_eq!(ok, 1, "round {round}: {} / {}", first.text, second.text);
            let loser = if statuses[0] == 200 { &second } else { &first };
            assert!(
                loser.error(400).contains("makes a cycle"),
                "round {round}: {}",
                loser.text
            );
        }
        // The set still compiles and answers.
        let body = app
            .evaluate(json!({"environment": "prod", "user": {"id": "u"}}))
            .await;
        assert_eq!(body["results"].as_array().unwrap().len(), 20);
    }
}

/// A flag that names a segment and the deletion of that segment, racing: never both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_is_never_deleted_under_a_flag_that_names_it_on_postgres() {
    let app = spawn_app(Backend::Postgres).await;
    for round in 0..10 {
        let key = format!("s{round}");
        let segment = app
            .create_segment(json!({"key": key, "environment": "prod"}))
            .await;
        let path = format!("/api/admin/segments/{}", segment["id"].as_str().unwrap());
        let flag =
            json!({"key": format!("f{round}"), "environment": "prod", "rules": [{"segment": key}]});
        let (created, deleted) = tokio::join!(
            app.post("/api/admin/flags").admin().json(&flag).send(),
            app.delete(&path).admin().send(),
        );
        match (created.status.as_u16(), deleted.status.as_u16()) {
            (201, 409) => assert!(deleted.text.contains("is used by flags")),
            (400, 204) => assert!(created.text.contains("no segment")),
            other => panic!(
                "round {round}: {other:?}: {} / {}",
                created.text, deleted.text
            ),
        }
    }
}
