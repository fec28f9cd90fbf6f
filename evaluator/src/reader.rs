//! Streaming readers for what arrives with every evaluation: the request and its user.
//!
//! They read JSON text (or any serde source: a `serde_json::Value`, a JavaScript value) straight into
//! the user's types with no intermediate `Value` tree, which halves the cost of a request. Each field is
//! first read loosely, recording what was there even when it is the wrong type, and the checks run after,
//! in a fixed order, so that a bad request gets the same message whatever the order of its keys.
//!
//! A key given twice is refused everywhere: in the request, in `user` and in any object inside
//! `user.attributes` (see [`crate::attribute_reader`]), and of several the least is named.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use serde::de::{
    self, Deserialize, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor,
};

use crate::attribute_reader::read_entries;
use crate::error::ValidationError;
use crate::flag::Environment;
use crate::json_path::{JsonPath, Parent};
use crate::user::User;
use crate::value::AttributeValue;

/// A field as read, before it is checked.
#[derive(Default)]
pub(crate) enum Loose<T> {
    #[default]
    Absent,
    Null,
    Value(T),
    /// Present, but of another JSON type than `T`.
    Wrong,
}

impl<T> Loose<T> {
    /// The value, with `null` counted as absent; `Err` for the wrong type.
    pub(crate) fn optional(self) -> Result<Option<T>, ()> {
        match self {
            Loose::Absent | Loose::Null => Ok(None),
            Loose::Value(value) => Ok(Some(value)),
            Loose::Wrong => Err(()),
        }
    }
}

/// Reads any JSON value as "a string, null, or something else", consuming the something else.
pub(crate) struct LooseString(pub(crate) Loose<String>);

/// Reads any JSON value as "an object of attributes, null, or something else"; the least path of a
/// key given twice inside it (from `user.attributes`) goes to the `&mut`.
struct LooseAttributes<'d>(&'d mut Option<JsonPath>);

/// Reads any JSON value as "an array of loose strings, null, or something else".
struct LooseStrings(Loose<Vec<Loose<String>>>);

/// The fields of a user as read. `unknown` keeps the least unknown key (in byte order), so that the
/// message does not depend on the order of the keys.
#[derive(Default)]
pub(crate) struct UserDraft {
    not_an_object: bool,
    unknown: Option<String>,
    /// The least known key that appeared twice: JSON parsers disagree on which copy wins, so neither does.
    duplicate: Option<&'static str>,
    /// The least path, from `user.attributes`, of a key that appeared twice in one of its objects.
    attribute_duplicate: Option<JsonPath>,
    id: Loose<String>,
    email: Loose<String>,
    country: Loose<String>,
    attributes: Loose<BTreeMap<String, AttributeValue>>,
}

/// The fields of an evaluate request as read.
#[derive(Default)]
pub(crate) struct RequestDraft {
    not_an_object: bool,
    unknown: Option<String>,
    duplicate: Option<&'static str>,
    environment: Loose<String>,
    user: Option<UserDraft>,
    flags: Loose<Vec<Loose<String>>>,
}

/// A checked evaluate request: environment, user, optional keys.
pub(crate) type RequestParts = (Environment, User, Option<Vec<String>>);

impl UserDraft {
    /// Checks, in this order: the shape, unknown keys, duplicate keys of the user, duplicate keys
    /// inside `attributes` (at any depth), `id`, `attributes`, `email`, `country`. Errors name the
    /// path from `user`.
    pub(crate) fn finish(self) -> Result<User, ValidationError> {
        if self.not_an_object {
            return Err(ValidationError::new("user", "must be a JSON object"));
        }
        if let Some(key) = self.unknown {
            return Err(ValidationError::new(
                format!("user.{}", crate::echo_key(&key)),
                "unknown field; custom attributes go under user.attributes",
            ));
        }
        if let Some(key) = self.duplicate {
            return Err(ValidationError::new(
                format!("user.{key}"),
                "duplicate field",
            ));
        }
        if let Some(path) = self.attribute_duplicate {
            return Err(ValidationError::new(
                path.field("user.attributes"),
                "duplicate field",
            ));
        }
        let id = match self.id {
            Loose::Value(id) if !id.is_empty() => id,
            _ => {
                return Err(ValidationError::new(
                    "user.id",
                    "must be a non-empty string",
                ))
            }
        };
        let attributes = self
            .attributes
            .optional()
            .map_err(|()| ValidationError::new("user.attributes", "must be an object"))?
            .unwrap_or_default();
        let email = self
            .email
            .optional()
            .map_err(|()| ValidationError::new("user.email", "must be a string"))?;
        let country = self
            .country
            .optional()
            .map_err(|()| ValidationError::new("user.country", "must be a string"))?;
        Ok(User {
            id,
            email,
            country,
            attributes,
        })
    }
}

impl RequestDraft {
    /// Checks, in this order: the shape, unknown keys, duplicate keys, `environment`, `user`, `flags`.
    pub(crate) fn finish(self) -> Result<RequestParts, ValidationError> {
        if self.not_an_object {
            return Err(ValidationError::new("body", "must be a JSON object"));
        }
        if let Some(key) = self.unknown {
            return Err(ValidationError::new(
                format!("{}", crate::echo_key(&key)),
                "unknown field",
            ));
        }
        if let Some(key) = self.duplicate {
            return Err(ValidationError::new(key, "duplicate field"));
        }
        let environment = match self.environment {
            Loose::Absent => return Err(ValidationError::new("environment", "required")),
            Loose::Value(name) => Environment::parse(&name)?,
            Loose::Null | Loose::Wrong => {
                return Err(ValidationError::new(
                    "environment",
                    "must be one of \"dev\", \"staging\", \"prod\"",
                ))
            }
        };
        let user = match self.user {
            Some(user) => user.finish()?,
            None => return Err(ValidationError::new("user", "required")),
        };
        let flags = match self.flags {
            Loose::Absent | Loose::Null => None,
            Loose::Wrong => {
                return Err(ValidationError::new(
                    "flags",
                    "must be an array of flag keys",
                ))
            }
            Loose::Value(keys) => Some(
                keys.into_iter()
                    .enumerate()
                    .map(|(i, key)| match key {
                        Loose::Value(key) => Ok(key),
                        _ => Err(ValidationError::new(
                            format!("flags[{i}]"),
                            "must be a string",
                        )),
                    })
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok((environment, user, flags))
    }
}

/// Notes `key` as seen, and as a duplicate (keeping the least such) when it was seen before.
fn note_seen(seen: &mut u8, bit: u8, key: &'static str, duplicate: &mut Option<&'static str>) {
    if *seen & bit != 0 && duplicate.is_none_or(|least| key < least) {
        *duplicate = Some(key);
    }
    *seen |= bit;
}

/// Keeps the least of the unknown keys seen.
fn note_unknown(unknown: &mut Option<String>, key: String) {
    if unknown.as_ref().is_none_or(|seen| key < *seen) {
        *unknown = Some(key);
    }
}

/// Implements the `visit_*` methods of a loose reader for every JSON type but the one it wants: they
/// consume the value and report [`Loose::Wrong`] (or `Null`).
macro_rules! everything_else_is_wrong {
    ($wrap:expr; $($skip:ident),*) => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> { Ok($wrap(Loose::Wrong)) }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> { Ok($wrap(Loose::Wrong)) }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> { Ok($wrap(Loose::Wrong)) }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> { Ok($wrap(Loose::Wrong)) }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> { Ok($wrap(Loose::Null)) }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> { Ok($wrap(Loose::Null)) }
        fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
            deserializer.deserialize_any(self)
        }
        $(everything_else_is_wrong!(@$skip $wrap);)*
    };
    (@str $wrap:expr) => {
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> { Ok($wrap(Loose::Wrong)) }
    };
    (@seq $wrap:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok($wrap(Loose::Wrong))
        }
    };
    (@map $wrap:expr) => {
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok($wrap(Loose::Wrong))
        }
    };
}

impl<'de> Deserialize<'de> for LooseString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LooseString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(LooseString(Loose::Value(s.into())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(LooseString(Loose::Value(s)))
            }
            everything_else_is_wrong!(LooseString; seq, map);
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> DeserializeSeed<'de> for LooseAttributes<'_> {
    type Value = Loose<BTreeMap<String, AttributeValue>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for LooseAttributes<'_> {
    type Value = Loose<BTreeMap<String, AttributeValue>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        read_entries(map, &Parent::Root, self.0).map(Loose::Value)
    }
    everything_else_is_wrong!(core::convert::identity; str, seq);
}

impl<'de> Deserialize<'de> for LooseStrings {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LooseStrings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut keys = Vec::new();
                while let Some(LooseString(key)) = seq.next_element()? {
                    keys.push(key);
                }
                Ok(LooseStrings(Loose::Value(keys)))
            }
            everything_else_is_wrong!(LooseStrings; str, map);
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for UserDraft {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UserDraft;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut user = UserDraft::default();
                let mut seen = 0u8;
                while let Some(key) = map.next_key::<String>()? {
                    let dup = &mut user.duplicate;
                    match key.as_str() {
                        "id" => {
                            note_seen(&mut seen, 1, "id", dup);
                            user.id = map.next_value::<LooseString>()?.0;
                        }
                        "email" => {
                            note_seen(&mut seen, 2, "email", dup);
                            user.email = map.next_value::<LooseString>()?.0;
                        }
                        "country" => {
                            note_seen(&mut seen, 4, "country", dup);
                            user.country = map.next_value::<LooseString>()?.0;
                        }
                        "attributes" => {
                            note_seen(&mut seen, 8, "attributes", dup);
                            let duplicate = &mut user.attribute_duplicate;
                            user.attributes = map.next_value_seed(LooseAttributes(duplicate))?;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            note_unknown(&mut user.unknown, key);
                        }
                    }
                }
                Ok(user)
            }
            everything_else_is_wrong!(not_an_object_user; str, seq);
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for RequestDraft {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RequestDraft;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut request = RequestDraft::default();
                let mut seen = 0u8;
                while let Some(key) = map.next_key::<String>()? {
                    let dup = &mut request.duplicate;
                    match key.as_str() {
                        "environment" => {
                            note_seen(&mut seen, 1, "environment", dup);
                            request.environment = map.next_value::<LooseString>()?.0;
                        }
                        "user" => {
                            note_seen(&mut seen, 2, "user", dup);
                            request.user = Some(map.next_value()?);
                        }
                        "flags" => {
                            note_seen(&mut seen, 4, "flags", dup);
                            request.flags = map.next_value::<LooseStrings>()?.0;
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                            note_unknown(&mut request.unknown, key);
                        }
                    }
                }
                Ok(request)
            }
            everything_else_is_wrong!(not_an_object_request; str, seq);
        }
        deserializer.deserialize_any(V)
    }
}

/// Whatever a user or request that is not an object held, only that it was not an object matters.
fn not_an_object_user(_: Loose<()>) -> UserDraft {
    UserDraft {
        not_an_object: true,
        ..UserDraft::default()
    }
}

fn not_an_object_request(_: Loose<()>) -> RequestDraft {
    RequestDraft {
        not_an_object: true,
        ..RequestDraft::default()
    }
}
