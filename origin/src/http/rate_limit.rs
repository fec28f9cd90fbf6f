//! Rate limits per route class (`RATE_LIMIT_EVALUATE`, `RATE_LIMIT_ADMIN_WRITES`), with `governor`'s
//! keyed GCRA limiters: per token, and per client address where no token is verified.
//!
//! A class without a rate has no limiter, so the default costs nothing per request. The per-key
//! state is a small entry per caller seen; a background task drops the entries of callers that
//! are back to a full allowance, so memory follows the callers of the last period, not all time.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::access::TokenId;
use crate::config::{Rate, RateLimits};
use crate::http::error::ApiError;

/// Who a limit counts: the token, or the address of a caller without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RateKey {
    Token(TokenId),
    Address(IpAddr),
    /// A request whose address is unknown (served in-process by tests): one shared allowance.
    Unknown,
}

/// The client's address, put in each request by the server when some limit counts addresses.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub IpAddr);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteClass {
    Evaluate,
    AdminWrite,
}

#[derive(Debug, Default)]
pub struct RateLimiters {
    evaluate: Option<DefaultKeyedRateLimiter<RateKey>>,
    admin_writes: Option<DefaultKeyedRateLimiter<RateKey>>,
}

fn limiter(rate: Rate) -> Option<DefaultKeyedRateLimiter<RateKey>> {
    // `count` requests per `period`, all of which may come at once: one replenished every
    // period / count.
    let quota = Quota::with_period(rate.period / rate.count.get())?.allow_burst(rate.count);
    Some(RateLimiter::keyed(quota))
}

impl RateLimiters {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            evaluate: limits.evaluate.and_then(limiter),
            admin_writes: limits.admin_writes.and_then(limiter),
        }
    }

    /// Whether requests need their client address (a limit that may count by it).
    pub fn counts_addresses(&self) -> bool {
        self.evaluate.is_some()
    }

    pub fn is_limited(&self, class: RouteClass) -> bool {
        self.class(class).is_some()
    }

    fn class(&self, class: RouteClass) -> Option<&DefaultKeyedRateLimiter<RateKey>> {
        match class {
            RouteClass::Evaluate => self.evaluate.as_ref(),
            RouteClass::AdminWrite => self.admin_writes.as_ref(),
        }
    }

    /// One request of `key` in `class`: `Ok`, or a 429 saying when to retry (whole seconds,
    /// rounded up, at least 1).
    pub fn check(&self, class: RouteClass, key: RateKey) -> Result<(), ApiError> {
        let Some(limiter) = self.class(class) else {
            return Ok(());
        };
        limiter.check_key(&key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            ApiError::TooManyRequests(retry_after_seconds(wait))
        })
    }

    /// Drops the state of callers back to a full allowance.
    fn forget_idle_callers(&self) {
        for limiter in [&self.evaluate, &self.admin_writes].into_iter().flatten() {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

fn retry_after_seconds(wait: Duration) -> u64 {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.max(1)
}

/// Runs for as long as the process: every minute, forgets idle callers.
pub async fn forget_idle_callers_periodically(limiters: Arc<RateLimiters>) {
    let mut ticker = tokio::time::interval(Duration::from_secs(60));
    loop {
        ticker.tick().await;
        limiters.forget_idle_callers();
    }
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn limits(count: u32, period: Duration) -> RateLimiters {
        RateLimiters::new(RateLimits {
            evaluate: Some(Rate {
                count: NonZeroU32::new(count).unwrap(),
                period,
            }),
            admin_writes: None,
        })
    }

    #[test]
    fn a_burst_past_the_rate_is_refused_per_key_with_a_retry_after() {
        let limiters = limits(3, Duration::from_secs(60));
        let a = RateKey::Address("127.0.0.1".parse().unwrap());
        let b = RateKey::Address("127.0.0.2".parse().unwrap());
        for _ in 0..3 {
            limiters.check(RouteClass::Evaluate, a).unwrap();
        }
        let Err(ApiError::TooManyRequests(seconds)) = limiters.check(RouteClass::Evaluate, a)
        else {
            panic!("the fourth request of a minute's three passed");
        };
        // One request comes back every 20 s.
        assert!((19..=20).contains(&seconds), "{seconds}");
        limiters.check(RouteClass::Evaluate, b).unwrap();
        // A class without a rate is not limited.
        for _ in 0..100 {
            limiters
                .check(RouteClass::AdminWrite, RateKey::Unknown)
                .unwrap();
        }
        assert!(!limiters.is_limited(RouteClass::AdminWrite));
    }

    #[test]
    fn retry_after_rounds_up_to_whole_seconds() {
        assert_eq!(retry_after_seconds(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_seconds(Duration::ZERO), 1);
        assert_eq!(retry_after_seconds(Duration::from_millis(2001)), 3);
        assert_eq!(retry_after_seconds(Duration::from_secs(2)), 2);
    }
}
