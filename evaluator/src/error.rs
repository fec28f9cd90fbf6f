use alloc::string::String;
use core::fmt;

/// A value that breaks the flag model, with the path of the field that holds it
/// (`"rules[2].all[0].operator"`, `"user.id"`, `"rolloutPercentage"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ValidationError {
    field: String,
    message: String,
}

impl ValidationError {
    /// An error for `field` saying `message`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The path of the offending field.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it, without the field.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error, seen from one level up: `prefix.field` (or `prefix[3]`-style when `field` starts
    /// with `[`).
    #[cfg(feature = "serde")]
    pub(crate) fn within(mut self, prefix: &str) -> Self {
        let mut field = String::with_capacity(prefix.len() + 1 + self.field.len());
        field.push_str(prefix);
        if !self.field.is_empty() && !self.field.starts_with('[') {
            field.push('.');
        }
        field.push_str(&self.field);
        self.field = field;
        self
    }
}

impl fmt::Display for ValidationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl core::error::Error for ValidationError {}
