//! Traces over OTLP: the `origin` binary with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at an
//! OTLP/HTTP collector run by the test, which decodes what arrives with the protocol's own types
//! (`opentelemetry-proto`); and without the variable, nothing sent.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::routing::post;
use axum::Router;
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value as AnyValue;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use serde_json::json;

use crate::binary::{start, temp_db, Running};

/// The bodies of the `POST /v1/traces` it was sent, as they came.
type Received = Arc<Mutex<Vec<Bytes>>>;

/// An OTLP/HTTP collector on a free port of 127.0.0.1: it keeps every export and answers it.
async fn collector() -> (SocketAddr, Received) {
    async fn export(
        State(received): State<Received>,
        body: Bytes,
    ) -> ([(axum::http::HeaderName, &'static str); 1], Vec<u8>) {
        received.lock().unwrap().push(body);
        (
            [(CONTENT_TYPE, "application/x-protobuf")],
            ExportTraceServiceResponse::default().encode_to_vec(),
        )
    }
    let received = Received::default();
    let router = Router::new()
        .route("/v1/traces", post(export))
        .with_state(Arc::clone(&received));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (addr, received)
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a AnyValue> {
    attributes
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| kv.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn text<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a str> {
    match attribute(attributes, key) {
        Some(AnyValue::StringValue(s)) => Some(s),
        _ => None,
    }
}

fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key) {
        Some(AnyValue::IntValue(i)) => Some(*i),
        _ => None,
    }
}

/// The feature-flag attributes of an evaluation, in a fixed order, for comparing.
fn flag_attributes(attributes: &[KeyValue]) -> [Option<&str>; 6] {
    [
        "feature_flag.key",
        "feature_flag.result.variant",
        "feature_flag.result.reason",
        "feature_flag.provider.name",
        "feature_flag.set.id",
        "error.type",
    ]
    .map(|key| text(attributes, key))
}

async fn post_json(
    client: &reqwest::Client,
    url: String,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> u16 {
    let mut request = client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.unwrap().status().as_u16()
}

/// Three flags of `dev`, one per reason the requests below meet.
async fn create_flags(client: &reqwest::Client, base: &str) {
    for flag in [
        json!({"key": "k-rule", "environment": "dev", "enabled": true,
               "rules": [{"field": "email", "operator": "ends_with", "value": "@example.com"}]}),
        json!({"key": "k-split", "environment": "dev", "enabled": true, "rolloutPercentage": 100}),
        json!({"key": "k-off", "environment": "dev", "enabled": false, "rolloutPercentage": 100}),
    ] {
        let status = post_json(
            client,
            format!("{base}/api/admin/flags"),
            &[("x-admin-token", "t")],
            flag,
        )
        .await;
        assert_eq!(status, 201);
    }
}

/// The user the requests evaluate for: none of it may reach a trace.
const TARGETING_KEY: &str = "secret-user-42";
const EMAIL: &str = "secret.person@example.com";
const PLAN: &str = "secret-plan-gold";

/// One OFREP single-flag evaluation, one of a key `dev` lacks, `POST /api/evaluate` and OFREP's
/// bulk route; answers as expected.
async fn evaluate(client: &reqwest::Client, base: &str) {
    let dev = [("x-pennon-environment", "dev")];
    let context = json!({"context": {"targetingKey": TARGETING_KEY, "email": EMAIL, "plan": PLAN}});
    let single = format!("{base}/ofrep/v1/evaluate/flags/k-rule");
    assert_eq!(post_json(client, single, &dev, context.clone()).await, 200);
    let missing = format!("{base}/ofrep/v1/evaluate/flags/nope");
    assert_eq!(post_json(client, missing, &dev, context.clone()).await, 404);
    let bulk =
        json!({"environment": "dev", "user": {"id": TARGETING_KEY, "attributes": {"plan": PLAN}}});
    assert_eq!(
        post_json(client, format!("{base}/api/evaluate"), &[], bulk).await,
        200
    );
    let ofrep_bulk = format!("{base}/ofrep/v1/evaluate/flags");
    assert_eq!(post_json(client, ofrep_bulk, &dev, context).await, 200);
}

/// SIGTERM, off the runtime's threads (the collector must keep answering meanwhile); the exit
/// must be clean, and its stderr is returned.
async fn terminate(running: Running) -> String {
    let (exit, _, stderr) = tokio::task::spawn_blocking(move || running.terminate())
        .await
        .unwrap();
    assert!(exit.success(), "exit {exit:?}; stderr: {stderr}");
    stderr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evaluation_spans_carry_the_feature_flag_conventions() {
    let (addr, received) = collector().await;
    let db = temp_db();
    let endpoint = format!("http://{addr}");
    // A batch delay longer than the test: every span arrives with the export made at shutdown.
    let running = start(
        &db,
        &[
            ("ADMIN_TOKEN", "t"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_BSP_SCHEDULE_DELAY", "600000"),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    create_flags(&client, &running.base).await;
    evaluate(&client, &running.base).await;
    let stderr = terminate(running).await;
    assert!(
        !stderr.contains("feature_flag"),
        "the log lines are as without traces: {stderr}"
    );

    let bodies = received.lock().unwrap().clone();
    assert!(!bodies.is_empty(), "nothing exported; stderr: {stderr}");
    for body in &bodies {
        for secret in [TARGETING_KEY, EMAIL, PLAN] {
            let found = body.windows(secret.len()).any(|w| w == secret.as_bytes());
            assert!(!found, "{secret:?} in an export");
        }
    }
    let mut spans: Vec<Span> = Vec::new();
    for body in &bodies {
        let request = ExportTraceServiceRequest::decode(body.as_ref()).unwrap();
        for resource_spans in request.resource_spans {
            let resource = resource_spans.resource.unwrap_or_default();
            assert_eq!(
                text(&resource.attributes, "service.name"),
                Some("pennon-origin")
            );
            for scope in resource_spans.scope_spans {
                spans.extend(scope.spans);
            }
        }
    }
    let span_of = |path: &str| {
        let found: Vec<&Span> = spans
            .iter()
            .filter(|span| text(&span.attributes, "path") == Some(path))
            .collect();
        assert_eq!(found.len(), 1, "{path}: {found:#?}");
        found[0]
    };

    // One flag: on the request's span.
    let single = span_of("/ofrep/v1/evaluate/flags/k-rule");
    assert_eq!(
        flag_attributes(&single.attributes),
        [
            Some("k-rule"),
            Some("on"),
            Some("targeting_match"),
            Some("pennon"),
            Some("dev"),
            None
        ]
    );
    assert_eq!(
        int(&single.attributes, "http.response.status_code"),
        Some(200)
    );
    assert!(single.events.is_empty(), "{:#?}", single.events);

    let missing = span_of("/ofrep/v1/evaluate/flags/nope");
    assert_eq!(
        flag_attributes(&missing.attributes),
        [
            Some("nope"),
            None,
            Some("error"),
            Some("pennon"),
            Some("dev"),
            Some("flag_not_found")
        ]
    );
    assert_eq!(
        int(&missing.attributes, "http.response.status_code"),
        Some(404)
    );

    // Every flag: one event per result, sorted by key as the results are.
    let expected = [
        [Some("k-off"), Some("off"), Some("disabled")],
        [Some("k-rule"), Some("off"), Some("default")],
        [Some("k-split"), Some("on"), Some("split")],
    ];
    for (path, rule) in [
        ("/api/evaluate", "default"),
        ("/ofrep/v1/evaluate/flags", "targeting_match"),
    ] {
        let span = span_of(path);
        assert_eq!(text(&span.attributes, "feature_flag.set.id"), Some("dev"));
        assert_eq!(
            text(&span.attributes, "feature_flag.provider.name"),
            Some("pennon")
        );
        assert_eq!(int(&span.attributes, "pennon.evaluations"), Some(3));
        let events: Vec<_> = span
            .events
            .iter()
            .map(|event| {
                assert_eq!(event.name, "feature_flag.evaluation");
                flag_attributes(&event.attributes)
            })
            .collect();
        let mut expected = expected.map(|[key, variant, reason]| {
            [key, variant, reason, Some("pennon"), Some("dev"), None]
        });
        // The OFREP context has the email the rule asks for; /api/evaluate's user has not.
        if rule == "targeting_match" {
            expected[1] = [
                Some("k-rule"),
                Some("on"),
                Some("targeting_match"),
                Some("pennon"),
                Some("dev"),
                None,
            ];
        }
        assert_eq!(events, expected, "{path}");
    }
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_endpoint_nothing_is_exported() {
    let (addr, received) = collector().await;
    let db = temp_db();
    // Everything but the switch: the collector is where the exporter would send, were it on.
    let traces_path = format!("http://{addr}/v1/traces");
    let running = start(
        &db,
        &[
            ("ADMIN_TOKEN", "t"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces_path),
            ("OTEL_SERVICE_NAME", "pennon-test"),
            ("OTEL_BSP_SCHEDULE_DELAY", "10"),
        ],
        &[],
    );
    let client = reqwest::Client::new();
    create_flags(&client, &running.base).await;
    evaluate(&client, &running.base).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let stderr = terminate(running).await;
    assert!(
        received.lock().unwrap().is_empty(),
        "exported to {traces_path} without OTEL_EXPORTER_OTLP_ENDPOINT"
    );
    assert!(!stderr.to_lowercase().contains("opentelemetry"), "{stderr}");
    let _ = std::fs::remove_dir_all(db.parent().unwrap());
}
