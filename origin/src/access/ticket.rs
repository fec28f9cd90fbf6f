//! Stream tickets: a short-lived credential for `GET /api/stream?ticket=`, for browsers, whose
//! `EventSource` cannot send a header. Pure: made and checked from values, no clock, no table.
//!
//! `<token id>.<environment>.<expiry, unix seconds>.<HMAC-SHA256, 64 lowercase hex>`, the MAC over
//! everything before its dot, keyed by the SHA-256 of the token's secret ([`SecretHash`], what every
//! origin's token table holds). So any origin can check a ticket another one issued, nothing new is
//! stored or shared, a revoked token's tickets fail with it (its table entry says revoked), and a
//! ticket in a log or a browser history is worth at most its few minutes, for that one environment,
//! and only for the stream, which says nothing but "the revision moved".
//!
//! Expiries are whole windows ([`TICKET_WINDOW_SECONDS`]): a ticket issued at `t` expires at the
//! end of the window after `t`'s, so it lives 5 to 10 minutes, and every ticket issued for a token
//! and environment within one window is the same string. The OFREP bulk answer carries one, and
//! its `ETag` names the window ([`window`]): a `304` therefore only ever confirms a ticket that has
//! at least five minutes left, and a client that revalidates gets a fresh one in time.

use evaluator::Environment;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use uuid::Uuid;

use super::{SecretHash, TokenId};

/// Tickets are issued per window of this many seconds, and live to the end of the next one.
pub const TICKET_WINDOW_SECONDS: u64 = 300;

/// Length of the MAC in hex.
const MAC_HEX: usize = 64;

/// The parts of a ticket, read but not yet checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub token: TokenId,
    pub environment: Environment,
    /// Unix seconds after which it is refused.
    pub expires: u64,
    mac: [u8; 32],
}

/// Why a ticket is refused. Every case answers 401 with the same words (`invalid ticket` or
/// `expired ticket`): a forger learns nothing from the message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TicketError {
    #[error("invalid ticket")]
    Malformed,
    #[error("invalid ticket")]
    BadMac,
    #[error("expired ticket")]
    Expired,
}

/// The window `now` (unix seconds) falls in.
pub fn window(now: u64) -> u64 {
    now / TICKET_WINDOW_SECONDS
}

/// The expiry of a ticket issued at `now`: the end of the next window.
pub fn expiry(now: u64) -> u64 {
    window(now)
        .saturating_add(2)
        .saturating_mul(TICKET_WINDOW_SECONDS)
}

/// What the MAC covers: `<token id>.<environment>.<expiry>`.
fn signed_part(token: TokenId, environment: Environment, expires: u64) -> String {
    format!("{token}.{}.{expires}", environment.as_str())
}

fn mac(key: &SecretHash, message: &str) -> Hmac<Sha256> {
    // HMAC takes a key of any length; a 32-byte one is never refused.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&key.0).unwrap_or_else(|_| unreachable_key_length());
    mac.update(message.as_bytes());
    mac
}

#[cold]
fn unreachable_key_length() -> Hmac<Sha256> {
    // `new_from_slice` fails only for fixed-size-key MACs; HMAC has none. Keyed by nothing rather
    // than panicking: such a MAC matches no ticket made with a real key.
    <Hmac<Sha256> as hmac::digest::KeyInit>::new(&Default::default())
}

/// The ticket for `token` (whose secret hashes to `key`) in `environment`, expiring at `expires`.
pub fn issue(key: &SecretHash, token: TokenId, environment: Environment, expires: u64) -> String {
    let signed = signed_part(token, environment, expires);
    let tag = mac(key, &signed).finalize().into_bytes();
    let mut out = String::with_capacity(signed.len() + 1 + MAC_HEX);
    out.push_str(&signed);
    out.push('.');
    for byte in tag {
        out.push(char::from(HEX[usize::from(byte >> 4)]));
        out.push(char::from(HEX[usize::from(byte & 15)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn token_id(text: &str) -> Option<TokenId> {
    match text {
        "ADMIN_TOKEN" => Some(TokenId::AdminToken),
        "EDGE_TOKEN" => Some(TokenId::EdgeToken),
        // Only the hyphenated lowercase form the issuer writes: one ticket, one spelling.
        _ if text.len() == 36 => Uuid::parse_str(text)
            .ok()
            .filter(|id| id.hyphenated().to_string() == text)
            .map(TokenId::Stored),
        _ => None,
    }
}

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    match pair {
        [high, low] => Some(digit(*high)? << 4 | digit(*low)?),
        _ => None,
    }
}

impl Ticket {
    /// Reads a ticket's parts; any text is answered, never a panic.
    pub fn parse(text: &str) -> Result<Self, TicketError> {
        // Bounded before anything is split: a valid ticket is under 150 bytes.
        if text.len() > 200 {
            return Err(TicketError::Malformed);
        }
        let mut parts = text.split('.');
        let (Some(token), Some(environment), Some(expires), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TicketError::Malformed);
        };
        let token = token_id(token).ok_or(TicketError::Malformed)?;
        let environment = Environment::parse(environment).map_err(|_| TicketError::Malformed)?;
        if expires.is_empty() || expires.len() > 20 || !expires.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(TicketError::Malformed);
        }
        let expires = expires.parse().map_err(|_| TicketError::Malformed)?;
        if mac.len() != MAC_HEX {
            return Err(TicketError::Malformed);
        }
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(mac.as_bytes().chunks(2)) {
            *byte = hex_byte(pair).ok_or(TicketError::Malformed)?;
        }
        Ok(Self {
            token,
            environment,
            expires,
            mac: bytes,
        })
    }

    /// Whether it was made with `key` and is still valid at `now`. The MAC is compared in constant
    /// time, and before the expiry, so that a forged ticket is never told it merely expired.
    pub fn check(&self, key: &SecretHash, now: u64) -> Result<(), TicketError> {
        let signed = signed_part(self.token, self.environment, self.expires);
        mac(key, &signed)
            .verify_slice(&self.mac)
            .map_err(|_| TicketError::BadMac)?;
        if now >= self.expires {
            return Err(TicketError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_780_000_123;

    fn key(secret: &str) -> SecretHash {
        SecretHash::of(secret.as_bytes())
    }

    #[test]
    fn a_ticket_reads_back_and_checks_with_its_key_until_it_expires() {
        let id = TokenId::Stored(Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef));
        let expires = expiry(NOW);
        let text = issue(&key("pennon_a"), id, Environment::Staging, expires);
        assert!(text.starts_with("01234567-89ab-cdef-0123-456789abcdef.staging."));
        let ticket = Ticket::parse(&text).unwrap();
        assert_eq!(ticket.token, id);
        assert_eq!(ticket.environment, Environment::Staging);
        assert_eq!(ticket.expires, expires);
        assert_eq!(ticket.check(&key("pennon_a"), NOW), Ok(()));
        assert_eq!(ticket.check(&key("pennon_a"), expires - 1), Ok(()));
        assert_eq!(
            ticket.check(&key("pennon_a"), expires),
            Err(TicketError::Expired)
        );
        // Another token's key: forged, whatever the time.
        assert_eq!(
            ticket.check(&key("pennon_b"), NOW),
            Err(TicketError::BadMac)
        );
        assert_eq!(
            ticket.check(&key("pennon_b"), expires + 1),
            Err(TicketError::BadMac)
        );
    }

    #[test]
    fn any_change_to_a_signed_part_breaks_the_mac() {
        let k = key("root");
        let text = issue(&k, TokenId::AdminToken, Environment::Dev, expiry(NOW));
        assert!(text.starts_with("ADMIN_TOKEN.dev."));
        for forged in [
            text.replacen("ADMIN_TOKEN", "EDGE_TOKEN", 1),
            text.replacen(".dev.", ".prod.", 1),
            text.replacen(
                &expiry(NOW).to_string(),
                &(expiry(NOW) + 300).to_string(),
                1,
            ),
        ] {
            let ticket = Ticket::parse(&forged).unwrap();
            assert_eq!(ticket.check(&k, NOW), Err(TicketError::BadMac), "{forged}");
        }
        // One flipped bit of the MAC.
        let mut flipped = text.clone().into_bytes();
        let last = flipped.len() - 1;
        flipped[last] = if flipped[last] == b'0' { b'1' } else { b'0' };
        let ticket = Ticket::parse(std::str::from_utf8(&flipped).unwrap()).unwrap();
        assert_eq!(ticket.check(&k, NOW), Err(TicketError::BadMac));
    }

    #[test]
    fn tickets_are_whole_windows_and_live_five_to_ten_minutes() {
        let start = window(NOW) * TICKET_WINDOW_SECONDS;
        for now in [start, start + 1, start + TICKET_WINDOW_SECONDS - 1] {
            assert_eq!(expiry(now), start + 2 * TICKET_WINDOW_SECONDS);
            let life = expiry(now) - now;
            assert!((301..=600).contains(&life), "{life}");
        }
        assert_eq!(
            expiry(start + TICKET_WINDOW_SECONDS),
            start + 3 * TICKET_WINDOW_SECONDS
        );
        // Within a window the same ticket is issued again: a client's URL does not change.
        let k = key("pennon_a");
        assert_eq!(
            issue(&k, TokenId::EdgeToken, Environment::Prod, expiry(start)),
            issue(
                &k,
                TokenId::EdgeToken,
                Environment::Prod,
                expiry(start + 299)
            ),
        );
        assert_eq!(expiry(u64::MAX), u64::MAX);
    }

    #[test]
    fn what_is_not_a_ticket_is_malformed() {
        let good = issue(&key("k"), TokenId::EdgeToken, Environment::Prod, 10);
        let mac = good.rsplit('.').next().unwrap();
        let id = "01234567-89ab-cdef-0123-456789abcdef";
        for bad in [
            String::new(),
            ".".into(),
            "EDGE_TOKEN.prod.10".into(),
            format!("EDGE_TOKEN.prod.10.{mac}.x"),
            format!("edge_token.prod.10.{mac}"),
            format!("EDGE_TOKEN.qa.10.{mac}"),
            format!("EDGE_TOKEN.prod.-1.{mac}"),
            format!("EDGE_TOKEN.prod.+1.{mac}"),
            format!("EDGE_TOKEN.prod..{mac}"),
            format!("EDGE_TOKEN.prod.99999999999999999999999.{mac}"),
            format!("EDGE_TOKEN.prod.10.{}", &mac[1..]),
            format!("EDGE_TOKEN.prod.10.{}", mac.to_uppercase()),
            format!("EDGE_TOKEN.prod.10.{}é", &mac[2..]),
            format!("{}.prod.10.{mac}", id.to_uppercase()),
            format!("{}.prod.10.{mac}", id.replace('-', "")),
            format!("{}.prod.10.{mac}", "x".repeat(300)),
        ] {
            assert_eq!(Ticket::parse(&bad), Err(TicketError::Malformed), "{bad:?}");
        }
        assert!(Ticket::parse(&good).is_ok());
        assert!(Ticket::parse(&format!("{id}.prod.10.{mac}")).is_ok());
    }
}
