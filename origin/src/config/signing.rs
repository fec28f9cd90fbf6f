//! `SNAPSHOT_SIGNING_KEY`, `SNAPSHOT_SIGNATURE_TTL_SECONDS`: the Ed25519 key that signs snapshots
//! (`crate::signing`) and how long a signature installs.

use std::fmt;
use std::time::Duration;

use super::ConfigError;

/// `SNAPSHOT_SIGNATURE_TTL_SECONDS` when unset: a day. A verifier refuses an expired signature
/// only when it installs a snapshot (a snapshot already held keeps serving), so the lifetime bounds
/// how long a captured old answer can be replayed to a verifier that holds nothing yet (a cold
/// isolate, a page that just loaded), and how long a stored copy (a cache, the edge's hub) stays
/// installable while the origin cannot sign a new one. A day survives a long origin outage and a
/// clock skew of hours while keeping the replay window to one day; revalidations renew it.
pub const DEFAULT_SIGNATURE_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// The longest lifetime accepted: 30 days.
const MAX_SIGNATURE_TTL_SECONDS: u64 = 30 * 24 * 60 * 60;

/// The 32-byte Ed25519 seed (RFC 8032's secret key); `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSeed([u8; 32]);

impl SigningSeed {
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// A seed from its bytes (tests, and callers that read the key elsewhere).
    pub fn new(seed: [u8; 32]) -> Self {
        Self(seed)
    }

    /// 64 hexadecimal digits, or the 32 bytes in base64 (standard or URL alphabet, padding
    /// optional: a JWK's `d`, or `openssl genpkey -algorithm ed25519 -outform DER | tail -c 32 |
    /// base64`).
    fn parse(raw: &str) -> Option<Self> {
        let text = raw.trim();
        let mut seed = [0u8; 32];
        if text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            for (i, byte) in seed.iter_mut().enumerate() {
                *byte = u8::from_str_radix(text.get(2 * i..2 * i + 2)?, 16).ok()?;
            }
            return Some(Self(seed));
        }
        match http_contract::signature::base64url_decode(text, &mut seed) {
            Some(32) => Some(Self(seed)),
            _ => None,
        }
    }
}

impl fmt::Debug for SigningSeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSeed(***)")
    }
}

/// Signing of `GET /api/flags/snapshot`: on when a key is configured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signing {
    pub seed: SigningSeed,
    /// How long after signing a signature still installs.
    pub ttl: Duration,
}

/// `None` when `SNAPSHOT_SIGNING_KEY` is unset: snapshots go unsigned (the default).
pub(super) fn read(get: impl Fn(&str) -> Option<String>) -> Result<Option<Signing>, ConfigError> {
    let ttl = match get("SNAPSHOT_SIGNATURE_TTL_SECONDS") {
        Some(s) => match s.trim().parse::<u64>() {
            Ok(n) if (1..=MAX_SIGNATURE_TTL_SECONDS).contains(&n) => Duration::from_secs(n),
            _ => {
                return Err(ConfigError::new(
                    "SNAPSHOT_SIGNATURE_TTL_SECONDS",
                    format!(
                        "must be a whole number of seconds from 1 to {MAX_SIGNATURE_TTL_SECONDS}"
                    ),
                ))
            }
        },
        None => DEFAULT_SIGNATURE_TTL,
    };
    let Some(raw) = get("SNAPSHOT_SIGNING_KEY") else {
        return Ok(None);
    };
    let seed = SigningSeed::parse(&raw).ok_or_else(|| {
        ConfigError::new(
            "SNAPSHOT_SIGNING_KEY",
            "must be a 32-byte Ed25519 seed: 64 hex digits or base64 (docs/signing.md)",
        )
    })?;
    Ok(Some(Signing { seed, ttl }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signing(vars: &[(&str, &str)]) -> Result<Option<Signing>, ConfigError> {
        read(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    const HEX: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";

    #[test]
    fn unset_is_unsigned() {
        assert_eq!(signing(&[]).unwrap(), None);
        assert_eq!(
            signing(&[("SNAPSHOT_SIGNATURE_TTL_SECONDS", "60")]).unwrap(),
            None
        );
    }

    #[test]
    fn the_seed_reads_as_hex_or_base64() {
        let from_hex = signing(&[("SNAPSHOT_SIGNING_KEY", HEX)]).unwrap().unwrap();
        assert_eq!(from_hex.seed.expose()[..2], [0x9d, 0x61]);
        assert_eq!(from_hex.ttl, DEFAULT_SIGNATURE_TTL);
        for b64 in [
            "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=",
            "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
        ] {
            let s = signing(&[
                ("SNAPSHOT_SIGNING_KEY", b64),
                ("SNAPSHOT_SIGNATURE_TTL_SECONDS", "3600"),
            ])
            .unwrap()
            .unwrap();
            assert_eq!(s.seed, from_hex.seed);
            assert_eq!(s.ttl, Duration::from_secs(3600));
        }
    }

    #[test]
    fn bad_values_name_the_variable_and_never_print_the_key() {
        for bad in [
            "abc",
            &HEX[..62],
            "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2",
        ] {
            let err = signing(&[("SNAPSHOT_SIGNING_KEY", bad)]).unwrap_err();
            assert_eq!(err.variable, "SNAPSHOT_SIGNING_KEY");
            assert!(!err.to_string().contains(bad), "{err}");
        }
        for bad in ["0", "x", "2592001"] {
            let err = signing(&[("SNAPSHOT_SIGNATURE_TTL_SECONDS", bad)]).unwrap_err();
            assert_eq!(err.variable, "SNAPSHOT_SIGNATURE_TTL_SECONDS");
        }
        let s = signing(&[("SNAPSHOT_SIGNING_KEY", HEX)]).unwrap();
        assert!(!format!("{s:?}").contains("9d61"));
    }
}
