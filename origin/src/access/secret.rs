//! The secret of a stored token: made here, shown once, kept only as its SHA-256.
//!
//! A secret is 32 random bytes from the OS, so guessing one is hopeless whatever the hash; a slow
//! password hash (argon2, bcrypt) protects low-entropy secrets that can be enumerated and would
//! only cost every request time here. SHA-256 makes a leaked table of hashes useless (no preimage)
//! and lets a presented token be found by its hash in one lookup, without comparing secrets.

use std::fmt;

use sha2::{Digest, Sha256};

/// Every stored token's secret starts with it, so secret scanners and people can recognise one.
pub const SECRET_PREFIX: &str = "pennon_";

/// Random bytes in a secret.
const SECRET_BYTES: usize = 32;

/// A newly made secret: `pennon_` and 64 lowercase hex digits. Never printed by `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenSecret(String);

/// What the store keeps of a secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretHash(pub [u8; 32]);

impl TokenSecret {
    /// From the OS's generator (`rand`'s `OsRng`): a token outlives any process-local state.
    pub fn generate() -> Self {
        use rand::RngCore as _;
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let mut text = String::with_capacity(SECRET_PREFIX.len() + 2 * SECRET_BYTES);
        text.push_str(SECRET_PREFIX);
        for byte in bytes {
            text.push(char::from(HEX[usize::from(byte >> 4)]));
            text.push(char::from(HEX[usize::from(byte & 15)]));
        }
        Self(text)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn hash(&self) -> SecretHash {
        SecretHash::of(self.0.as_bytes())
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl SecretHash {
    pub fn of(presented: &[u8]) -> Self {
        Self(Sha256::digest(presented).into())
    }

    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(***)")
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_hex_and_hash_as_sha256() {
        let a = TokenSecret::generate();
        let b = TokenSecret::generate();
        assert_ne!(a, b);
        let hex = a.expose().strip_prefix(SECRET_PREFIX).unwrap();
        assert_eq!(hex.len(), 64);
        assert!(hex.bytes().all(|c| HEX.contains(&c)));
        assert_eq!(a.hash(), SecretHash::of(a.expose().as_bytes()));
        assert!(!format!("{a:?}").contains(hex));
        // SHA-256("abc"), FIPS 180-2.
        assert_eq!(SecretHash::of(b"abc").0[..4], [0xba, 0x78, 0x16, 0xbf],);
    }
}
