//! `REQUIRE_CLIENT_TOKEN` and the rate limits: who may evaluate, and how often each caller may call.

use std::num::NonZeroU32;
use std::time::Duration;

use super::ConfigError;

/// A rate: `count` requests per `period`, which is also the burst a caller may spend at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub count: NonZeroU32,
    pub period: Duration,
}

/// The rate of each route class; `None` is no limit (the default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimits {
    /// `RATE_LIMIT_EVALUATE`: `POST /api/evaluate`, per token when tokens are required, else per
    /// client address.
    pub evaluate: Option<Rate>,
    /// `RATE_LIMIT_ADMIN_WRITES`: the admin API's writes (POST, PUT, DELETE), per token.
    pub admin_writes: Option<Rate>,
}

impl RateLimits {
    pub(super) fn read(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let rate = |variable: &'static str| {
            get(variable)
                .map(|value| Rate::parse(value.trim()).map_err(|m| ConfigError::new(variable, m)))
                .transpose()
        };
        Ok(Self {
            evaluate: rate("RATE_LIMIT_EVALUATE")?,
            admin_writes: rate("RATE_LIMIT_ADMIN_WRITES")?,
        })
    }
}

impl Rate {
    /// `1000/s`, `600/m`, `10000/h`: a positive whole number of requests per second, minute or hour.
    fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not a rate such as 1000/s, 600/m or 10000/h");
        let (count, unit) = text.split_once('/').ok_or_else(bad)?;
        let count: NonZeroU32 = count.trim().parse().map_err(|_| bad())?;
        let period = match unit.trim() {
            "s" => Duration::from_secs(1),
            "m" => Duration::from_secs(60),
            "h" => Duration::from_secs(3600),
            _ => return Err(bad()),
        };
        Ok(Self { count, period })
    }
}

/// `REQUIRE_CLIENT_TOKEN`: on or off, spelt plainly; anything else stops the start rather than
/// leave evaluation open by a typo.
pub(super) fn read_switch(
    get: impl Fn(&str) -> Option<String>,
    variable: &'static str,
) -> Result<bool, ConfigError> {
    read_switch_or(get, variable, false)
}

/// A switch that is `default` when unset.
pub(super) fn read_switch_or(
    get: impl Fn(&str) -> Option<String>,
    variable: &'static str,
    default: bool,
) -> Result<bool, ConfigError> {
    match get(variable).as_deref().map(str::trim) {
        None => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(_) => Err(ConfigError::new(
            variable,
            "must be on or off (1, true, yes, on / 0, false, no, off)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_a_count_per_second_minute_or_hour() {
        let rate = Rate::parse("600/m").unwrap();
        assert_eq!(rate.count.get(), 600);
        assert_eq!(rate.period, Duration::from_secs(60));
        assert_eq!(
            Rate::parse(" 5 / s ").unwrap().period,
            Duration::from_secs(1)
        );
        for bad in ["0/s", "-1/s", "5", "5/d", "five/s", "5/", "/s", "1.5/s"] {
            assert!(Rate::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_switch_is_on_or_off_and_nothing_else() {
        let get = |value: &'static str| move |_: &str| Some(value.to_owned());
        assert!(read_switch(get("yes"), "X").unwrap());
        assert!(!read_switch(get("off"), "X").unwrap());
        assert!(!read_switch(|_: &str| None, "X").unwrap());
        assert!(read_switch_or(|_: &str| None, "X", true).unwrap());
        assert!(!read_switch_or(get("off"), "X", true).unwrap());
        assert!(read_switch(get("enabled"), "X").is_err());
    }
}
