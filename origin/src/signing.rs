//! Signed snapshots: the origin's Ed25519 key signs each answer of `GET /api/flags/snapshot` (the
//! exact body bytes, its environment and revision, when it was signed and when the signature
//! expires), carried in the `Pennon-Signature` header (`http_contract::signature`, the layout;
//! `docs/signing.md`). The public key is published by `GET /api/flags/signing-keys`.
//!
//! A signature is made once per environment and revision and reused for a minute: the edge's
//! isolates revalidate every few seconds, and signing hashes the whole body each time.

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use evaluator::Environment;
use http_contract::signature::{self, Base64Url, Signature};
use sha2::{Digest, Sha256};

use crate::config::Signing;

/// How long a signature is reused for the same body before a new one (with a later expiry) is
/// made.
const REUSE: Duration = Duration::from_secs(60);

/// The key id of a public key: the first 8 bytes of its SHA-256, in lowercase hex.
pub fn key_id(public_key: &[u8; 32]) -> String {
    Sha256::digest(public_key)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A signature made for one body.
#[derive(Debug, Clone)]
struct Made {
    body: Bytes,
    version: u64,
    issued_ms: u64,
    header: String,
}

/// Signs snapshots with the configured key.
#[derive(Debug)]
pub struct SnapshotSigner {
    key: SigningKey,
    key_id: String,
    ttl_ms: u64,
    /// Per environment (`Environment::ALL`'s order), the last signature made.
    made: Mutex<[Option<Made>; 3]>,
}

/// A published public key, as a JSON Web Key (RFC 8037: `kty` OKP, `crv` Ed25519, `x` the 32 raw
/// bytes in base64url).
#[derive(Debug, Clone, serde::Serialize)]
pub struct PublicKey {
    /// `OKP`
    pub kty: &'static str,
    /// `Ed25519`
    pub crv: &'static str,
    /// `EdDSA`
    pub alg: &'static str,
    /// `sig`
    #[serde(rename = "use")]
    pub use_: &'static str,
    /// The key id the `Pennon-Signature` header names: the first 8 bytes of SHA-256 over the raw
    /// public key, in lowercase hex.
    pub kid: String,
    /// The 32-byte public key, base64url without padding: what the edge's `SNAPSHOT_PUBLIC_KEYS`
    /// and the npm package's `publicKeys` take.
    pub x: String,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn slot(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

impl SnapshotSigner {
    pub fn new(config: &Signing) -> Self {
        let key = SigningKey::from_bytes(config.seed.expose());
        let key_id = key_id(key.verifying_key().as_bytes());
        Self {
            key,
            key_id,
            ttl_ms: u64::try_from(config.ttl.as_millis()).unwrap_or(u64::MAX),
            made: Mutex::new(Default::default()),
        }
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    pub fn public_key(&self) -> PublicKey {
        PublicKey {
            kty: "OKP",
            crv: "Ed25519",
            alg: "EdDSA",
            use_: "sig",
            kid: self.key_id.clone(),
            x: Base64Url(self.key.verifying_key().as_bytes()).to_string(),
        }
    }

    /// The `Pennon-Signature` header value for `body`, the snapshot of `environment` at
    /// `version`, signed now (or up to a minute ago for the same body).
    pub fn header(&self, environment: Environment, version: u64, body: &Bytes) -> String {
        self.header_at(environment, version, body, now_ms())
    }

    fn header_at(&self, environment: Environment, version: u64, body: &Bytes, now: u64) -> String {
        let reuse_ms = u64::try_from(REUSE.as_millis()).unwrap_or(u64::MAX);
        let mut made = self
            .made
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let slot = &mut made[slot(environment)];
        if let Some(m) = slot.as_ref() {
            let recent = now.saturating_sub(m.issued_ms) < reuse_ms && m.issued_ms <= now;
            if recent && m.version == version && m.body == *body {
                return m.header.clone();
            }
        }
        let header = self.sign(environment.as_str(), version, now, body);
        *slot = Some(Made {
            body: body.clone(),
            version,
            issued_ms: now,
            header: header.clone(),
        });
        header
    }

    /// Signs `preamble ++ body` and writes the header.
    fn sign(&self, environment: &str, version: u64, issued_ms: u64, body: &[u8]) -> String {
        let expires_ms = issued_ms.saturating_add(self.ttl_ms);
        let preamble = signature::preamble(environment, version, issued_ms, expires_ms);
        let mut message = Vec::with_capacity(preamble.as_bytes().len() + body.len());
        message.extend_from_slice(preamble.as_bytes());
        message.extend_from_slice(body);
        Signature {
            key_id: &self.key_id,
            environment,
            version,
            issued_ms,
            expires_ms,
            signature: self.key.sign(&message).to_bytes(),
        }
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::SigningSeed;
    use ed25519_dalek::Verifier as _;

    /// RFC 8032 §7.1, test 1: its secret key and public key.
    const RFC_SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const RFC_PUBLIC: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }

    fn signer() -> SnapshotSigner {
        let seed: [u8; 32] = hex(RFC_SEED).try_into().unwrap();
        SnapshotSigner::new(&Signing {
            seed: SigningSeed::new(seed),
            ttl: Duration::from_secs(3600),
        })
    }

    #[test]
    fn the_key_is_rfc_8032s_and_its_id_a_short_hash() {
        let signer = signer();
        assert_eq!(signer.verifying_key().as_bytes().to_vec(), hex(RFC_PUBLIC));
        let published = signer.public_key();
        assert_eq!(published.x, "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo");
        let digest = Sha256::digest(hex(RFC_PUBLIC));
        assert_eq!(published.kid.len(), 16);
        assert_eq!(published.kid, key_id(signer.verifying_key().as_bytes()));
        assert_eq!(
            published.kid,
            digest[..8]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
    }

    #[test]
    fn the_header_verifies_over_the_documented_message() {
        let signer = signer();
        let body = Bytes::from_static(br#"{"environment":"prod","revision":12,"flags":[]}"#);
        let header = signer.header_at(Environment::Prod, 12, &body, 1_000);
        let parsed = Signature::parse(&header).unwrap();
        assert_eq!(parsed.key_id, signer.public_key().kid);
        assert_eq!(
            (
                parsed.environment,
                parsed.version,
                parsed.issued_ms,
                parsed.expires_ms
            ),
            ("prod", 12, 1_000, 3_601_000)
        );
        // The message, written out by hand: the layout docs/signing.md gives.
        let mut message = b"pennon-snapshot-v1\nprod\n12\n1000\n3601000\n".to_vec();
        message.extend_from_slice(&body);
        let sig = ed25519_dalek::Signature::from_bytes(&parsed.signature);
        signer.verifying_key().verify(&message, &sig).unwrap();
        // One byte changed in the body, or another field, and it no longer verifies.
        let mut tampered = message.clone();
        *tampered.last_mut().unwrap() = b']';
        assert!(signer.verifying_key().verify(&tampered, &sig).is_err());
        let other = b"pennon-snapshot-v1\nprod\n13\n1000\n3601000\n".to_vec();
        assert!(signer
            .verifying_key()
            .verify(&[other, body.to_vec()].concat(), &sig)
            .is_err());
    }

    #[test]
    fn a_signature_is_reused_for_a_minute_for_the_same_body_only() {
        let signer = signer();
        let body = Bytes::from_static(b"{}");
        let first = signer.header_at(Environment::Dev, 1, &body, 10_000);
        assert_eq!(signer.header_at(Environment::Dev, 1, &body, 69_999), first);
        assert_ne!(signer.header_at(Environment::Dev, 1, &body, 70_000), first);
        let later = signer.header_at(Environment::Dev, 1, &body, 70_001);
        assert_ne!(
            signer.header_at(Environment::Dev, 2, &Bytes::from_static(b"{ }"), 70_002),
            later
        );
        // Environments are separate.
        let prod = signer.header_at(Environment::Prod, 2, &body, 70_003);
        assert!(prod.contains("env=prod"), "{prod}");
    }
}
