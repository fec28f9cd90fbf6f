//! Signed snapshots: with `SNAPSHOT_SIGNING_KEY` every snapshot answer (200 and 304) carries a
//! `Pennon-Signature` that verifies, with the key `GET /api/flags/signing-keys` publishes, over the
//! documented message and the exact body bytes; without it nothing changes.

use std::time::Duration;

use ed25519_dalek::{Verifier as _, VerifyingKey};
use http_contract::signature::{self, Signature};
use origin::{Signing, SigningSeed};
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Backend, Options, Reply, TestApp, EDGE_TOKEN};

/// Any 32 bytes make a seed; these are RFC 8032's first test key.
const SEED: [u8; 32] = [
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

pub fn signing() -> Signing {
    Signing {
        seed: SigningSeed::new(SEED),
        ttl: Duration::from_secs(600),
    }
}

async fn signed_app() -> TestApp {
    spawn_app_with(
        Backend::Sqlite,
        Options {
            signing: Some(signing()),
            ..Options::default()
        },
    )
    .await
}

async fn snapshot(app: &TestApp, environment: &str, etag: Option<&str>) -> Reply {
    let mut call = app
        .get(&format!("/api/flags/snapshot?environment={environment}"))
        .header("x-edge-token", EDGE_TOKEN);
    if let Some(etag) = etag {
        call = call.header("if-none-match", etag);
    }
    call.send().await
}

/// The published key (the one key of the set), and its id.
async fn published_key(app: &TestApp) -> (VerifyingKey, String) {
    let reply = app.get("/api/flags/signing-keys").send().await;
    assert_eq!(reply.status.as_u16(), 200, "{}", reply.text);
    let set = reply.json();
    let keys = set["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1, "{set}");
    let key = &keys[0];
    assert_eq!(
        (&key["kty"], &key["crv"], &key["alg"], &key["use"]),
        (
            &json!("OKP"),
            &json!("Ed25519"),
            &json!("EdDSA"),
            &json!("sig")
        )
    );
    let mut raw = [0u8; 32];
    let x = key["x"].as_str().expect("x");
    assert_eq!(signature::base64url_decode(x, &mut raw), Some(32), "{x}");
    let kid = key["kid"].as_str().expect("kid").to_owned();
    (VerifyingKey::from_bytes(&raw).expect("a valid point"), kid)
}

/// Verifies `header` over `body` with `key`, the message built by hand as docs/signing.md writes it.
fn verify(
    key: &VerifyingKey,
    header: &str,
    body: &[u8],
) -> Result<(), ed25519_dalek::SignatureError> {
    let parsed = Signature::parse(header).expect("the header parses");
    let mut message = format!(
        "pennon-snapshot-v1\n{}\n{}\n{}\n{}\n",
        parsed.environment, parsed.version, parsed.issued_ms, parsed.expires_ms
    )
    .into_bytes();
    message.extend_from_slice(body);
    key.verify(
        &message,
        &ed25519_dalek::Signature::from_bytes(&parsed.signature),
    )
}

#[tokio::test]
async fn a_signed_snapshot_verifies_with_the_published_key_over_the_exact_body() {
    let app = signed_app().await;
    let (key, kid) = published_key(&app).await;
    app.create_flag(json!({"key": "signed", "environment": "prod", "enabled": true}))
        .await;
    let reply = snapshot(&app, "prod", None).await;
    assert_eq!(reply.status.as_u16(), 200);
    let header = reply.header("pennon-signature").expect("signed").to_owned();
    let parsed = Signature::parse(&header).expect("parses");
    let revision = reply.json()["revision"].as_u64().expect("revision");
    assert_eq!(parsed.key_id, kid);
    assert_eq!((parsed.environment, parsed.version), ("prod", revision));
    assert_eq!(parsed.expires_ms - parsed.issued_ms, 600_000);
    let now_ms = u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis(),
    )
    .expect("fits");
    assert!(parsed.issued_ms.abs_diff(now_ms) < 120_000, "{header}");
    verify(&key, &header, reply.text.as_bytes()).expect("verifies");
    assert_eq!(parsed.check("prod", Some(revision), now_ms), Ok(()));

    // One byte of the body changed: it no longer verifies.
    let tampered = reply
        .text
        .replacen("\"enabled\":true", "\"enabled\":fals", 1);
    assert_ne!(tampered, reply.text);
    assert!(verify(&key, &header, tampered.as_bytes()).is_err());

    // A 304 carries a signature of the body the client holds (its ETag matched).
    let etag = reply.header("etag").expect("etag").to_owned();
    let not_modified = snapshot(&app, "prod", Some(&etag)).await;
    assert_eq!(not_modified.status.as_u16(), 304);
    let renewed = not_modified
        .header("pennon-signature")
        .expect("a 304 is signed too");
    verify(&key, renewed, reply.text.as_bytes()).expect("verifies over the held body");

    // A write: the next snapshot is signed at its new version, and the old signature does not
    // verify over the new body.
    let flag = app
        .create_flag(json!({"key": "second", "environment": "prod"}))
        .await;
    assert!(flag["id"].is_string());
    let next = snapshot(&app, "prod", Some(&etag)).await;
    assert_eq!(next.status.as_u16(), 200);
    let next_header = next.header("pennon-signature").expect("signed");
    let next_parsed = Signature::parse(next_header).expect("parses");
    assert_eq!(next_parsed.version, revision + 1);
    verify(&key, next_header, next.text.as_bytes()).expect("verifies");
    assert!(verify(&key, &header, next.text.as_bytes()).is_err());

    // Each environment's answer is signed for it.
    let dev = snapshot(&app, "dev", None).await;
    let dev_header = dev.header("pennon-signature").expect("signed");
    assert!(dev_header.contains("; env=dev;"), "{dev_header}");
    verify(&key, dev_header, dev.text.as_bytes()).expect("verifies");
}

#[tokio::test]
async fn without_a_key_snapshots_are_unsigned_and_no_key_is_published() {
    let app = spawn_app(Backend::Sqlite).await;
    let reply = snapshot(&app, "prod", None).await;
    assert_eq!(reply.status.as_u16(), 200);
    assert_eq!(reply.header("pennon-signature"), None);
    let etag = reply.header("etag").expect("etag").to_owned();
    let not_modified = snapshot(&app, "prod", Some(&etag)).await;
    assert_eq!(not_modified.status.as_u16(), 304);
    assert_eq!(not_modified.header("pennon-signature"), None);
    let keys = app.get("/api/flags/signing-keys").send().await;
    assert_eq!(keys.status.as_u16(), 200);
    assert_eq!(keys.json(), json!({"keys": []}));
}
