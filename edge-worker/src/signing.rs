//! Signed snapshots at the edge: the accepted public keys (`SNAPSHOT_PUBLIC_KEYS`), the verification
//! of a `200`'s `Pennon-Signature` before the snapshot is installed, and what `/health` says of it.
//! Pure, so host-tested; `sync.rs` calls it with the bytes it fetched and the clock.
//!
//! Verified with `ed25519-dalek` compiled into the worker rather than Web Crypto: synchronous, the
//! same code on the host (these tests) as in workerd, and no JavaScript promise to bridge in the
//! fetch path; it costs the worker's wasm some size, which matters less here than in the npm
//! package (which uses Web Crypto). The header and the signed bytes are
//! `http_contract::signature`'s, shared with the origin that signs.

use ed25519_dalek::{Signature as Ed25519Signature, Verifier as _, VerifyingKey};
use evaluator::Environment;
use http_contract::signature::{self, Refusal, Signature};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The accepted public keys, from `SNAPSHOT_PUBLIC_KEYS`: two during a key rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeys(Vec<[u8; 32]>);

impl PublicKeys {
    /// A comma-separated list of 32-byte Ed25519 public keys, each base64url or base64 (the `x` of
    /// `GET /api/flags/signing-keys`) or 64 hex digits. Blank: none, snapshots are not verified.
    /// The error names the variable and the key's place, never a value.
    pub fn parse(raw: &str) -> Result<Option<Self>, String> {
        let mut keys = Vec::new();
        for (i, text) in raw.split(',').map(str::trim).enumerate() {
            if text.is_empty() {
                continue;
            }
            let key = decode_key(text).ok_or_else(|| {
                format!(
                    "SNAPSHOT_PUBLIC_KEYS: key {} is not a 32-byte Ed25519 public key (base64url, \
                     base64 or 64 hex digits)",
                    i + 1
                )
            })?;
            keys.push(key);
        }
        Ok((!keys.is_empty()).then_some(PublicKeys(keys)))
    }

    /// The key ids, for the log.
    pub fn ids(&self) -> Vec<String> {
        self.0.iter().map(key_id).collect()
    }
}

fn decode_key(text: &str) -> Option<[u8; 32]> {
    let mut key = [0u8; 32];
    if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        for (i, byte) in key.iter_mut().enumerate() {
            *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
        }
        return Some(key);
    }
    (signature::base64url_decode(text, &mut key) == Some(32)).then_some(key)
}

/// The first 8 bytes of SHA-256 over the raw public key, in lowercase hex (the origin's key id).
pub fn key_id(key: &[u8; 32]) -> String {
    Sha256::digest(key)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What a signature that verified says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Verified {
    pub key_id: String,
    pub version: u64,
    /// Milliseconds since the epoch.
    pub expires_at: u64,
}

/// Verifies a `200` of the snapshot of `environment`: its `Pennon-Signature` header (None when
/// absent), with one of `keys`, over `body`; then the environment, the version against the one
/// held, and the expiry. The error is the refusal's text (`http_contract::signature::Refusal`).
pub fn verify(
    keys: &PublicKeys,
    header: Option<&str>,
    body: &[u8],
    environment: Environment,
    held_version: Option<u64>,
    now_ms: u64,
) -> Result<Verified, String> {
    let header = header.ok_or_else(|| Refusal::Unsigned.to_string())?;
    let parsed = Signature::parse(header).map_err(|why| Refusal::Malformed(why).to_string())?;
    let key = keys
        .0
        .iter()
        .find(|key| key_id(key) == parsed.key_id)
        .ok_or_else(|| Refusal::UnknownKey(parsed.key_id).to_string())?;
    let key = VerifyingKey::from_bytes(key).map_err(|_| {
        format!(
            "SNAPSHOT_PUBLIC_KEYS: key {} is not a valid Ed25519 public key",
            parsed.key_id
        )
    })?;
    let preamble = parsed.preamble();
    let mut message = Vec::with_capacity(preamble.as_bytes().len() + body.len());
    message.extend_from_slice(preamble.as_bytes());
    message.extend_from_slice(body);
    key.verify(&message, &Ed25519Signature::from_bytes(&parsed.signature))
        .map_err(|_| Refusal::BadSignature.to_string())?;
    parsed
        .check(environment.as_str(), held_version, now_ms)
        .map_err(|refusal| refusal.to_string())?;
    Ok(Verified {
        key_id: parsed.key_id.to_owned(),
        version: parsed.version,
        expires_at: parsed.expires_ms,
    })
}

/// The check after the body is read: its revision is the version signed.
pub fn check_revision(verified: &Verified, body_revision: u64) -> Result<(), String> {
    if verified.version == body_revision {
        Ok(())
    } else {
        Err(Refusal::VersionMismatch {
            signed: verified.version,
            body: body_revision,
        }
        .to_string())
    }
}

/// A refusal, for `/health`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Refused {
    reason: String,
    at_ms: u64,
}

/// Per environment, the last signature verified and the last refusal: what `/health` shows.
#[derive(Debug, Default)]
pub struct SignatureLog {
    slots: [(Option<Verified>, Option<Refused>); 3],
}

fn index(environment: Environment) -> usize {
    match environment {
        Environment::Dev => 0,
        Environment::Staging => 1,
        Environment::Prod => 2,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EnvironmentHealth<'a> {
    environment: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    verified: Option<&'a Verified>,
    #[serde(skip_serializing_if = "Option::is_none")]
    refused: Option<RefusedHealth<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefusedHealth<'a> {
    reason: &'a str,
    seconds_ago: u64,
}

impl SignatureLog {
    pub fn verified(&mut self, environment: Environment, verified: Verified) {
        self.slots[index(environment)].0 = Some(verified);
    }

    pub fn refused(&mut self, environment: Environment, reason: String, now_ms: u64) {
        self.slots[index(environment)].1 = Some(Refused {
            reason,
            at_ms: now_ms,
        });
    }

    /// `body` (the health JSON object) with `"signatures": [...]` added, one entry per
    /// environment that verified or refused a signature; `body` as it is when none did.
    pub fn add_to_health(&self, body: String, now_ms: u64) -> String {
        let entries: Vec<EnvironmentHealth<'_>> = Environment::ALL
            .into_iter()
            .zip(&self.slots)
            .filter(|(_, (verified, refused))| verified.is_some() || refused.is_some())
            .map(|(environment, (verified, refused))| EnvironmentHealth {
                environment: environment.as_str(),
                verified: verified.as_ref(),
                refused: refused.as_ref().map(|r| RefusedHealth {
                    reason: &r.reason,
                    seconds_ago: now_ms.saturating_sub(r.at_ms) / 1000,
                }),
            })
            .collect();
        if entries.is_empty() {
            return body;
        }
        let (Some(open), Ok(json)) = (body.strip_suffix('}'), serde_json::to_string(&entries))
        else {
            return body;
        };
        format!("{open},\"signatures\":{json}}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    const NOW: u64 = 1_764_200_000_000;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn public(seed: u8) -> String {
        signature::Base64Url(key(seed).verifying_key().as_bytes()).to_string()
    }

    /// A header as the origin writes it, signed by `seed`'s key, naming `kid`'s.
    fn header(seed: u8, kid: u8, env: &str, version: u64, expires: u64, body: &[u8]) -> String {
        let preamble = signature::preamble(env, version, NOW - 1_000, expires);
        let message = [preamble.as_bytes(), body].concat();
        Signature {
            key_id: &key_id(key(kid).verifying_key().as_bytes()),
            environment: env,
            version,
            issued_ms: NOW - 1_000,
            expires_ms: expires,
            signature: key(seed).sign(&message).to_bytes(),
        }
        .to_string()
    }

    fn keys(list: &str) -> PublicKeys {
        PublicKeys::parse(list).expect("parses").expect("some")
    }

    const BODY: &[u8] = br#"{"environment":"prod","revision":5,"flags":[]}"#;
    const PROD: Environment = Environment::Prod;

    #[test]
    fn public_keys_read_as_base64url_base64_or_hex() {
        assert_eq!(PublicKeys::parse(" , ").expect("blank"), None);
        let a = public(1);
        let hex: String = key(2)
            .verifying_key()
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let both = keys(&format!(" {a} ,{hex}"));
        assert_eq!(both.0.len(), 2);
        assert_eq!(both.ids()[0], key_id(key(1).verifying_key().as_bytes()));
        let standard = a.replace('-', "+").replace('_', "/") + "=";
        assert_eq!(keys(&standard), keys(&a));
        let err = PublicKeys::parse(&format!("{a},nope")).expect_err("refused");
        assert!(
            err.starts_with("SNAPSHOT_PUBLIC_KEYS: key 2 is not"),
            "{err}"
        );
    }

    #[test]
    fn a_good_signature_verifies_with_either_key_of_a_rotation() {
        let h = header(1, 1, "prod", 5, NOW + 60_000, BODY);
        let accepted = keys(&format!("{},{}", public(9), public(1)));
        let verified = verify(&accepted, Some(&h), BODY, PROD, Some(5), NOW).expect("verifies");
        assert_eq!(verified.version, 5);
        assert_eq!(verified.key_id, key_id(key(1).verifying_key().as_bytes()));
        assert_eq!(check_revision(&verified, 5), Ok(()));
        assert_eq!(
            check_revision(&verified, 6),
            Err("version mismatch: signed version 5, the body's revision is 6".into())
        );
    }

    #[test]
    fn each_refusal_says_why() {
        let accepted = keys(&public(1));
        let good = header(1, 1, "prod", 5, NOW + 60_000, BODY);
        let tampered = br#"{"environment":"prod","revision":5,"flags":[ ]}"#;
        /// The header, the body, the version held, the start of the refusal's text.
        type Case<'a> = (Option<String>, &'a [u8], Option<u64>, &'a str);
        let cases: [Case<'_>; 8] = [
            (
                None,
                BODY,
                None,
                "unsigned snapshot: no pennon-signature header",
            ),
            (
                Some("v1; key=x".into()),
                BODY,
                None,
                "malformed signature: the signature header's key is invalid",
            ),
            (
                Some(header(2, 2, "prod", 5, NOW + 60_000, BODY)),
                BODY,
                None,
                "unknown key: ",
            ),
            (Some(good.clone()), tampered, None, "bad signature: "),
            // Another key's signature under the accepted key's id.
            (
                Some(header(2, 1, "prod", 5, NOW + 60_000, BODY)),
                BODY,
                None,
                "bad signature: ",
            ),
            (
                Some(header(1, 1, "dev", 5, NOW + 60_000, BODY)),
                BODY,
                None,
                "other environment: signed for dev, expected prod",
            ),
            (
                Some(good.clone()),
                BODY,
                Some(6),
                "lower version: signed version 5 is below version 6 already held",
            ),
            (
                Some(header(1, 1, "prod", 5, NOW - 1, BODY)),
                BODY,
                None,
                "expired: the signature expired at",
            ),
        ];
        for (h, body, held, expected) in cases {
            let err = verify(&accepted, h.as_deref(), body, PROD, held, NOW).expect_err(expected);
            assert!(err.starts_with(expected), "{err} / {expected}");
        }
    }

    #[test]
    fn health_lists_what_was_verified_and_refused() {
        let mut log = SignatureLog::default();
        let body = r#"{"status":"ok"}"#.to_owned();
        assert_eq!(log.add_to_health(body.clone(), NOW), body);
        log.verified(
            PROD,
            Verified {
                key_id: "0123456789abcdef".into(),
                version: 5,
                expires_at: NOW + 1,
            },
        );
        log.refused(PROD, "expired: …".into(), NOW - 3_000);
        log.refused(Environment::Dev, "unsigned snapshot".into(), NOW);
        let shown = log.add_to_health(body, NOW);
        let value: serde_json::Value = serde_json::from_str(&shown).expect("JSON");
        assert_eq!(value["status"], "ok");
        assert_eq!(value["signatures"][0]["environment"], "dev");
        assert_eq!(
            value["signatures"][0]["refused"]["reason"],
            "unsigned snapshot"
        );
        assert!(value["signatures"][0].get("verified").is_none());
        assert_eq!(value["signatures"][1]["verified"]["version"], 5);
        assert_eq!(
            value["signatures"][1]["verified"]["keyId"],
            "0123456789abcdef"
        );
        assert_eq!(value["signatures"][1]["refused"]["secondsAgo"], 3);
    }
}
