//! `DATABASE_URL`: where flags are stored.

use super::{ConfigError, Secret};

/// Where flags are stored; chosen from `DATABASE_URL`'s scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A secret: the URL usually carries the password.
    Postgres(Secret),
    Sqlite(String),
}

/// The store when `DATABASE_URL` is unset: a SQLite file in the working directory.
pub(super) const DEFAULT_SQLITE_URL: &str = "sqlite://pennon.db";

impl DatabaseUrl {
    fn parse(url: &str) -> Result<Self, ConfigError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(Secret::new(url)))
        } else if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(url.to_owned()))
        } else {
            Err(ConfigError::new(
                "DATABASE_URL",
                "must start with postgres://, postgresql:// or sqlite:",
            ))
        }
    }

    /// `DATABASE_URL` through `get` (blank counts as unset), else the SQLite default.
    pub(super) fn read(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        Self::parse(
            get("DATABASE_URL")
                .as_deref()
                .unwrap_or(DEFAULT_SQLITE_URL)
                .trim(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scheme_chooses_the_store() {
        assert!(matches!(
            DatabaseUrl::parse("postgresql://u@h/db"),
            Ok(DatabaseUrl::Postgres(_))
        ));
        assert_eq!(
            DatabaseUrl::read(|_| None).unwrap(),
            DatabaseUrl::Sqlite(DEFAULT_SQLITE_URL.into())
        );
        let err = DatabaseUrl::parse("mysql://x").unwrap_err();
        assert_eq!(err.variable, "DATABASE_URL");
    }
}
