//! Several origin PROCESSES on one PostgreSQL database (and one Redis): propagation of writes
//! between them, a Redis that dies and comes back, a PostgreSQL cut off by a proxy, and the stale
//! refill across instances driven deliberately.
//!
//! Each test makes its own database, Redis key prefix and (where it kills Redis) its own
//! `redis-server` on a free port; the machine's shared servers are never stopped.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use evaluator::{Environment, Snapshot};
use origin::cache::{FlagCache, RedisCache};
use origin::flagset::FlagSets;
use origin::revision::Revision;
use origin::store::{FlagPatch, FlagWriter, NewFlag, PostgresStore, ReadStore, StoreError};
use redis::AsyncCommands;
use serde_json::{json, Value};
use tokio::net::{TcpListener, TcpStream};

use crate::helpers::{redis_url, test_actor, Database, ADMIN_TOKEN};

/// Deletes a Redis key prefix on the given server when dropped.
pub(crate) struct Prefix {
    url: String,
    pub(crate) prefix: String,
}

impl Prefix {
    pub(crate) fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            prefix: format!("pennon-cluster:{}:", uuid::Uuid::new_v4().simple()),
        }
    }
}

impl Drop for Prefix {
    fn drop(&mut self) {
        if let Ok(client) = redis::Client::open(self.url.as_str()) {
            if let Ok(mut conn) = client.get_connection() {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{}*", self.prefix))
                    .query(&mut conn)
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: Result<(), _> = redis::cmd("DEL").arg(keys).query(&mut conn);
                }
            }
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A `redis-server` of this test's own, killed when dropped.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    fn start() -> Self {
        let mut server = Self {
            port: free_port(),
            child: None,
        };
        server.restart();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// (Re)starts it on the same port and waits until it answers.
    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run redis-server ({e}); install it (Debian: apt-get install redis-server)")
            });
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// An `origin` process, killed when dropped.
pub(crate) struct Origin {
    child: Child,
    pub(crate) base: String,
    client: reqwest::Client,
}

impl Origin {
    pub(crate) fn start(
        database_url: &str,
        redis: Option<(&str, &str)>,
        extra: &[(&str, &str)],
    ) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_origin"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", "0")
            .env("DATABASE_URL", database_url)
            .env("ADMIN_TOKEN", ADMIN_TOKEN)
            .env(
                "RUST_LOG",
                std::env::var("ORIGIN_LOG").unwrap_or_else(|_| "error".into()),
            )
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        if let Some((url, prefix)) = redis {
            command
                .env("REDIS_URL", url)
                .env("REDIS_KEY_PREFIX", prefix);
        }
        for (k, v) in extra {
            command.env(k, v);
        }
        let mut child = command.spawn().expect("the origin binary starts");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("a line on stdout");
        let base = line
            .trim_end()
            .strip_prefix("pennon origin listening on ")
            .unwrap_or_else(|| panic!("origin did not start: {line:?}"))
            .to_owned();
        Self {
            child,
            base,
            client: reqwest::Client::new(),
        }
    }

    pub(crate) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("x-admin-token", ADMIN_TOKEN)
            .timeout(Duration::from_secs(10));
        if let Some(body) = body {
            request = request
                .header("content-type", "application/json")
                .body(body.to_string());
        }
        let response = request.send().await.expect("the origin answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub(crate) async fn create(&self, body: Value) -> Value {
        let (status, body) = self
            .send(reqwest::Method::POST, "/api/admin/flags", Some(body))
            .await;
        assert_eq!(status, 201, "{body}");
        body["flag"].clone()
    }

    pub(crate) async fn update(&self, id: &str, patch: Value) -> u16 {
        self.send(
            reqwest::Method::PUT,
            &format!("/api/admin/flags/{id}"),
            Some(patch),
        )
        .await
        .0
    }

    /// `enabled` of flag `k` in prod for user `u`.
    async fn enabled(&self, environment: &str) -> bool {
        let (status, body) = self
            .send(
                reqwest::Method::POST,
                "/api/evaluate",
                Some(json!({"environment": environment, "user": {"id": "u"}, "flags": ["k"]})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        body["results"][0]["enabled"]
            .as_bool()
            .expect("a result for k")
    }

    async fn health(&self) -> (u16, Value) {
        self.send(reqwest::Method::GET, "/health", None).await
    }

    /// Polls `/health` until `check` holds on its body, for at most `limit`.
    async fn health_until(&self, limit: Duration, check: impl Fn(&Value) -> bool) -> Value {
        let started = Instant::now();
        loop {
            let (_, body) = self.health().await;
            if check(&body) {
                return body;
            }
            assert!(started.elapsed() < limit, "health never got there: {body}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Origin {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `reader` until flag `k` in prod is `expected`; returns how long it took.
async fn time_until(reader: &Origin, expected: bool, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        if reader.enabled("prod").await == expected {
            return started.elapsed();
        }
        let waited = started.elapsed();
        assert!(waited < limit, "not seen within {limit:?}");
    }
}

pub(crate) fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Writes 50 toggles on `writer`, measures until `reader` answers each, prints and checks.
async fn measure_propagation(label: &str, writer: &Origin, reader: &Origin) {
    let flag = writer
        .create(
            json!({"key": "k", "environment": "prod", "enabled": false, "rolloutPercentage": 100}),
        )
        .await;
    let id = flag["id"].as_str().expect("an id").to_owned();
    time_until(reader, false, Duration::from_secs(5)).await;
    let mut times = Vec::new();
    for i in 0..50 {
        let enabled = i % 2 == 0;
        assert_eq!(writer.update(&id, json!({"enabled": enabled})).await, 200);
        // Timed from the write's answer.
        times.push(time_until(reader, enabled, Duration::from_secs(1)).await);
        // The writer reads its own write.
        assert_eq!(writer.enabled("prod").await, enabled);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "propagation {label}: {} writes, median {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(percentile(&times, 0.9)),
        ms(percentile(&times, 0.99)),
        ms(times[times.len() - 1]),
    );
    assert!(times[times.len() - 1] <= Duration::from_secs(1));
    // About 2 ms on an idle 2-core box and 5 ms with both cores busy elsewhere: a wide margin.
    assert!(percentile(&times, 0.5) <= Duration::from_millis(100));
}

/// The periodic revalidation is pushed out of the way: what is measured is the change message.
pub(crate) const NO_REVALIDATION: (&str, &str) = ("REVALIDATE_INTERVAL_MS", "600000");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagation_between_two_origins_over_redis_pub_sub() {
    let db = Database::create().await;
    let redis = redis_url();
    let prefix = Prefix::new(&redis);
    let a = Origin::start(&db.url, Some((&redis, &prefix.prefix)), &[NO_REVALIDATION]);
    let b = Origin::start(&db.url, Some((&redis, &prefix.prefix)), &[NO_REVALIDATION]);
    assert_eq!(b.health().await.1["invalidation"], "redis+postgres");
    // Both channels carry each write; whichever arrives first counts, the other is a no-op.
    measure_propagation("redis pub/sub + postgres notify", &a, &b).await;
}

/// A segment write on one origin changes the answers of another, as a flag write does: the
/// segment's environment is bumped and announced on the same channels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_segment_write_propagates_to_another_origin_over_redis() {
    let db = Database::create().await;
    let redis = redis_url();
    let prefix = Prefix::new(&redis);
    let a = Origin::start(&db.url, Some((&redis, &prefix.prefix)), &[NO_REVALIDATION]);
    let b = Origin::start(&db.url, Some((&redis, &prefix.prefix)), &[NO_REVALIDATION]);
    assert_eq!(b.health().await.1["invalidation"], "redis+postgres");
    let (status, body) = a
        .send(
            reqwest::Method::POST,
            "/api/admin/segments",
            Some(json!({"key": "beta", "environment": "prod"})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let segment = format!(
        "/api/admin/segments/{}",
        body["segment"]["id"].as_str().expect("id")
    );
    a.create(json!({"key": "k", "environment": "prod", "enabled": true,
        "rules": [{"segment": "beta"}]}))
        .await;
    time_until(&b, false, Duration::from_secs(5)).await;
    for include in [json!(["u"]), json!([]), json!(["v", "u"])] {
        let expected = include.as_array().expect("ids").contains(&json!("u"));
        let (status, body) = a
            .send(
                reqwest::Method::PUT,
                &segment,
                Some(json!({"include": include})),
            )
            .await;
        assert_eq!(status, 200, "{body}");
        time_until(&b, expected, Duration::from_secs(1)).await;
        assert_eq!(a.enabled("prod").await, expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn propagation_between_two_origins_over_postgres_notify() {
    let db = Database::create().await;
    let a = Origin::start(&db.url, None, &[NO_REVALIDATION]);
    let b = Origin::start(&db.url, None, &[NO_REVALIDATION]);
    assert_eq!(b.health().await.1["invalidation"], "postgres");
    measure_propagation("postgres notify", &a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_killed_mid_run_and_restarted() {
    let db = Database::create().await;
    let mut server = RedisServer::start();
    let url = server.url();
    let prefix = "pennon-cluster:";
    // No periodic revalidation: B catches up through PostgreSQL NOTIFY (see the test below) or
    // the resubscription's resync.
    let a = Origin::start(&db.url, Some((&url, prefix)), &[NO_REVALIDATION]);
    let b = Origin::start(&db.url, Some((&url, prefix)), &[NO_REVALIDATION]);
    let flag = a
        .create(
            json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
        )
        .await;
    let id = flag["id"].as_str().expect("an id").to_owned();
    assert!(a.enabled("prod").await && b.enabled("prod").await);

    server.kill();
    // Evaluations go on on both; a write goes on and is read back at once on its origin, with no
    // wait on the dead Redis (the write's own cold reload included).
    assert!(a.enabled("prod").await && b.enabled("prod").await);
    let started = Instant::now();
    assert_eq!(a.update(&id, json!({"enabled": false})).await, 200);
    assert!(!a.enabled("prod").await);
    let took = started.elapsed();
    println!("redis down: write + cold read on the writer took {took:?}");
    // Without the breaker each of these would wait on a reconnect attempt (hundreds of ms).
    let mut times = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        assert_eq!(a.update(&id, json!({"description": "x"})).await, 200);
        assert!(!a.enabled("prod").await);
        times.push(started.elapsed());
    }
    times.sort();
    println!(
        "redis down: write + cold read, median {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
    assert!(
        times[times.len() / 2] < Duration::from_millis(150),
        "writes and reads wait on the dead Redis: {times:?}"
    );
    for origin in [&a, &b] {
        let health = origin
            .health_until(Duration::from_secs(5), |h| {
                h["cacheStatus"] == "unavailable" && h["invalidationStatus"] == "reconnecting"
            })
            .await;
        assert_eq!(health["status"], "degraded", "{health}");
        assert_eq!(health["store"], "ok", "{health}");
        assert_eq!(origin.health().await.0, 200);
    }
    // Another environment, cold on B: loads straight from the store.
    a.create(json!({"key": "k", "environment": "dev", "enabled": true, "rolloutPercentage": 100}))
        .await;
    assert!(b.enabled("dev").await);

    server.restart();
    for origin in [&a, &b] {
        origin
            .health_until(Duration::from_secs(8), |h| h["status"] == "ok")
            .await;
    }
    // B has A's write from the outage (NOTIFY, or the resync when Redis came back).
    time_until(&b, false, Duration::from_secs(2)).await;
    // And pub/sub carries the next write again.
    assert_eq!(a.update(&id, json!({"enabled": true})).await, 200);
    let took = time_until(&b, true, Duration::from_secs(1)).await;
    println!("after the restart, propagation took {took:?}");
    // Redis is used again as the shared cache.
    let client = redis::Client::open(url.as_str()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let cached: Option<String> = conn.get(format!("{prefix}flags:prod")).await.expect("GET");
    let cached: Snapshot = serde_json::from_str(&cached.expect("refilled")).expect("a snapshot");
    assert!(cached.flags[0].enabled);
}

/// With Redis configured and killed, PostgreSQL's NOTIFY still carries every write between two
/// origins in milliseconds; the periodic revalidation is pushed out to 10 minutes, so nothing else
/// could.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_killed_postgres_notify_still_carries_writes() {
    let db = Database::create().await;
    let mut server = RedisServer::start();
    let url = server.url();
    let prefix = "pennon-cluster:";
    let a = Origin::start(&db.url, Some((&url, prefix)), &[NO_REVALIDATION]);
    let b = Origin::start(&db.url, Some((&url, prefix)), &[NO_REVALIDATION]);
    let health = b.health().await.1;
    assert_eq!(health["invalidation"], "redis+postgres", "{health}");
    assert_eq!(
        health["invalidationChannels"],
        json!({"redis": "ok", "postgres": "ok"}),
        "{health}"
    );
    let flag = a
        .create(
            json!({"key": "k", "environment": "prod", "enabled": false, "rolloutPercentage": 100}),
        )
        .await;
    let id = flag["id"].as_str().expect("an id").to_owned();
    time_until(&b, false, Duration::from_secs(5)).await;

    server.kill();
    for origin in [&a, &b] {
        let health = origin
            .health_until(Duration::from_secs(5), |h| {
                h["invalidationChannels"]["redis"] == "reconnecting"
            })
            .await;
        assert_eq!(health["invalidationChannels"]["postgres"], "ok", "{health}");
        assert_eq!(health["invalidationStatus"], "reconnecting", "{health}");
        assert_eq!(health["status"], "degraded", "{health}");
    }
    let mut times = Vec::new();
    for i in 0..20 {
        let enabled = i % 2 == 0;
        assert_eq!(a.update(&id, json!({"enabled": enabled})).await, 200);
        times.push(time_until(&b, enabled, Duration::from_secs(1)).await);
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "propagation with redis down (postgres notify): {} writes, median {:.1} ms, max {:.1} ms",
        times.len(),
        ms(percentile(&times, 0.5)),
        ms(times[times.len() - 1]),
    );
    assert!(
        percentile(&times, 0.5) <= Duration::from_millis(100),
        "{times:?}"
    );

    // Redis back: both channels listen again.
    server.restart();
    for origin in [&a, &b] {
        let health = origin
            .health_until(Duration::from_secs(8), |h| h["status"] == "ok")
            .await;
        assert_eq!(
            health["invalidationChannels"],
            json!({"redis": "ok", "postgres": "ok"}),
            "{health}"
        );
    }
}

/// A TCP proxy in front of PostgreSQL that the test can cut (live connections closed, new ones
/// refused) and restore.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    generation: Arc<tokio::sync::watch::Sender<u64>>,
}

impl Proxy {
    async fn start(target: (String, u16)) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let (generation, _) = tokio::sync::watch::channel(0u64);
        let generation = Arc::new(generation);
        let (cut2, gen2) = (Arc::clone(&cut), Arc::clone(&generation));
        tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else {
                    continue;
                };
                if cut2.load(Ordering::SeqCst) {
                    drop(inbound);
                    continue;
                }
                let target = target.clone();
                let mut cancelled = gen2.subscribe();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(target).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cancelled.changed() => {}
                    }
                });
            }
        });
        Self {
            port,
            cut,
            generation,
        }
    }

    fn cut(&self) {
        self.cut.store(true, Ordering::SeqCst);
        self.generation.send_modify(|g| *g += 1);
    }

    fn restore(&self) {
        self.cut.store(false, Ordering::SeqCst);
    }
}

/// Host and port of a postgres:// URL (enough for the test URL forms).
fn host_port(url: &str) -> (String, u16) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or(rest);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    match host_port.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().expect("a port")),
        None => (host_port.to_owned(), 5432),
    }
}

/// `url` with its host and port replaced by 127.0.0.1:`port`.
fn through(url: &str, port: u16) -> String {
    let (host, old) = host_port(url);
    url.replacen(&format!("{host}:{old}"), &format!("127.0.0.1:{port}"), 1)
        .replacen(&format!("@{host}/"), &format!("@127.0.0.1:{port}/"), 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_off_by_a_proxy_then_back() {
    postgres_cut_off(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_cut_off_by_a_proxy_then_back_with_redis() {
    postgres_cut_off(true).await;
}

/// One origin reaches PostgreSQL through the proxy. With `redis`, another origin (straight to the
/// database) has put staging's set into Redis, which the first never loaded: it serves it from
/// Redis while the database is away.
async fn postgres_cut_off(redis: bool) {
    let db = Database::create().await;
    let redis_url = redis_url();
    let prefix = Prefix::new(&redis_url);
    let shared = redis.then_some((redis_url.as_str(), prefix.prefix.as_str()));
    let proxy = Proxy::start(host_port(&db.url)).await;
    let origin = Origin::start(
        &through(&db.url, proxy.port),
        shared,
        &[("EDGE_TOKEN", "edge")],
    );
    assert_eq!(
        origin.health().await.1["invalidation"],
        if redis { "redis+postgres" } else { "postgres" }
    );
    if redis {
        let other = Origin::start(&db.url, shared, &[]);
        other
            .create(json!({"key": "k", "environment": "staging", "enabled": true, "rolloutPercentage": 100}))
            .await;
        assert!(other.enabled("staging").await);
    }
    let flag = origin
        .create(
            json!({"key": "k", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
        )
        .await;
    let id = flag["id"].as_str().expect("an id").to_owned();
    origin
        .create(
            json!({"key": "k", "environment": "dev", "enabled": true, "rolloutPercentage": 100}),
        )
        .await;
    assert!(origin.enabled("prod").await && origin.enabled("dev").await);

    proxy.cut();
    // Evaluations go on from the in-process sets, also past the revalidation interval.
    for _ in 0..3 {
        assert!(origin.enabled("prod").await && origin.enabled("dev").await);
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // Writes answer 503 with the contract's body.
    let (status, body) = origin
        .send(
            reqwest::Method::PUT,
            &format!("/api/admin/flags/{id}"),
            Some(json!({"enabled": false})),
        )
        .await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body, json!({"error": "storage is unavailable"}));
    // Health: 200, the store named as the problem; without Redis staging has no set anywhere.
    let (code, health) = origin.health().await;
    assert_eq!(code, 200, "{health}");
    assert_eq!(health["status"], "degraded");
    assert_eq!(health["store"], "unavailable");
    assert_eq!(health["evaluations"], if redis { "ok" } else { "partial" });
    assert!(origin.enabled("prod").await);
    // The snapshot endpoint serves the in-process set too, with its ETag and 304.
    let snapshot = |etag: Option<&'static str>| {
        let mut request = origin
            .client
            .get(format!(
                "{}/api/flags/snapshot?environment=prod",
                origin.base
            ))
            .header("x-edge-token", "edge");
        if let Some(etag) = etag {
            request = request.header("if-none-match", etag);
        }
        request.send()
    };
    let reply = snapshot(None).await.expect("snapshot");
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(reply.headers()["etag"], "\"1\"");
    let reply = snapshot(Some("\"1\"")).await.expect("snapshot");
    assert_eq!(reply.status().as_u16(), 304);
    if redis {
        assert!(origin.enabled("staging").await, "served from Redis");
    } else {
        let (status, body) = origin
            .send(
                reqwest::Method::POST,
                "/api/evaluate",
                Some(json!({"environment": "staging", "user": {"id": "u"}})),
            )
            .await;
        assert_eq!(
            (status, body),
            (503, json!({"error": "storage is unavailable"}))
        );
    }

    proxy.restore();
    origin
        .health_until(Duration::from_secs(10), |h| h["status"] == "ok")
        .await;
    assert_eq!(origin.update(&id, json!({"enabled": false})).await, 200);
    assert!(!origin.enabled("prod").await);
}

/// A store that holds `load_snapshot` (after reading) until released: a slow origin's load.
#[derive(Debug)]
struct HeldStore {
    inner: PostgresStore,
    read: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

#[async_trait::async_trait]
impl ReadStore for HeldStore {
    async fn revisions(&self) -> Result<Vec<Revision>, StoreError> {
        self.inner.revisions().await
    }
    async fn load_snapshot(
        &self,
        environment: Environment,
    ) -> Result<origin::store::StoredSnapshot, StoreError> {
        let snapshot = self.inner.load_snapshot(environment).await?;
        self.read.notify_one();
        self.release.notified().await;
        Ok(snapshot)
    }
}

/// Origin S (slow) reads revision 1 and is held; origin W writes revision 2 and invalidates; then
/// S's load finishes. S must not put revision 1 into the shared Redis, so a third, cold origin gets
/// revision 2; and S itself moves to 2 on the change message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stale_refill_race_across_origins() {
    let db = Database::create().await;
    let redis = redis_url();
    let prefix = Prefix::new(&redis);
    let store = PostgresStore::connect(&db.url).await.expect("store");
    let cache = || async {
        Arc::new(
            RedisCache::connect(&redis, prefix.prefix.clone())
                .await
                .expect("redis"),
        ) as Arc<dyn FlagCache>
    };
    let ttl = Duration::from_secs(60);
    let written = store
        .create_flag(
            NewFlag {
                environment: Environment::Prod,
                flag: evaluator::Flag::from_json_value(
                    &json!({"key": "k", "enabled": true, "rolloutPercentage": 100}),
                )
                .expect("flag"),
            },
            &test_actor(),
        )
        .await
        .expect("create");
    let id = written.value.id;
    let held = Arc::new(HeldStore {
        inner: store.clone(),
        read: tokio::sync::Notify::new(),
        release: tokio::sync::Notify::new(),
    });
    let slow = Arc::new(FlagSets::new(
        Arc::clone(&held) as Arc<dyn ReadStore>,
        cache().await,
        ttl,
    ));
    let writer = FlagSets::new(Arc::new(store.clone()), cache().await, ttl);

    let loading = {
        let slow = Arc::clone(&slow);
        tokio::spawn(async move { slow.get(Environment::Prod).await })
    };
    held.read.notified().await;
    let update = store
        .update_flag(
            id,
            FlagPatch {
                fields: json!({"enabled": false})
                    .as_object()
                    .expect("object")
                    .clone(),
            },
            None,
            &test_actor(),
        )
        .await
        .expect("update");
    writer.invalidate(&update.revisions).await;
    held.release.notify_one();
    let old = loading.await.expect("join").expect("load");
    assert_eq!(old.revision, 1, "the slow load answers what it read");

    let client = redis::Client::open(redis.as_str()).expect("url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("redis");
    let cached: Option<String> = conn
        .get(format!("{}flags:prod", prefix.prefix))
        .await
        .expect("GET");
    assert_eq!(
        cached, None,
        "the stale set was refused by the shared cache"
    );

    let cold = FlagSets::new(Arc::new(store.clone()), cache().await, ttl);
    assert_eq!(cold.get(Environment::Prod).await.expect("get").revision, 2);
    let cached: Option<String> = conn
        .get(format!("{}flags:prod", prefix.prefix))
        .await
        .expect("GET");
    let cached: Snapshot = serde_json::from_str(&cached.expect("filled")).expect("snapshot");
    assert_eq!(cached.revision, 2);

    // The slow origin hears of revision 2 and reloads in the background (from Redis now).
    held.release.notify_one();
    assert!(slow.on_change(Revision::new(Environment::Prod, 2)));
    let started = Instant::now();
    while slow.held_revision(Environment::Prod) != Some(2) {
        assert!(started.elapsed() < Duration::from_secs(2), "not reloaded");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Creates a client token for prod on `a`; waits until `b` accepts it; revokes it on `a`; returns
/// how long `b` took to refuse it (both polled every few milliseconds).
async fn revocation_reaches(a: &Origin, b: &Origin) -> Duration {
    let (status, body) = a
        .send(
            reqwest::Method::POST,
            "/api/admin/tokens",
            Some(json!({"name": "web", "role": "client", "environments": ["prod"]})),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let secret = body["secret"].as_str().expect("secret").to_owned();
    let id = body["token"]["id"].as_str().expect("id").to_owned();
    let evaluate_on_b = || async {
        b.client
            .post(format!("{}/api/evaluate", b.base))
            .header("authorization", format!("Bearer {secret}"))
            .header("content-type", "application/json")
            .body(json!({"environment": "prod", "user": {"id": "u"}}).to_string())
            .send()
            .await
            .expect("b answers")
            .status()
            .as_u16()
    };
    let started = Instant::now();
    while evaluate_on_b().await != 200 {
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "b never accepted the new token"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let (status, _) = a
        .send(
            reqwest::Method::DELETE,
            &format!("/api/admin/tokens/{id}"),
            None,
        )
        .await;
    assert_eq!(status, 204);
    let revoked = Instant::now();
    loop {
        match evaluate_on_b().await {
            401 => return revoked.elapsed(),
            200 => {}
            other => panic!("b answered {other}"),
        }
        assert!(
            revoked.elapsed() < Duration::from_secs(1),
            "b still accepts a token revoked on a a second ago"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn measure_revocations(label: &str, a: &Origin, b: &Origin) {
    let mut times = Vec::new();
    for _ in 0..5 {
        times.push(revocation_reaches(a, b).await);
    }
    times.sort();
    println!(
        "{label}: token revoked on one origin refused by another after median {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() - 1]
    );
}

const CLIENT_TOKENS: (&str, &str) = ("REQUIRE_CLIENT_TOKEN", "on");

/// Without periodic checks: only the change channels can carry the revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_by_another_origin_over_postgres_notify() {
    let db = Database::create().await;
    let a = Origin::start(&db.url, None, &[NO_REVALIDATION, CLIENT_TOKENS]);
    let b = Origin::start(&db.url, None, &[NO_REVALIDATION, CLIENT_TOKENS]);
    measure_revocations("postgres notify", &a, &b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_by_another_origin_over_redis() {
    let db = Database::create().await;
    let redis = redis_url();
    let prefix = Prefix::new(&redis);
    let redis = Some((redis.as_str(), prefix.prefix.as_str()));
    let a = Origin::start(&db.url, redis, &[NO_REVALIDATION, CLIENT_TOKENS]);
    let b = Origin::start(&db.url, redis, &[NO_REVALIDATION, CLIENT_TOKENS]);
    measure_revocations("redis pub/sub + postgres notify", &a, &b).await;
}

/// SQLite has no channel between processes: the periodic check (twice per default revalidation
/// interval) still refuses the token within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_token_is_refused_by_another_origin_on_sqlite_by_the_periodic_check() {
    let path = std::env::temp_dir().join(format!(
        "pennon-cluster-{}.db",
        uuid::Uuid::new_v4().simple()
    ));
    let url = format!("sqlite://{}", path.display());
    let a = Origin::start(&url, None, &[CLIENT_TOKENS]);
    let b = Origin::start(&url, None, &[CLIENT_TOKENS]);
    measure_revocations("sqlite, periodic check", &a, &b).await;
    drop((a, b));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
}
