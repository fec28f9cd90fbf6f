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
async fn the_push_sends_edge_push_token_when_set_and_needs_no_edge_token() {
    let receiver = Receiver::default();
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            edge_push_url: Some(start_receiver(receiver.clone()).await),
            // The worker's EDGE_TOKEN: here a stored server token's value; the origin has none.
            edge_push_token: Some("pennon_worker_server_token"),
            edge_token: None,
            ..Options::default()
        },
    )
    .await;
    app.create_flag(json!({"key": "pushed", "environment": "dev"}))
        .await;
    let push = pushed(&receiver, "dev", 1).await;
    assert_eq!(push.token.as_deref(), Some("pennon_worker_server_token"));
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
        // The pushes fail after the writes answered: wait for the count.
        let deadline = Instant::now() + Duration::from_secs(5);
        while failed_pushes(app).await == 0 {
            assert!(Instant::now() < deadline, "no failed push counted");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // The failing receiver did receive the pushes (and answered 500).
    assert!(!receiver.pushes.lock().unwrap().is_empty());
}

/// A CA and a certificate it signs for `localhost` and 127.0.0.1: the CA's PEM, and a server
/// configuration presenting the certificate.
fn tls_identity() -> (String, rustls::ServerConfig) {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let server_key = KeyPair::generate().unwrap();
    let server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .unwrap()
        .signed_by(&server_key, &issuer)
        .unwrap();
    let config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(
            vec![server.der().clone()],
            rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
        )
        .unwrap();
    (ca.pem(), config)
}

/// The receiver behind TLS on a free port; its base URL (`https://localhost:<port>`).
async fn start_tls_receiver(receiver: Receiver, tls: rustls::ServerConfig) -> String {
    use tower_service::Service;
    let app = Router::new()
        .route("/api/edge/push", post(receive))
        .with_state(receiver);
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://localhost:{}",
        listener.local_addr().unwrap().port()
    );
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake: nothing to serve.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let service = hyper::service::service_fn(move |request| {
                    let mut app = app.clone();
                    async move { app.call(request).await }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                    .await;
            });
        }
    });
    url
}

async fn failed_pushes(app: &TestApp) -> u64 {
    let metrics = app.get("/metrics").admin().send().await.text;
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("pennon_edge_pushes_total{outcome=\"failed\"} "))
        .map_or(0, |count| count.trim().parse().unwrap())
}

#[tokio::test]
async fn an_https_worker_is_pushed_to_when_its_certificate_is_trusted() {
    let (ca_pem, tls) = tls_identity();
    let ca_file = std::env::temp_dir().join(format!("pennon-push-ca-{}.pem", uuid::Uuid::new_v4()));
    std::fs::write(&ca_file, ca_pem).unwrap();
    let receiver = Receiver::default();
    let url = start_tls_receiver(receiver.clone(), tls).await;

    let trusting = spawn_app_with(
        Backend::Sqlite,
        Options {
            edge_push_url: Some(url.clone()),
            edge_push_ca_file: Some(ca_file.to_str().unwrap().to_owned()),
            signing: Some(crate::signing::signing()),
            ..Options::default()
        },
    )
    .await;
    trusting
        .create_flag(json!({"key": "over-tls", "environment": "staging"}))
        .await;
    let push = pushed(&receiver, "staging", 1).await;
    assert_eq!(push.token.as_deref(), Some(EDGE_TOKEN));
    assert!(push.signature.is_some());
    let snapshot = trusting
        .get("/api/flags/snapshot?environment=staging")
        .header("x-edge-token", EDGE_TOKEN)
        .send()
        .await;
    assert_eq!(push.body, snapshot.text.as_bytes());
    assert_eq!(failed_pushes(&trusting).await, 0);

    // The same worker without its CA: the certificate is refused, the push counted as failed,
    // the write unaffected.
    let before = receiver.pushes.lock().unwrap().len();
    let untrusting = app_pushing_to(url, false).await;
    untrusting
        .create_flag(json!({"key": "refused", "environment": "staging"}))
        .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while failed_pushes(&untrusting).await == 0 {
        assert!(
            Instant::now() < deadline,
            "the untrusted push was not counted"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(receiver.pushes.lock().unwrap().len(), before);
    std::fs::remove_file(&ca_file).unwrap();
}
