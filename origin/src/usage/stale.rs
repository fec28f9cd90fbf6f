//! `?stale=7d`: how long a flag must have gone without an evaluation to be listed.

/// The longest span one can ask for (ten years); past it every flag is "never evaluated" anyway.
const MAX_MS: i64 = 10 * 365 * 24 * 3_600_000;

/// A span of time, in milliseconds: `30s`, `15m`, `24h`, `7d`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StaleFor(i64);

impl StaleFor {
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("stale: {text:?} is not a span of time such as 7d, 24h, 30m or 90s");
        let unit_at = text.len().checked_sub(1).ok_or_else(bad)?;
        let (number, unit) = text.split_at(unit_at);
        let unit_ms: i64 = match unit {
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: i64 = number.parse().map_err(|_| bad())?;
        match n.checked_mul(unit_ms) {
            Some(ms) if ms > 0 && ms <= MAX_MS => Ok(Self(ms)),
            _ => Err(format!(
                "stale: must be more than 0 and at most 3650d, not {text:?}"
            )),
        }
    }

    /// Whether a flag last evaluated at `last` (or never) is stale at `now`.
    pub fn holds(self, last: Option<i64>, now: i64) -> bool {
        last.is_none_or(|at| at < now - self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_in_every_unit() {
        assert_eq!(StaleFor::parse("7d"), Ok(StaleFor(7 * 86_400_000)));
        assert_eq!(StaleFor::parse("24h"), Ok(StaleFor(86_400_000)));
        assert_eq!(StaleFor::parse("30m"), Ok(StaleFor(1_800_000)));
        assert_eq!(StaleFor::parse("90s"), Ok(StaleFor(90_000)));
        assert_eq!(StaleFor::parse("3650d"), Ok(StaleFor(MAX_MS)));
    }

    #[test]
    fn anything_else_is_refused_by_name() {
        for bad in ["", "d", "7", "7w", "-1d", "+1d", "1.5d", " 7d", "7 d", "७d"] {
            let err = StaleFor::parse(bad).unwrap_err();
            assert!(err.starts_with("stale: "), "{bad:?}: {err}");
        }
        assert!(StaleFor::parse("0d").unwrap_err().contains("more than 0"));
        assert!(StaleFor::parse("3651d")
            .unwrap_err()
            .contains("at most 3650d"));
        assert!(StaleFor::parse("99999999999999999999d").is_err());
    }

    #[test]
    fn never_evaluated_is_always_stale() {
        let week = StaleFor::parse("7d").unwrap();
        let now = 100 * 86_400_000;
        assert!(week.holds(None, now));
        assert!(week.holds(Some(now - 7 * 86_400_000 - 1), now));
        assert!(!week.holds(Some(now - 7 * 86_400_000), now));
        assert!(!week.holds(Some(now), now));
    }
}
