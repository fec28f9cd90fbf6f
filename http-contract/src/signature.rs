//! Signed snapshots: the `Pennon-Signature` header, the exact bytes its Ed25519 signature covers,
//! and the checks a verifier makes besides the signature (environment, version, expiry). Pure and
//! allocation-free: the origin signs with it, the edge worker verifies with it, and the npm
//! package (`evaluator-wasm/npm/signature.js`) implements the same layout in JavaScript. The format
//! is documented in `docs/signing.md`.
//!
//! # The header
//!
//! ```text
//! Pennon-Signature: v1; key=<key id>; env=<environment>; version=<revision>;
//!                   issued=<ms since the epoch>; expires=<ms>; sig=<base64url, no padding>
//! ```
//!
//! (one line). `key` is the first 8 bytes of SHA-256 over the 32-byte public key, in lowercase hex;
//! parameters may come in any order, each exactly once; unknown ones are ignored.
//!
//! # The signed message
//!
//! ```text
//! pennon-snapshot-v1 LF <environment> LF <version> LF <issued> LF <expires> LF <body bytes>
//! ```
//!
//! numbers in decimal ASCII without leading zeros, LF the byte 0x0A, the body exactly the bytes
//! of the `200` answer. The first line separates this message from anything else the key could
//! sign.

use core::fmt;

/// The response header that carries the signature (lowercase, as both servers' header maps want).
pub const HEADER: &str = "pennon-signature";

/// The first line of every signed message (domain separation), without its LF.
pub const DOMAIN: &str = "pennon-snapshot-v1";

/// The header's format version, its first item.
pub const VERSION: &str = "v1";

/// Characters of a key id: 8 bytes in lowercase hex.
pub const KEY_ID_LEN: usize = 16;

/// The longest environment name a header may carry.
const MAX_ENVIRONMENT_LEN: usize = 32;

/// The fields of one signature, read from or written into a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature<'a> {
    /// Which public key verifies it: [`KEY_ID_LEN`] lowercase hex characters.
    pub key_id: &'a str,
    /// The environment of the snapshot (`dev`, `staging`, `prod`).
    pub environment: &'a str,
    /// The snapshot's revision.
    pub version: u64,
    /// When the origin signed, in milliseconds since the Unix epoch.
    pub issued_ms: u64,
    /// After this instant (milliseconds since the Unix epoch) the signature no longer installs.
    pub expires_ms: u64,
    /// The Ed25519 signature over [`Signature::preamble`] followed by the body.
    pub signature: [u8; 64],
}

/// Why a header cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Malformed {
    /// The first item is not `v1`.
    Version,
    /// An item is not `name=value`, or a parameter is given twice.
    Syntax,
    /// A required parameter is missing: its name.
    Missing(&'static str),
    /// A parameter's value is not of its form: its name.
    Invalid(&'static str),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Version => write!(f, "the signature header is not {VERSION}"),
            Malformed::Syntax => f.write_str(
                "the signature header is malformed (items `name=value` separated by `;`, each once)",
            ),
            Malformed::Missing(name) => write!(f, "the signature header has no {name}"),
            Malformed::Invalid(name) => write!(f, "the signature header's {name} is invalid"),
        }
    }
}

/// Why a verifier refuses a snapshot. The texts are the ones the edge worker reports and the npm
/// package throws (`docs/signing.md` lists them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal<'a> {
    /// Keys are configured and the answer carries no signature.
    Unsigned,
    /// The header cannot be read.
    Malformed(Malformed),
    /// No configured key has this id.
    UnknownKey(&'a str),
    /// The signature does not verify over these bytes with that key.
    BadSignature,
    /// The signature is for another environment than the one asked for.
    OtherEnvironment {
        /// The one asked for.
        expected: &'a str,
        /// The one signed.
        signed: &'a str,
    },
    /// The version is lower than the one held (a replay or a rollback).
    LowerVersion {
        /// The version signed.
        signed: u64,
        /// The version held.
        held: u64,
    },
    /// The signature expired.
    Expired {
        /// When it expired, ms since the epoch.
        expires_ms: u64,
        /// The verifier's now, ms since the epoch.
        now_ms: u64,
    },
    /// The body's revision is not the version signed.
    VersionMismatch {
        /// The version signed.
        signed: u64,
        /// The revision in the body.
        body: u64,
    },
}

impl fmt::Display for Refusal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Unsigned => write!(f, "unsigned snapshot: no {HEADER} header"),
            Refusal::Malformed(why) => write!(f, "malformed signature: {why}"),
            Refusal::UnknownKey(id) => write!(f, "unknown key: {id} is not a configured key"),
            Refusal::BadSignature => f.write_str(
                "bad signature: it does not verify over the body with its key (tampered or truncated)",
            ),
            Refusal::OtherEnvironment { expected, signed } => {
                write!(f, "other environment: signed for {signed}, expected {expected}")
            }
            Refusal::LowerVersion { signed, held } => write!(
                f,
                "lower version: signed version {signed} is below version {held} already held"
            ),
            Refusal::Expired { expires_ms, now_ms } => write!(
                f,
                "expired: the signature expired at {expires_ms} (now {now_ms}, ms since the epoch)"
            ),
            Refusal::VersionMismatch { signed, body } => write!(
                f,
                "version mismatch: signed version {signed}, the body's revision is {body}"
            ),
        }
    }
}

/// The bytes signed before the body, at most 128 (so no allocation is needed to build them).
#[derive(Clone)]
pub struct Preamble {
    bytes: [u8; 128],
    len: usize,
}

impl Preamble {
    /// The preamble's bytes; the signed message is these followed by the body.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    fn push(&mut self, part: &[u8]) {
        // The parts are bounded (domain, an environment of at most 32 bytes, three u64 in decimal,
        // five LFs: 19 + 33 + 3 × 21 < 128); an overlong part is cut rather than overflowing, and
        // then verifies nothing.
        let end = (self.len + part.len()).min(self.bytes.len());
        let n = end - self.len;
        self.bytes[self.len..end].copy_from_slice(&part[..n]);
        self.len = end;
    }

    fn push_u64(&mut self, mut value: u64) {
        let mut digits = [0u8; 20];
        let mut at = digits.len();
        loop {
            at -= 1;
            digits[at] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        self.push(&digits[at..]);
    }
}

impl fmt::Debug for Preamble {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Preamble")
            .field(&core::str::from_utf8(self.as_bytes()))
            .finish()
    }
}

/// The bytes signed before the body: `DOMAIN LF environment LF version LF issued LF expires LF`.
pub fn preamble(environment: &str, version: u64, issued_ms: u64, expires_ms: u64) -> Preamble {
    let mut p = Preamble {
        bytes: [0; 128],
        len: 0,
    };
    p.push(DOMAIN.as_bytes());
    p.push(b"\n");
    p.push(environment.as_bytes());
    p.push(b"\n");
    p.push_u64(version);
    p.push(b"\n");
    p.push_u64(issued_ms);
    p.push(b"\n");
    p.push_u64(expires_ms);
    p.push(b"\n");
    p
}

impl<'a> Signature<'a> {
    /// Reads a header value.
    pub fn parse(header: &'a str) -> Result<Self, Malformed> {
        let mut items = header.split(';').map(str::trim);
        if items.next() != Some(VERSION) {
            return Err(Malformed::Version);
        }
        let mut key_id = None;
        let mut environment = None;
        let mut version = None;
        let mut issued = None;
        let mut expires = None;
        let mut sig = None;
        for item in items {
            let (name, value) = item.split_once('=').ok_or(Malformed::Syntax)?;
            let slot = match name.trim() {
                "key" => &mut key_id,
                "env" => &mut environment,
                "version" => &mut version,
                "issued" => &mut issued,
                "expires" => &mut expires,
                "sig" => &mut sig,
                _ => continue,
            };
            if slot.replace(value.trim()).is_some() {
                return Err(Malformed::Syntax);
            }
        }
        let key_id = key_id.ok_or(Malformed::Missing("key"))?;
        if key_id.len() != KEY_ID_LEN
            || !key_id
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(Malformed::Invalid("key"));
        }
        let environment = environment.ok_or(Malformed::Missing("env"))?;
        if environment.is_empty()
            || environment.len() > MAX_ENVIRONMENT_LEN
            || !environment
                .bytes()
                .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
        {
            return Err(Malformed::Invalid("env"));
        }
        let number = |value: Option<&str>, name: &'static str| {
            let value = value.ok_or(Malformed::Missing(name))?;
            parse_decimal(value).ok_or(Malformed::Invalid(name))
        };
        let version = number(version, "version")?;
        let issued_ms = number(issued, "issued")?;
        let expires_ms = number(expires, "expires")?;
        if expires_ms < issued_ms {
            return Err(Malformed::Invalid("expires"));
        }
        let sig = sig.ok_or(Malformed::Missing("sig"))?;
        let mut signature = [0u8; 64];
        if base64url_decode(sig, &mut signature) != Some(64) {
            return Err(Malformed::Invalid("sig"));
        }
        Ok(Signature {
            key_id,
            environment,
            version,
            issued_ms,
            expires_ms,
            signature,
        })
    }

    /// The bytes signed before the body.
    pub fn preamble(&self) -> Preamble {
        preamble(
            self.environment,
            self.version,
            self.issued_ms,
            self.expires_ms,
        )
    }

    /// Everything but the signature itself: the environment asked for, the version already held
    /// (none on a cold start) and the verifier's clock. A version equal to the one held passes (the
    /// same snapshot again); expiry is inclusive of `expires_ms`.
    pub fn check<'b>(
        &'b self,
        expected_environment: &'b str,
        held_version: Option<u64>,
        now_ms: u64,
    ) -> Result<(), Refusal<'b>> {
        if self.environment != expected_environment {
            return Err(Refusal::OtherEnvironment {
                expected: expected_environment,
                signed: self.environment,
            });
        }
        if let Some(held) = held_version {
            if self.version < held {
                return Err(Refusal::LowerVersion {
                    signed: self.version,
                    held,
                });
            }
        }
        if now_ms > self.expires_ms {
            return Err(Refusal::Expired {
                expires_ms: self.expires_ms,
                now_ms,
            });
        }
        Ok(())
    }
}

/// The header value (`Display`): the parameters in the documented order.
impl fmt::Display for Signature<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{VERSION}; key={}; env={}; version={}; issued={}; expires={}; sig=",
            self.key_id, self.environment, self.version, self.issued_ms, self.expires_ms
        )?;
        base64url_write(f, &self.signature)
    }
}

/// Decimal digits only, no sign, no leading zero (but "0"), within u64.
fn parse_decimal(value: &str) -> Option<u64> {
    let leading_zero = value.len() > 1 && value.starts_with('0');
    if value.is_empty() || leading_zero || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Writes `bytes` in base64url without padding (RFC 4648 §5).
pub fn base64url_write(out: &mut impl fmt::Write, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            let index = ((n >> (18 - 6 * i)) & 63) as usize;
            out.write_char(char::from(ALPHABET[index]))?;
        }
    }
    Ok(())
}

/// A display adapter for [`base64url_write`].
#[derive(Debug, Clone, Copy)]
pub struct Base64Url<'a>(pub &'a [u8]);

impl fmt::Display for Base64Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        base64url_write(f, self.0)
    }
}

/// Decodes base64 into `out`, returning the number of bytes written, or None when `text` is not
/// base64 or does not fit. Both alphabets (`+/` and `-_`) are read, with or without `=` padding;
/// bits left over in the last character must be zero (one text per value).
pub fn base64url_decode(text: &str, out: &mut [u8]) -> Option<usize> {
    let text = text.trim_end_matches('=');
    if text.len() % 4 == 1 {
        return None;
    }
    let mut written = 0;
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            *out.get_mut(written)? = (acc >> bits) as u8;
            written += 1;
            acc &= (1 << bits) - 1;
        }
    }
    if acc != 0 {
        return None;
    }
    Some(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIG: [u8; 64] = [7; 64];

    fn sample() -> Signature<'static> {
        Signature {
            key_id: "0123456789abcdef",
            environment: "prod",
            version: 12,
            issued_ms: 1_764_200_000_000,
            expires_ms: 1_764_286_400_000,
            signature: SIG,
        }
    }

    #[test]
    fn the_preamble_is_the_documented_layout() {
        let p = preamble("prod", 12, 1_764_200_000_000, 1_764_286_400_000);
        assert_eq!(
            p.as_bytes(),
            b"pennon-snapshot-v1\nprod\n12\n1764200000000\n1764286400000\n"
        );
        assert_eq!(
            preamble("dev", 0, 0, u64::MAX).as_bytes(),
            b"pennon-snapshot-v1\ndev\n0\n0\n18446744073709551615\n"
        );
        assert_eq!(sample().preamble().as_bytes(), p.as_bytes());
    }

    #[test]
    fn the_header_round_trips() {
        let text = sample().to_string();
        assert!(
            text.starts_with(
                "v1; key=0123456789abcdef; env=prod; version=12; issued=1764200000000; \
                 expires=1764286400000; sig=BwcH"
            ),
            "{text}"
        );
        assert_eq!(Signature::parse(&text), Ok(sample()));
        // Any order, extra spaces, unknown parameters ignored.
        let sig = Base64Url(&SIG).to_string();
        let shuffled = format!(
            " v1 ;sig={sig};expires=1764286400000; future=x ;issued=1764200000000;version=12;env=prod;key=0123456789abcdef"
        );
        assert_eq!(Signature::parse(&shuffled), Ok(sample()));
    }

    #[test]
    fn malformed_headers_say_what_is_wrong() {
        let good = sample().to_string();
        let cases: [(String, Malformed); 10] = [
            (String::new(), Malformed::Version),
            (good.replace("v1;", "v2;"), Malformed::Version),
            (format!("{good}; key=0123456789abcdef"), Malformed::Syntax),
            (good.replace("; env=prod", "; env"), Malformed::Syntax),
            (good.replace("; env=prod", ""), Malformed::Missing("env")),
            (
                good.replace("key=0123456789abcdef", "key=ABC"),
                Malformed::Invalid("key"),
            ),
            (
                good.replace("version=12", "version=012"),
                Malformed::Invalid("version"),
            ),
            (
                good.replace("version=12", "version=-1"),
                Malformed::Invalid("version"),
            ),
            (
                good.replace("expires=1764286400000", "expires=1"),
                Malformed::Invalid("expires"),
            ),
            (
                good.replace("sig=BwcH", "sig=Bw"),
                Malformed::Invalid("sig"),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(Signature::parse(&header), Err(expected), "{header}");
        }
        assert_eq!(
            Malformed::Missing("sig").to_string(),
            "the signature header has no sig"
        );
    }

    #[test]
    fn checks_environment_version_and_expiry() {
        let s = sample();
        let now = s.issued_ms + 1;
        assert_eq!(s.check("prod", None, now), Ok(()));
        assert_eq!(s.check("prod", Some(12), now), Ok(()));
        assert_eq!(s.check("prod", Some(11), s.expires_ms), Ok(()));
        assert_eq!(
            s.check("dev", None, now),
            Err(Refusal::OtherEnvironment {
                expected: "dev",
                signed: "prod"
            })
        );
        assert_eq!(
            s.check("prod", Some(13), now),
            Err(Refusal::LowerVersion {
                signed: 12,
                held: 13
            })
        );
        let late = s.expires_ms + 1;
        assert_eq!(
            s.check("prod", None, late),
            Err(Refusal::Expired {
                expires_ms: s.expires_ms,
                now_ms: late
            })
        );
        assert_eq!(
            Refusal::LowerVersion { signed: 3, held: 4 }.to_string(),
            "lower version: signed version 3 is below version 4 already held"
        );
    }

    #[test]
    fn base64_matches_rfc_4648() {
        // RFC 4648 §10's vectors, without padding.
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(Base64Url(plain.as_bytes()).to_string(), encoded);
            let mut out = [0u8; 8];
            let n = base64url_decode(encoded, &mut out).expect("decodes");
            assert_eq!(&out[..n], plain.as_bytes());
            let padded = format!("{encoded}{}", "=".repeat((4 - encoded.len() % 4) % 4));
            assert_eq!(base64url_decode(&padded, &mut out), Some(n));
        }
        let mut out = [0u8; 3];
        assert_eq!(base64url_decode("-_-_", &mut out), Some(3));
        assert_eq!(base64url_decode("+/+/", &mut [0u8; 3]), Some(3));
        assert_eq!(out, [0xfb, 0xff, 0xbf]);
        assert_eq!(
            base64url_decode("Zh", &mut out),
            None,
            "non-zero spare bits"
        );
        assert_eq!(base64url_decode("Z", &mut out), None);
        assert_eq!(base64url_decode("Zm9v!", &mut out), None);
        assert_eq!(base64url_decode("Zm9vYmFy", &mut out), None, "too long");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            /// Any text is read or refused, never a panic; what is read writes back to a header
            /// that reads the same.
            #[test]
            fn any_header_is_read_or_refused(text in ".{0,300}") {
                if let Ok(parsed) = Signature::parse(&text) {
                    let written = parsed.to_string();
                    prop_assert_eq!(Signature::parse(&written), Ok(parsed));
                }
            }

            /// Every header written reads back field for field.
            #[test]
            fn written_headers_read_back(
                key in "[0-9a-f]{16}",
                env in "[a-z0-9_-]{1,32}",
                version: u64,
                issued: u64,
                ttl: u64,
                sig in proptest::array::uniform32(any::<u8>()),
            ) {
                let mut signature = [0u8; 64];
                signature[..32].copy_from_slice(&sig);
                signature[32..].copy_from_slice(&sig);
                let s = Signature {
                    key_id: &key,
                    environment: &env,
                    version,
                    issued_ms: issued,
                    expires_ms: issued.saturating_add(ttl),
                    signature,
                };
                let text = s.to_string();
                prop_assert_eq!(Signature::parse(&text), Ok(s.clone()));
                let p = s.preamble();
                prop_assert!(p.as_bytes().ends_with(b"\n"));
                prop_assert_eq!(p.as_bytes().iter().filter(|b| **b == b'\n').count(), 5);
            }

            /// base64url round-trips any bytes; decoding any text never panics.
            #[test]
            fn base64url_round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..100), text in ".{0,200}") {
                let encoded = Base64Url(&bytes).to_string();
                let mut out = [0u8; 100];
                let n = base64url_decode(&encoded, &mut out);
                prop_assert_eq!(n, Some(bytes.len()));
                prop_assert_eq!(&out[..bytes.len()], &bytes[..]);
                let _ = base64url_decode(&text, &mut out);
            }
        }
    }
}
