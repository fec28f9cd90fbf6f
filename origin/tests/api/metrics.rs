//! `GET /metrics`: who may read it, and that what it counts moves with the requests made, read with
//! a Prometheus text parser.

use std::collections::BTreeSet;

use openmetrics_parser::{
    openmetrics::parse_openmetrics, MetricsExposition, OpenMetricsType, OpenMetricsValue as Metric,
};
use serde_json::{json, Value};

use crate::backend_tests;
use crate::helpers::{spawn_app, Backend, SiblingCache, TestApp, ADMIN_TOKEN, EDGE_TOKEN};

backend_tests!(
    metrics_are_gzipped_when_asked_for,
    metrics_need_a_role_for_every_environment,
    requests_and_evaluations_are_counted,
    evaluation_counts_outlive_a_reload,
    every_documented_family_is_served,
);

/// The families of `docs/metrics.md`, as the samples name them (a histogram by its base name).
pub fn documented_metrics() -> BTreeSet<String> {
    let doc = include_str!("../../../docs/metrics.md");
    doc.lines()
        .filter(|line| line.starts_with("| `pennon_"))
        .filter_map(|line| line.split('`').nth(1))
        .map(str::to_owned)
        .collect()
}

/// What `/metrics` answered, parsed as OpenMetrics.
pub type Scrape = MetricsExposition<OpenMetricsType, Metric>;

pub async fn scrape(app: &TestApp) -> Scrape {
    let reply = app.get("/metrics").admin().send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    assert_eq!(
        reply.header("content-type"),
        Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
    );
    parse_openmetrics(&reply.text)
        .unwrap_or_else(|err| panic!("not OpenMetrics ({err:?}):\n{}", reply.text))
}

/// The name a family's samples go by: a counter's `_total`, an info's `_info`.
fn sample_name(family: &str, kind: &OpenMetricsType) -> String {
    match kind {
        OpenMetricsType::Counter => format!("{family}_total"),
        OpenMetricsType::Info => format!("{family}_info"),
        _ => family.to_owned(),
    }
}

/// The series of the family whose samples are `name`d so, with these labels (and maybe more).
fn find<'a>(scrape: &'a Scrape, name: &str, labels: &[(&str, &str)]) -> Option<&'a Metric> {
    let family = scrape
        .families
        .values()
        .find(|family| sample_name(&family.family_name, &family.family_type) == name)?;
    family
        .iter_samples()
        .find(|sample| {
            let set = sample
                .get_labelset()
                .expect("samples of a family have its labels");
            labels
                .iter()
                .all(|(key, value)| set.get_label_value(key) == Some(*value))
        })
        .map(|sample| &sample.value)
}

/// A counter's or gauge's value; 0 when the series does not exist (yet).
fn value(scrape: &Scrape, name: &str, labels: &[(&str, &str)]) -> f64 {
    match find(scrape, name, labels) {
        None => 0.0,
        Some(Metric::Counter(counter)) => counter.value.as_f64(),
        Some(Metric::Gauge(v) | Metric::Unknown(v)) => v.as_f64(),
        Some(other) => panic!("{name} {labels:?} is not a number: {other:?}"),
    }
}

async fn create_token(app: &TestApp, role: &str, environments: &[&str]) -> String {
    let body =
        json!({"name": format!("{role} metrics"), "role": role, "environments": environments});
    app.create_token(body).await.1
}

async fn metrics_need_a_role_for_every_environment(backend: Backend) {
    let app = spawn_app(backend).await;
    app.get("/metrics").send().await.error(401);
    app.get("/metrics")
        .header("authorization", "Bearer pn_nope")
        .send()
        .await
        .error(401);
    let all = ["dev", "staging", "prod"];
    let client = create_token(&app, "client", &all).await;
    let message = app
        .get("/metrics")
        .header("authorization", &format!("Bearer {client}"))
        .send()
        .await
        .error(403);
    assert!(message.contains("read metrics"), "{message}");
    let dev_viewer = create_token(&app, "viewer", &["dev"]).await;
    app.get("/metrics")
        .header("authorization", &format!("Bearer {dev_viewer}"))
        .send()
        .await
        .error(403);
    for role in ["server", "viewer", "editor", "admin"] {
        let token = create_token(&app, role, &all).await;
        let reply = app
            .get("/metrics")
            .header("authorization", &format!("Bearer {token}"))
            .send()
            .await;
        assert_eq!(reply.status.as_u16(), 200, "{role}: {}", reply.text);
    }
    let reply = app
        .get("/metrics")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
}

async fn evaluate(app: &TestApp, user: &str) -> Value {
    app.evaluate(json!({"environment": "prod", "user": {"id": user}}))
        .await
}

/// (variant, reason) of flag `key` in an evaluation's answer.
fn decided(answer: &Value, key: &str) -> (String, String) {
    let result = answer["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|r| r["flagKey"] == key)
        .unwrap_or_else(|| panic!("{key} in {answer}"));
    (
        result["variant"].as_str().expect("variant").to_owned(),
        result["reason"].as_str().expect("reason").to_owned(),
    )
}

async fn requests_and_evaluations_are_counted(backend: Backend) {
    let app = spawn_app(backend).await;
    let on = app
        .create_flag(
            json!({"key": "on", "environment": "prod", "enabled": true, "rolloutPercentage": 100}),
        )
        .await;
    app.create_flag(json!({"key": "off", "environment": "prod", "enabled": false}))
        .await;
    let before = scrape(&app).await;
    let mut answer = Value::Null;
    for user in ["u1", "u2", "u3"] {
        answer = evaluate(&app, user).await;
    }
    app.post("/ofrep/v1/evaluate/flags/on")
        .header("x-pennon-environment", "prod")
        .json(&json!({"context": {"targetingKey": "u1"}}))
        .send()
        .await;
    let id = on["id"].as_str().expect("id");
    app.get(&format!("/api/admin/flags/{id}"))
        .admin()
        .send()
        .await;
    app.get("/no/such/path").send().await.error(404);
    let after = scrape(&app).await;

    let (on_variant, on_reason) = decided(&answer, "on");
    let (off_variant, off_reason) = decided(&answer, "off");
    assert_eq!((on_variant.as_str(), off_variant.as_str()), ("on", "off"));
    assert_eq!(off_reason, "FLAG_DISABLED");
    let evaluations = |scrape: &Scrape, flag: &str, variant: &str, reason: &str| {
        value(
            scrape,
            "pennon_evaluations_total",
            &[
                ("environment", "prod"),
                ("flag", flag),
                ("variant", variant),
                ("reason", reason),
            ],
        )
    };
    // Three requests of every flag, and one OFREP request of `on`.
    assert_eq!(evaluations(&after, "on", &on_variant, &on_reason), 4.0);
    assert_eq!(evaluations(&after, "off", &off_variant, &off_reason), 3.0);
    assert_eq!(evaluations(&before, "on", &on_variant, &on_reason), 0.0);
    assert_eq!(evaluations(&after, "off", "on", &off_reason), 0.0);

    let requests = |scrape: &Scrape, route: &str, method: &str, status: &str| {
        value(
            scrape,
            "pennon_http_requests_total",
            &[("route", route), ("method", method), ("status", status)],
        )
    };
    assert_eq!(
        requests(&after, "/api/evaluate", "POST", "200")
            - requests(&before, "/api/evaluate", "POST", "200"),
        3.0
    );
    assert_eq!(
        requests(&after, "/ofrep/v1/evaluate/flags/{key}", "POST", "200"),
        1.0
    );
    assert_eq!(requests(&after, "/api/admin/flags/{id}", "GET", "200"), 1.0);
    assert_eq!(requests(&after, "unmatched", "GET", "404"), 1.0);
    // The first scrape is counted as it leaves, after its own text was written.
    assert_eq!(requests(&after, "/metrics", "GET", "200"), 1.0);
    let requests_family = &after.families["pennon_http_requests"];
    for sample in requests_family.iter_samples() {
        let route = sample
            .get_labelset()
            .unwrap()
            .get_label_value("route")
            .map(str::to_owned);
        assert!(
            !route.unwrap_or_default().contains(id),
            "a raw path as a route"
        );
    }

    let latency = find(
        &after,
        "pennon_http_request_duration_seconds",
        &[("route", "/api/evaluate"), ("method", "POST")],
    )
    .expect("the evaluate latency");
    let Metric::Histogram(histogram) = latency else {
        panic!("not a histogram: {latency:?}");
    };
    let count = histogram.count.expect("a count");
    assert!(count >= 3, "{histogram:?}");
    let last = histogram.buckets.last().expect("buckets");
    assert_eq!(last.upper_bound, f64::INFINITY);
    assert_eq!(last.count.as_f64(), count as f64);
    assert!(histogram.sum.expect("a sum").as_f64() > 0.0);

    let prod = [("environment", "prod")];
    let hits = value(&after, "pennon_flagset_in_process_hits_total", &prod)
        - value(&before, "pennon_flagset_in_process_hits_total", &prod);
    assert!(hits >= 3.0, "{hits}");
    assert!(value(&after, "pennon_flagset_store_loads_total", &prod) >= 1.0);
    assert_eq!(value(&after, "pennon_change_streams_open", &[]), 0.0);
    assert!(find(&after, "pennon_store_pool_connections", &[]).is_some());
    assert!(find(
        &after,
        "pennon_build_info",
        &[("version", env!("CARGO_PKG_VERSION"))]
    )
    .is_some());
}

async fn evaluation_counts_outlive_a_reload(backend: Backend) {
    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(json!({"key": "k", "environment": "prod", "enabled": false}))
        .await;
    evaluate(&app, "u1").await;
    evaluate(&app, "u2").await;
    app.update_flag(flag["id"].as_str().unwrap(), json!({"enabled": true}))
        .await;
    evaluate(&app, "u3").await;
    let scrape = scrape(&app).await;
    let series = |variant: &str, reason: &str| {
        let labels = [
            ("environment", "prod"),
            ("flag", "k"),
            ("variant", variant),
            ("reason", reason),
        ];
        value(&scrape, "pennon_evaluations_total", &labels)
    };
    // The first set (disabled) was replaced and dropped; its two counts are kept.
    assert_eq!(series("off", "FLAG_DISABLED"), 2.0);
    let after: f64 = scrape.families["pennon_evaluations"]
        .iter_samples()
        .filter(|sample| {
            let set = sample.get_labelset().unwrap();
            set.get_label_value("flag") == Some("k")
                && set.get_label_value("reason") != Some("FLAG_DISABLED")
        })
        .map(|sample| match &sample.value {
            Metric::Counter(counter) => counter.value.as_f64(),
            other => panic!("not a counter: {other:?}"),
        })
        .sum();
    assert_eq!(after, 1.0);
    assert!(
        value(
            &scrape,
            "pennon_flagset_store_loads_total",
            &[("environment", "prod")]
        ) >= 2.0
    );
}

async fn every_documented_family_is_served(backend: Backend) {
    let app = spawn_app(backend).await;
    app.create_flag(json!({"key": "k", "environment": "dev", "enabled": true}))
        .await;
    app.evaluate(json!({"environment": "dev", "user": {"id": "u"}}))
        .await;
    let scrape = scrape(&app).await;
    // Families with at least one series, by the name their samples go by.
    let served: BTreeSet<String> = scrape
        .families
        .values()
        .filter(|family| family.iter_samples().next().is_some())
        .map(|family| sample_name(&family.family_name, &family.family_type))
        .collect();
    let documented = documented_metrics();
    assert!(documented.len() >= 14, "{documented:?}");
    for name in &documented {
        let expected = match name.as_str() {
            "pennon_redis_circuit_open" => backend == Backend::PostgresRedis,
            "pennon_change_messages_received_total" => backend != Backend::Sqlite,
            // Only once another origin's change arrived: `a_change_from_another_origin_is_timed`.
            "pennon_change_propagation_seconds" => false,
            // Only with EDGE_PUSH_URL set: `push::each_write_pushes_…`.
            "pennon_edge_pushes_total" => false,
            _ => true,
        };
        assert_eq!(served.contains(name), expected, "{name} served: {served:?}");
    }
    for name in &served {
        assert!(
            documented.contains(name),
            "{name} is not in docs/metrics.md"
        );
    }
}

mod propagation {
    use super::*;

    #[tokio::test]
    async fn postgres() {
        a_change_from_another_origin_is_timed(Backend::Postgres).await
    }

    #[tokio::test]
    async fn postgres_redis() {
        a_change_from_another_origin_is_timed(Backend::PostgresRedis).await
    }
}

/// A write on one origin reaches another by `NOTIFY` (and Redis): the other counts the message
/// and times the commit-to-served lag. (SQLite has no channel between origins.)
async fn a_change_from_another_origin_is_timed(backend: Backend) {
    use std::time::{Duration, Instant};

    let app = spawn_app(backend).await;
    let flag = app
        .create_flag(
            json!({"key": "k", "environment": "prod", "enabled": false, "rolloutPercentage": 100}),
        )
        .await;
    let other = app.sibling(SiblingCache::Fresh, None).await;
    assert!(!other.decide("prod", "u", "k").await.0);
    app.update_flag(flag["id"].as_str().unwrap(), json!({"enabled": true}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    let observed = loop {
        let read = scrape(&other).await;
        let lag = find(
            &read,
            "pennon_change_propagation_seconds",
            &[("environment", "prod")],
        );
        if let Some(Metric::Histogram(histogram)) = lag {
            break (histogram.clone(), read);
        }
        assert!(Instant::now() < deadline, "no propagation observed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let (histogram, read) = observed;
    assert_eq!(histogram.count, Some(1), "{histogram:?}");
    let sum = histogram.sum.expect("a sum").as_f64();
    assert!((0.0..5.0).contains(&sum), "{sum}");
    assert!(other.decide("prod", "u", "k").await.0);
    assert!(
        value(
            &read,
            "pennon_change_messages_received_total",
            &[("channel", "postgres")]
        ) >= 1.0
    );
    // The writer's own write is not a propagation it waits for.
    let own = find(
        &scrape(&app).await,
        "pennon_change_propagation_seconds",
        &[("environment", "prod")],
    )
    .is_some();
    assert!(!own);
}

async fn metrics_are_gzipped_when_asked_for(backend: Backend) {
    use std::io::Read as _;
    let app = spawn_app(backend).await;
    // The raw bytes (the helpers' replies are text).
    let reply = app
        .client
        .get(format!("{}/metrics", app.base))
        .header("x-admin-token", ADMIN_TOKEN)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request reaches the origin");
    assert_eq!(reply.status().as_u16(), 200);
    assert_eq!(reply.headers()["content-encoding"], "gzip");
    assert_eq!(reply.headers()["vary"], "accept-encoding");
    let gzipped = reply.bytes().await.expect("body");
    let mut text = String::new();
    flate2::read::GzDecoder::new(gzipped.as_ref())
        .read_to_string(&mut text)
        .expect("gzip");
    parse_openmetrics(&text).unwrap_or_else(|err| panic!("not OpenMetrics ({err:?}):\n{text}"));
    let plain = app.get("/metrics").admin().send().await;
    assert_eq!(plain.header("content-encoding"), None);
    assert!(plain.text.starts_with("# HELP"), "{}", plain.text);
}
