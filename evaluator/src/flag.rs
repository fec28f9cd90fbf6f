//! A flag and the small types that make it up, each holding only valid values.

use alloc::string::{String, ToString};
use core::fmt;
use core::str::FromStr;

use crate::error::ValidationError;
use crate::rule::RuleList;

/// The longest key a flag may have, in characters.
const MAX_KEY_LEN: usize = 128;

/// A flag's key: 1 to 128 characters of `[A-Za-z0-9_.-]`, unique per environment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlagKey(String);

impl FlagKey {
    /// Checks `key` and wraps it; the error names the field `key`.
    pub fn parse(key: &str) -> Result<Self, ValidationError> {
        if key.is_empty() || key.len() > MAX_KEY_LEN {
            return Err(ValidationError::new(
                "key",
                "must be 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', '-'",
            ));
        }
        if let Some(bad) = key
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
        {
            return Err(ValidationError::new(
                "key",
                alloc::format!(
                    "{bad:?} is not allowed; use 1 to 128 characters of A-Z, a-z, 0-9, '_', '.', '-'"
                ),
            ));
        }
        Ok(Self(key.to_string()))
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for FlagKey {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for FlagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for FlagKey {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// The environment a flag lives in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Environment {
    /// `"dev"`
    Dev,
    /// `"staging"`
    Staging,
    /// `"prod"`
    Prod,
}

impl Environment {
    /// Every environment, in the contract's order.
    pub const ALL: [Environment; 3] = [Environment::Dev, Environment::Staging, Environment::Prod];

    /// The environment's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Dev => "dev",
            Environment::Staging => "staging",
            Environment::Prod => "prod",
        }
    }

    /// Reads an environment's name; the error names the field `environment`.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|env| env.as_str() == name)
            .ok_or_else(|| {
                ValidationError::new(
                    "environment",
                    alloc::format!(
                        "must be one of \"dev\", \"staging\", \"prod\", not {:?}",
                        crate::echo(name)
                    ),
                )
            })
    }
}

impl FromStr for Environment {
    type Err = ValidationError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The share of users, 0 to 100, who get the flag when no rule matched.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RolloutPercentage(u8);

impl RolloutPercentage {
    /// Checks that `percent` is at most 100.
    pub fn new(percent: u8) -> Result<Self, ValidationError> {
        if percent <= 100 {
            Ok(Self(percent))
        } else {
            Err(Self::out_of_range())
        }
    }

    /// The percentage, 0 to 100.
    pub fn get(self) -> u8 {
        self.0
    }

    pub(crate) fn out_of_range() -> ValidationError {
        ValidationError::new("rolloutPercentage", "must be an integer from 0 to 100")
    }
}

impl TryFrom<u8> for RolloutPercentage {
    type Error = ValidationError;
    fn try_from(percent: u8) -> Result<Self, Self::Error> {
        Self::new(percent)
    }
}

/// A feature flag: what decides it.
///
/// The contract's Flag JSON also carries what the origin keeps about a flag (`id`, `environment`,
/// `version`, `createdAt`, `updatedAt`). None of it takes part in a decision, so it is not kept here
/// (the origin has its own stored flag around this one); [`Flag::from_json_value`] still checks it
/// when present, so that every runtime refuses the same flags.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    /// The key, unique per environment.
    pub key: FlagKey,
    /// Free text for people.
    pub description: String,
    /// The kill switch: `false` overrides everything.
    pub enabled: bool,
    /// The share of users who get the flag when no rule matched.
    pub rollout_percentage: RolloutPercentage,
    /// Targeting rules, checked in order; the first that matches wins.
    pub rules: RuleList,
}

impl Flag {
    /// A flag with this key, disabled, at 0%, without rules: the contract's defaults.
    pub fn new(key: FlagKey) -> Self {
        Self {
            key,
            description: String::new(),
            enabled: false,
            rollout_percentage: RolloutPercentage::default(),
            rules: RuleList::default(),
        }
    }
}

impl AsRef<Flag> for Flag {
    fn as_ref(&self) -> &Flag {
        self
    }
}
