//! `EDGE_PUSH_URL`: after each committed write the origin pushes the environment's new snapshot
//! (the snapshot endpoint's exact body, and its `Pennon-Signature` when signing) to an in-test
//! receiver standing in for the edge worker, with `x-edge-token`; a receiver that fails, or is not
//! there at all, never fails or delays a write, and the failures are counted in `/metrics`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use serde_json::json;

use crate::helpers::{spawn_app_with, Backend, Options, TestApp, EDGE_TOKEN};

/// One push as received.
#[derive(Debug, Clone)]
struct Pushed {
    environment: String,
    token: Option<String>,
    signature: Option<String>,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Receiver {
    pushes: Arc<Mutex<Vec<Pushed>>>,
    /// The status every push is answered with.
    status: Arc<Mutex<Option<StatusCode>>>,
}

async fn receive(
    State(receiver): State<Receiver>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    receiver.pushes.lock().unwrap().push(Pushed {
        environment: query.get("environment").cloned().unwrap_or_default(),
        token: header("x-edge-token"),
        signature: header("pennon-signature"),
        body,
    });
    receiver.status.lock().unwrap().unwrap_or(StatusCode::OK)
}

/// A receiver on a free port; its base URL.
async fn start_receiver(receiver: Receiver) -> String {
    let app = Router::new()
        .route("/api/edge/push", post(receive))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn app_pushing_to(url: String, signing: bool) -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        Options {
            edge_push_url: Some(url),
            signing: signing.then(crate::signing::signing),
            ..Options::default()
        },
    )
    .await
}

/// Waits until a push of `environment` at `revision` or later arrives.
async fn pushed(receiver: &Receiver, environment: &str, revision: u64) -> Pushed {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = receiver
            .pushes
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|p| {
                p.environment == environment
                    && serde_json::from_slice::<serde_json::Value>(&p.body)
                        .ok()
                        .and_then(|v| v["revision"].as_u64())
                        .is_some_and(|r| r >= revision)
            })
            .cloned();
        if let Some(found) = found {
            return found;
        }
        assert!(
            Instant::now() < deadline,
            "no push of {environment} at {revision}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test]
async fn each_write_pushes_the_new_snapshot_with_the_edge_token_and_its_signature() {
    let receiver = Receiver::default();
    let app = app_pushing_to(start_receiver(receiver.clone()).await, true).await;
    app.create_flag(json!({"key": "pushed", "environment": "staging", "enabled": true}))
        .await;
    let snapshot = app
        .get("/api/flags/snapshot?environment=staging")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    let revision = snapshot.json()["revision"].as_u64().unwrap();
    let push = pushed(&receiver, "staging", revision).await;
    assert_eq!(push.token.as_deref(), Some(EDGE_TOKEN));
    assert_eq!(
        push.body.as_ref(),
        snapshot.text.as_bytes(),
        "the exact bytes"
    );
    let signature = push.signature.expect("signed");
    assert!(
        signature.contains(&format!("env=staging; version={revision};")),
        "{signature}"
    );
    // Only the environment written is pushed.
    assert!(receiver
        .pushes
        .lock()
        .unwrap()
        .iter()
        .all(|p| p.environment == "staging"));
    // The next write pushes again, at its revision.
    app.create_flag(json!({"key": "second", "environment": "staging"}))
        .await;
    pushed(&receiver, "staging", revision + 1).await;
    let metrics = app.get("/metrics").admin().send().await.text;
    assert!(
        metrics.contains("pennon_edge_pushes_total{outcome=\"sent\"}"),
        "{metrics}"
    );
}

#[tokio::test]
async fn unsigned_pushes_carry_no_signature() {
    let receiver = Receiver::default();
    let app = app_pushing_to(start_receiver(receiver.clone()).await, false).await;
    app.create_flag(json!({"key": "plain", "environment": "prod"}))
        .await;
    let push = pushed(&receiver, "prod", 1).await;
    assert_eq!(push.signature, None);
}

#[tokio::test]
async fn a_failing_or_absent_receiver_never_fails_or_delays_a_write() {
    let receiver = Receiver::default();
    *receiver.status.lock().unwrap() = Some(StatusCode::INTERNAL_SERVER_ERROR);
    let failing = app_pushing_to(start_receiver(receiver.clone()).await, false).await;
    // A port where nothing listens (bound, then closed).
    let closed = {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        format!("http://{}", listener.local_addr().unwrap())
    };
    let absent = app_pushing_to(closed, false).await;
    for app in [&failing, &absent] {
        for i in 0..5 {
            let started = Instant::now();
            app.create_flag(json!({"key": format!("f{i}"), "environment": "dev"}))
                .await;
            assert!(started.elapsed() < Duration::from_secs(1), "a write waited");
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let metrics = app.get("/metrics").admin().send().await.text;
            if metrics.contains("pennon_edge_pushes_total{outcome=\"failed\"}") {
                assert!(
                    !metrics.contains("pennon_edge_pushes_total{outcome=\"failed\"} 0\n"),
                    "{metrics}"
                );
                break;
            }
            assert!(Instant::now() < deadline, "{metrics}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // The failing receiver did receive the pushes (and answered 500).
    assert!(!receiver.pushes.lock().unwrap().is_empty());
}
