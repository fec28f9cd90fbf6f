//! The user a flag is decided for.

use alloc::collections::BTreeMap;
use alloc::string::String;

use crate::rule::Field;
use crate::value::{AttributeValue, FieldValue, Presence};

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

    /// What `field` holds for this user.
    pub(crate) fn lookup(&self, field: &Field) -> Presence<'_> {
        fn text(text: Option<&str>) -> Presence<'_> {
            text.map_or(Presence::Missing, |s| Presence::Scalar(FieldValue::Str(s)))
        }
        match field {
            Field::Id => Presence::Scalar(FieldValue::Str(&self.id)),
            Field::Email => text(self.email.as_deref()),
            Field::Country => text(self.country.as_deref()),
            Field::Attribute(path) => Presence::of(self.attribute(path.keys())),
        }
    }

    /// The attribute at `keys` (outermost first), descending through maps.
    fn attribute(&self, keys: &[String]) -> Option<&AttributeValue> {
        let (first, rest) = keys.split_first()?;
        let mut value = self.attributes.get(first)?;
        for key in rest {
            match value {
                AttributeValue::Map(map) => value = map.get(key)?,
                _ => return None,
            }
        }
        Some(value)
    }
}
