//! What a flag can serve: its type, its named variants and their values.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::error::ValidationError;
use crate::value::{AttributeValue, Number};

/// The most variants a flag may have.
pub(crate) const MAX_VARIANTS: usize = 50;
/// The longest variant name, in characters.
const MAX_NAME_LEN: usize = 64;
/// The largest object value, in bytes of compact JSON.
#[cfg(feature = "serde")]
pub(crate) const MAX_OBJECT_BYTES: usize = 32 * 1024;

/// The type of every value a flag serves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum FlagType {
    /// `true` or `false`: the variants are exactly `{"on": true, "off": false}`.
    #[default]
    Boolean,
    /// A string.
    String,
    /// A finite number.
    Number,
    /// A JSON object.
    Object,
}

impl FlagType {
    /// Every type, in the contract's order.
    pub const ALL: [FlagType; 4] = [
        FlagType::Boolean,
        FlagType::String,
        FlagType::Number,
        FlagType::Object,
    ];

    /// The type's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            FlagType::Boolean => "boolean",
            FlagType::String => "string",
            FlagType::Number => "number",
            FlagType::Object => "object",
        }
    }

    /// Reads a type's name; the error names the field `type`.
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == name)
            .ok_or_else(|| {
                ValidationError::new(
                    "type",
                    alloc::format!(
                        "must be one of \"boolean\", \"string\", \"number\", \"object\", not {:?}",
                        crate::echo(name)
                    ),
                )
            })
    }

    /// "a string flag", "an object flag": how a message names a flag of this type.
    #[cfg(feature = "serde")]
    pub(crate) fn a_flag(self) -> &'static str {
        match self {
            FlagType::Boolean => "a boolean flag",
            FlagType::String => "a string flag",
            FlagType::Number => "a number flag",
            FlagType::Object => "an object flag",
        }
    }

    /// Whether `value` is of this type.
    pub fn admits(self, value: &VariantValue) -> bool {
        matches!(
            (self, value),
            (FlagType::Boolean, VariantValue::Bool(_))
                | (FlagType::String, VariantValue::String(_))
                | (FlagType::Number, VariantValue::Number(_))
                | (FlagType::Object, VariantValue::Object(_))
        )
    }
}

impl fmt::Display for FlagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A variant's name: 1 to 64 characters of `[A-Za-z0-9_.-]`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VariantName(String);

impl VariantName {
    /// Checks `name`; the error's field is empty (the caller knows where the name sits).
    pub fn parse(name: &str) -> Result<Self, ValidationError> {
        let valid = !name.is_empty()
            && name.chars().count() <= MAX_NAME_LEN
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
        if valid {
            Ok(Self(name.to_string()))
        } else {
            Err(ValidationError::new(
                "",
                alloc::format!(
                    "{:?} is not a variant name: use 1 to 64 characters of A-Z, a-z, 0-9, '_', '.', '-'",
                    crate::echo(name)
                ),
            ))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for VariantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The value a variant serves, of its flag's type.
#[derive(Clone, Debug, PartialEq)]
pub enum VariantValue {
    /// A boolean flag's value.
    Bool(bool),
    /// A string flag's value.
    String(String),
    /// A number flag's value, kept as written (`100` and `100.0` stay apart in JSON, equal in value).
    Number(Number),
    /// An object flag's value; keys sorted.
    Object(BTreeMap<String, AttributeValue>),
}

/// A variant of one flag, by its place in the flag's [`Variants`]: a serve, an off variant and an
/// evaluation all point at variants this way, so that none can name a variant that is not there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VariantId(u8);

impl VariantId {
    /// The index into the flag's variants.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }
}

/// A flag's variants: 1 to 50, names unique, sorted by name (byte order), every value of the flag's
/// type.
#[derive(Clone, Debug, PartialEq)]
pub struct Variants {
    kind: FlagType,
    entries: Vec<(VariantName, VariantValue)>,
}

impl Variants {
    /// A boolean flag's variants, `{"off": false, "on": true}`.
    pub fn boolean() -> Self {
        Self {
            kind: FlagType::Boolean,
            entries: alloc::vec![
                (VariantName("off".into()), VariantValue::Bool(false)),
                (VariantName("on".into()), VariantValue::Bool(true)),
            ],
        }
    }

    /// The variant of a boolean flag that serves `value` ("on" for true).
    pub(crate) const fn boolean_id(value: bool) -> VariantId {
        // `boolean()` sorts "off" before "on".
        if value {
            VariantId(1)
        } else {
            VariantId(0)
        }
    }

    /// Checks the variants of a flag of type `kind`: 1 to 50, every value of that type, names unique;
    /// a boolean flag's are exactly `{"on": true, "off": false}`. Errors name the path from
    /// `variants`.
    pub fn new(
        kind: FlagType,
        mut entries: Vec<(VariantName, VariantValue)>,
    ) -> Result<Self, ValidationError> {
        if entries.is_empty() || entries.len() > MAX_VARIANTS {
            return Err(ValidationError::new(
                "variants",
                alloc::format!(
                    "a flag needs 1 to {MAX_VARIANTS} variants, got {}",
                    entries.len()
                ),
            ));
        }
        // At most 50, and already sorted when read from a JSON object: an insertion sort, which
        // costs the wasm builds a few bytes where a general sort costs kilobytes.
        for i in 1..entries.len() {
            let mut j = i;
            while j > 0 && entries[j - 1].0 > entries[j].0 {
                entries.swap(j - 1, j);
                j -= 1;
            }
        }
        if let Some(pair) = entries.windows(2).find(|pair| pair[0].0 == pair[1].0) {
            return Err(ValidationError::new(
                alloc::format!("variants.{}", pair[1].0),
                "duplicate variant name",
            ));
        }
        if let Some((name, _)) = entries.iter().find(|(_, value)| !kind.admits(value)) {
            return Err(ValidationError::new(
                alloc::format!("variants.{name}"),
                value_type_message(kind),
            ));
        }
        let variants = Self { kind, entries };
        if kind == FlagType::Boolean && variants != Self::boolean() {
            return Err(ValidationError::new(
                "variants",
                "a boolean flag's variants are exactly {\"on\": true, \"off\": false}",
            ));
        }
        Ok(variants)
    }

    /// The type of every value.
    pub fn kind(&self) -> FlagType {
        self.kind
    }

    /// How many variants there are.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Always false: a flag has at least one variant.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The variant with this name.
    pub fn find(&self, name: &str) -> Option<VariantId> {
        self.entries
            .binary_search_by(|(known, _)| known.as_str().cmp(name))
            .ok()
            .and_then(|index| u8::try_from(index).ok())
            .map(VariantId)
    }

    /// [`Variants::find`], with an error naming `field` when there is no such variant.
    #[cfg(feature = "serde")]
    pub(crate) fn resolve(&self, name: &str, field: &str) -> Result<VariantId, ValidationError> {
        self.find(name).ok_or_else(|| {
            ValidationError::new(
                field,
                alloc::format!("no variant named {:?}", crate::echo(name)),
            )
        })
    }

    /// The name of a variant of these variants.
    pub fn name(&self, id: VariantId) -> &str {
        self.entries
            .get(id.index())
            .map_or("", |(name, _)| name.as_str())
    }

    /// The value of a variant of these variants.
    pub fn value(&self, id: VariantId) -> Option<&VariantValue> {
        self.entries.get(id.index()).map(|(_, value)| value)
    }

    /// Every variant with its id, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (VariantId, &VariantName, &VariantValue)> {
        self.entries
            .iter()
            .zip(0u8..)
            .map(|((name, value), id)| (VariantId(id), name, value))
    }

    /// Whether `id` is one of these variants.
    pub(crate) fn contains(&self, id: VariantId) -> bool {
        id.index() < self.entries.len()
    }
}

/// What a variant's value must be, for a flag of type `kind`.
pub(crate) fn value_type_message(kind: FlagType) -> &'static str {
    match kind {
        FlagType::Boolean => "must be a boolean (the flag's type)",
        FlagType::String => "must be a string (the flag's type)",
        FlagType::Number => "must be a finite number (the flag's type)",
        FlagType::Object => "must be a JSON object (the flag's type)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> VariantName {
        VariantName::parse(text).unwrap()
    }

    #[test]
    fn names_follow_the_key_alphabet_up_to_64_characters() {
        assert!(VariantName::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "has space", "ü", &"a".repeat(65)] {
            assert!(VariantName::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn variants_are_sorted_and_found_by_name() {
        let variants = Variants::new(
            FlagType::String,
            alloc::vec![
                (name("c"), VariantValue::String("C".into())),
                (name("a"), VariantValue::String("A".into())),
            ],
        )
        .unwrap();
        let a = variants.find("a").unwrap();
        assert_eq!(variants.name(a), "a");
        assert_eq!(variants.value(a), Some(&VariantValue::String("A".into())));
        assert_eq!(variants.find("b"), None);
        assert_eq!(
            variants
                .iter()
                .map(|(_, n, _)| n.as_str())
                .collect::<Vec<_>>(),
            ["a", "c"]
        );
    }

    #[test]
    fn refuses_duplicates_wrong_types_and_odd_booleans() {
        let dup = Variants::new(
            FlagType::Number,
            alloc::vec![
                (name("x"), VariantValue::Number(Number::from(1))),
                (name("x"), VariantValue::Number(Number::from(2))),
            ],
        );
        assert_eq!(
            dup.unwrap_err().to_string(),
            "variants.x: duplicate variant name"
        );
        let wrong = Variants::new(
            FlagType::Number,
            alloc::vec![(name("x"), VariantValue::String("1".into()))],
        );
        assert_eq!(
            wrong.unwrap_err().to_string(),
            "variants.x: must be a finite number (the flag's type)"
        );
        let odd = Variants::new(
            FlagType::Boolean,
            alloc::vec![
                (name("on"), VariantValue::Bool(false)),
                (name("off"), VariantValue::Bool(true)),
            ],
        );
        assert!(odd.is_err());
        assert_eq!(
            Variants::boolean().find("on"),
            Some(Variants::boolean_id(true))
        );
    }
}
