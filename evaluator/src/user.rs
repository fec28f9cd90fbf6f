//! The user a flag is decided for.

use alloc::collections::BTreeMap;
use alloc::string::String;

use crate::rule::Field;
use crate::value::{AttributeValue, FieldValue};

/// The user of one evaluation: `id` (non-empty when it comes through the API), optional `email` and
/// `country`, and free-form, possibly nested `attributes`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct User {
    /// The user's id; the rollout hashes it.
    pub id: String,
    /// The user's email, if known.
    pub email: Option<String>,
    /// The user's country, if known.
    pub country: Option<String>,
    /// Anything else; `attributes.a.b` in a rule reads `attributes["a"]["b"]`.
    pub attributes: BTreeMap<String, AttributeValue>,
}

impl User {
    /// A user with this id and nothing else.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// The scalar `field` holds for this user; `None` when it is missing, null, a list or a map.
    pub(crate) fn lookup(&self, field: &Field) -> Option<FieldValue<'_>> {
        match field {
            Field::Id => Some(FieldValue::Str(&self.id)),
            Field::Email => self.email.as_deref().map(FieldValue::Str),
            Field::Country => self.country.as_deref().map(FieldValue::Str),
            Field::Attribute(path) => {
                let (first, rest) = path.keys().split_first()?;
                let mut value = self.attributes.get(first)?;
                for key in rest {
                    match value {
                        AttributeValue::Map(map) => value = map.get(key)?,
                        _ => return None,
                    }
                }
                FieldValue::of(value)
            }
        }
    }
}
