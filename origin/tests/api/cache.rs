//! Cache-aside: Redis checked directly (key, value, TTL), and the store left alone when warm.

use std::time::Duration;

use redis::AsyncCommands;
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{redis_connection, spawn_app, spawn_app_with, Backend, Options};

backend_tests!(
    a_warm_origin_does_not_read_the_store,
    a_burst_of_cold_reads_makes_one_database_load
);

/// 64 concurrent evaluations right after a write (the set is cold) share one store load.
async fn a_burst_of_cold_reads_makes_one_database_load(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(json!({"key": "k", "environment": "prod", "enabled": true}))
        .await;
    let before = app.state.flags.store_loads();
    let mut burst = tokio::task::JoinSet::new();
    for i in 0..64 {
        burst.spawn(
            app.post("/api/evaluate")
                .json(&json!({"environment": "prod", "user": {"id": format!("u{i}")}}))
                .send(),
        );
    }
    while let Some(reply) = burst.join_next().await {
        let reply = reply.expect("request task");
        assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    }
    assert_eq!(app.state.flags.store_loads() - before, 1);
}

async fn a_warm_origin_does_not_read_the_store(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(
        json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 50}),
    )
    .await;
    let before = app.state.flags.store_loads();
    for i in 0..50 {
        app.evaluate(json!({"environment": "prod", "user": {"id": format!("u{i}")}}))
            .await;
    }
    assert_eq!(
        app.state.flags.store_loads() - before,
        1,
        "one load, then served from cache"
    );
}

async fn cached(conn: &mut redis::aio::MultiplexedConnection, key: &str) -> Option<(Value, i64)> {
    let json: Option<String> = conn.get(key).await.expect("GET");
    let ttl: i64 = conn.ttl(key).await.expect("TTL");
    json.map(|j| (serde_json::from_str(&j).expect("cached value is JSON"), ttl))
}

#[tokio::test]
async fn redis_is_invalidated_by_a_write_and_refilled_with_its_ttl() {
    let app = spawn_app(Backend::PostgresRedis).await;
    let mut conn = redis_connection().await;
    let key = format!("{}flags:prod", app.redis_prefix.as_deref().unwrap());
    assert!(cached(&mut conn, &key).await.is_none());

    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod", "enabled": true}))
        .await;
    assert!(
        cached(&mut conn, &key).await.is_none(),
        "nothing cached before a read"
    );
    app.evaluate(json!({"environment": "prod", "user": {"id": "u"}}))
        .await;
    let (value, ttl) = cached(&mut conn, &key).await.expect("filled by the read");
    assert_eq!(value["environment"], "prod");
    assert_eq!(value["revision"], 1);
    assert_eq!(value["flags"], json!([flag]));
    assert!((1..=60).contains(&ttl), "ttl {ttl}");

    let path = format!("/api/admin/flags/{}", flag["id"].as_str().unwrap());
    let reply = app
        .put(&path)
        .admin()
        .json(&json!({"enabled": false}))
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200);
    // The old set is gone before the write answers. The key may already hold the new one: this
    // origin hears its own write's NOTIFY at the commit, which can reach it before the write's own
    // invalidation and reload the new set in the background (it then fills the cache with it).
    if let Some((value, _)) = cached(&mut conn, &key).await {
        assert_eq!(
            value["revision"], 2,
            "a set older than the write survived it: {value}"
        );
    }
    // Only the written environment is invalidated.
    app.evaluate(json!({"environment": "dev", "user": {"id": "u"}}))
        .await;
    let dev_key = format!("{}flags:dev", app.redis_prefix.as_deref().unwrap());
    assert!(cached(&mut conn, &dev_key).await.is_some());
    app.create_flag(json!({"key": "k", "environment": "staging"}))
        .await;
    assert!(cached(&mut conn, &dev_key).await.is_some());

    assert_eq!(app.decide("prod", "u", "k").await.1, "FLAG_DISABLED");
    let (value, ttl) = cached(&mut conn, &key)
        .await
        .expect("refilled by the next read");
    assert_eq!(value["revision"], 2);
    assert_eq!(value["flags"][0]["enabled"], false);
    assert!((1..=60).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn redis_entries_expire_after_cache_ttl_seconds_and_refill_from_the_store() {
    let app = spawn_app_with(
        Backend::PostgresRedis,
        Options {
            cache_ttl: Duration::from_secs(1),
            ..Options::default()
        },
    )
    .await;
    let mut conn = redis_connection().await;
    let key = format!("{}flags:prod", app.redis_prefix.as_deref().unwrap());
    app.create_flag(json!({"key": "k", "environment": "prod"}))
        .await;
    app.evaluate(json!({"environment": "prod", "user": {"id": "u"}}))
        .await;
    let loads = app.state.flags.store_loads();
    let (_, ttl) = cached(&mut conn, &key).await.expect("filled");
    // Redis rounds the remaining time to whole seconds: 1, or 0 on a slow machine.
    assert!((0..=1).contains(&ttl), "ttl {ttl}");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(cached(&mut conn, &key).await.is_none(), "expired");
    // A warm origin does not care: it answers from its in-process copy, without Redis or the store.
    app.evaluate(json!({"environment": "prod", "user": {"id": "u"}}))
        .await;
    assert!(
        cached(&mut conn, &key).await.is_none(),
        "not read, not refilled"
    );
    assert_eq!(app.state.flags.store_loads(), loads);
    // The next load (after a write here) refills it.
    app.create_flag(json!({"key": "k2", "environment": "prod"}))
        .await;
    app.evaluate(json!({"environment": "prod", "user": {"id": "u"}}))
        .await;
    assert!(cached(&mut conn, &key).await.is_some(), "refilled");
    assert_eq!(app.state.flags.store_loads(), loads + 1);
}

/// Another origin's write on the same Redis and database, as this origin sees it: the change
/// message on `<prefix>changes`, with the new set in Redis. The copy is reloaded in the background.
#[tokio::test]
async fn a_change_message_from_another_origin_is_applied() {
    let app = spawn_app(Backend::PostgresRedis).await;
    app.create_flag(
        json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
    )
    .await;
    assert_eq!(app.decide("prod", "u", "k").await, (true, "ROLLOUT".into()));
    // Stand in for the other origin: its write-and-read put revision 99 in Redis and announced it.
    let mut conn = redis_connection().await;
    let prefix = app.redis_prefix.as_deref().unwrap();
    let key = format!("{prefix}flags:prod");
    let (mut value, _) = cached(&mut conn, &key).await.expect("filled");
    value["revision"] = json!(99);
    value["flags"][0]["enabled"] = json!(false);
    let _: () = conn.set_ex(&key, value.to_string(), 60).await.expect("SET");
    let _: i64 = conn
        .publish(
            format!("{prefix}changes"),
            json!({"environment": "prod", "revision": 99}).to_string(),
        )
        .await
        .expect("PUBLISH");
    let started = std::time::Instant::now();
    while app.decide("prod", "u", "k").await.0 {
        assert!(
            started.elapsed() < Duration::from_millis(900),
            "not applied within 900 ms (the 1 s revalidation would not see it: the store is at 1)"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(
        app.state.flags.held_revision(evaluator::Environment::Prod),
        Some(99)
    );
}
