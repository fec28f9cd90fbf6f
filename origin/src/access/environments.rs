//! The environments a token acts in: a set of at most three, as a bit set.

use std::fmt;

use evaluator::Environment;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EnvironmentSet(u8);

fn bit(environment: Environment) -> u8 {
    match environment {
        Environment::Dev => 1,
        Environment::Staging => 2,
        Environment::Prod => 4,
    }
}

impl EnvironmentSet {
    pub const ALL: Self = Self(7);
    pub const NONE: Self = Self(0);

    pub fn contains(self, environment: Environment) -> bool {
        self.0 & bit(environment) != 0
    }

    /// Every environment of `other` is in `self`.
    pub fn contains_all(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    pub fn insert(&mut self, environment: Environment) {
        self.0 |= bit(environment);
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn is_all(self) -> bool {
        self == Self::ALL
    }

    /// In the contract's order (dev, staging, prod).
    pub fn iter(self) -> impl Iterator<Item = Environment> {
        Environment::ALL
            .into_iter()
            .filter(move |e| self.contains(e.to_owned()))
    }

    /// The names, as stored and answered: `["dev","prod"]`.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_else(|_| "[]".to_owned())
    }
}

impl FromIterator<Environment> for EnvironmentSet {
    fn from_iter<I: IntoIterator<Item = Environment>>(iter: I) -> Self {
        let mut set = Self::NONE;
        for environment in iter {
            set.insert(environment);
        }
        set
    }
}

impl Serialize for EnvironmentSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter().map(Environment::as_str))
    }
}

/// Reads what [`Serialize`] writes (an audit entry's token record): a list of names.
impl<'de> Deserialize<'de> for EnvironmentSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let names = Vec::<String>::deserialize(deserializer)?;
        names
            .iter()
            .map(|name| Environment::parse(name).map_err(serde::de::Error::custom))
            .collect()
    }
}

/// `dev, prod` (for messages).
impl fmt::Display for EnvironmentSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for environment in self.iter() {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            f.write_str(environment.as_str())?;
        }
        if first {
            f.write_str("none")?;
        }
        Ok(())
    }
}

impl fmt::Debug for EnvironmentSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{self}}}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_of_environments() {
        let set: EnvironmentSet = [Environment::Prod, Environment::Dev, Environment::Prod]
            .into_iter()
            .collect();
        assert!(set.contains(Environment::Dev) && set.contains(Environment::Prod));
        assert!(!set.contains(Environment::Staging));
        assert_eq!(set.to_json(), r#"["dev","prod"]"#);
        assert_eq!(set.to_string(), "dev, prod");
        assert_eq!(EnvironmentSet::NONE.to_string(), "none");
        assert!(EnvironmentSet::ALL.is_all() && !set.is_all());
        assert_eq!(EnvironmentSet::ALL.iter().count(), 3);
    }
}
