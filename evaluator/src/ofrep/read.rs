//! `{"context": {...}}` into a [`User`], streamed like the evaluate request (`crate::reader`): each
//! known key read loosely, every other key of the context read by the attribute reader into
//! `attributes`, and the checks run after, in a fixed order, so a bad context gets the same message
//! whatever the order of its keys.
//!
//! Keys of the body other than `context` are ignored (the protocol's request may grow; the evaluate
//! API, Pennon's own, refuses them instead).

use alloc::collections::btree_map::Entry;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use core::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{ErrorCode, OfrepError};
use crate::attribute_reader::AttributeSeed;
use crate::json_path::{JsonPath, Parent};
use crate::reader::{Loose, LooseString};
use crate::user::User;
use crate::value::AttributeValue;

/// The `visit_*` methods of a reader of objects for every other JSON type: they consume the value
/// and record that it was not an object (`null` too, unless `except_null`).
macro_rules! not_an_object {
    ($draft:ident) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
        not_an_object!($draft; except_null);
    };
    ($draft:ident; except_null) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($draft { not_an_object: true, ..$draft::default() })
        }
    };
}

/// The context's keys that are not attributes.
const TARGETING_KEY: &str = "targetingKey";
const EMAIL: &str = "email";
const COUNTRY: &str = "country";

/// Reads an OFREP request body into the user it evaluates for. Errors, in this order: the body is
/// not JSON (`PARSE_ERROR`, serde_json's message as the evaluate API gives it), not an object or
/// names `context` twice (`PARSE_ERROR`); the context is not an object (`INVALID_CONTEXT`; a
/// missing or `null` context is an empty one), an object in it holds a key twice, the least such
/// path named (`INVALID_CONTEXT`); `targetingKey` is not a string (`INVALID_CONTEXT`) or is missing,
/// `null` or `""` (`TARGETING_KEY_MISSING`); `email`, then `country`, neither a string nor `null`
/// (`INVALID_CONTEXT`).
pub fn read_context(body: &[u8]) -> Result<User, OfrepError> {
    let draft: BodyDraft = serde_json::from_slice(body)
        .map_err(|err| OfrepError::new(ErrorCode::ParseError, format!("invalid JSON: {err}")))?;
    draft.finish()
}

/// The body as read.
#[derive(Default)]
struct BodyDraft {
    not_an_object: bool,
    context_twice: bool,
    context: Option<ContextDraft>,
}

/// The context as read.
#[derive(Default)]
struct ContextDraft {
    not_an_object: bool,
    /// The least path (from `context`) of a key given twice, at any depth.
    duplicate: Option<JsonPath>,
    targeting_key: Loose<String>,
    email: Loose<String>,
    country: Loose<String>,
    attributes: BTreeMap<String, AttributeValue>,
}

impl BodyDraft {
    fn finish(self) -> Result<User, OfrepError> {
        if self.not_an_object {
            return Err(OfrepError::new(
                ErrorCode::ParseError,
                "body: must be a JSON object {\"context\": {...}}",
            ));
        }
        if self.context_twice {
            return Err(OfrepError::new(
                ErrorCode::ParseError,
                "context: duplicate field",
            ));
        }
        self.context.unwrap_or_default().finish()
    }
}

impl ContextDraft {
    fn finish(self) -> Result<User, OfrepError> {
        let invalid = |field: &str, message: &str| {
            OfrepError::new(ErrorCode::InvalidContext, format!("{field}: {message}"))
        };
        if self.not_an_object {
            return Err(invalid("context", "must be a JSON object"));
        }
        if let Some(path) = self.duplicate {
            return Err(invalid(&path.field("context"), "duplicate field"));
        }
        let id = match self.targeting_key {
            Loose::Value(id) if !id.is_empty() => id,
            Loose::Wrong => return Err(invalid("context.targetingKey", "must be a string")),
            Loose::Absent | Loose::Null | Loose::Value(_) => {
                return Err(OfrepError::new(
                    ErrorCode::TargetingKeyMissing,
                    "context.targetingKey: required, a non-empty string (the user's id)",
                ))
            }
        };
        let email = self
            .email
            .optional()
            .map_err(|()| invalid("context.email", "must be a string or null"))?;
        let country = self
            .country
            .optional()
            .map_err(|()| invalid("context.country", "must be a string or null"))?;
        Ok(User {
            id,
            email,
            country,
            attributes: self.attributes,
        })
    }
}

impl<'de> Deserialize<'de> for BodyDraft {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BodyDraft;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut body = BodyDraft::default();
                while let Some(key) = map.next_key::<String>()? {
                    if key == "context" {
                        let context = map.next_value::<ContextDraft>()?;
                        if body.context.is_some() {
                            body.context_twice = true;
                        }
                        body.context = Some(context);
                    } else {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
                Ok(body)
            }
            not_an_object!(BodyDraft);
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for ContextDraft {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ContextDraft;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut context = ContextDraft::default();
                let mut seen = 0u8;
                while let Some(key) = map.next_key::<String>()? {
                    let bit = match key.as_str() {
                        TARGETING_KEY => 1,
                        EMAIL => 2,
                        COUNTRY => 4,
                        _ => 0,
                    };
                    if bit != 0 {
                        let LooseString(value) = map.next_value()?;
                        if seen & bit != 0 {
                            Parent::Root.note_duplicate(&key, &mut context.duplicate);
                        }
                        seen |= bit;
                        match bit {
                            1 => context.targeting_key = value,
                            2 => context.email = value,
                            _ => context.country = value,
                        }
                        continue;
                    }
                    let value = map.next_value_seed(AttributeSeed {
                        parent: &Parent::Key(&key, &Parent::Root),
                        duplicate: &mut context.duplicate,
                    })?;
                    match context.attributes.entry(key) {
                        Entry::Vacant(slot) => {
                            slot.insert(value);
                        }
                        Entry::Occupied(slot) => {
                            Parent::Root.note_duplicate(slot.key(), &mut context.duplicate);
                        }
                    }
                }
                Ok(context)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ContextDraft::default())
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(ContextDraft::default())
            }
            not_an_object!(ContextDraft; except_null);
        }
        deserializer.deserialize_any(V)
    }
}
