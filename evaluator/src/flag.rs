//! A flag and the small types that make it up, each holding only valid values.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

use crate::error::ValidationError;
use crate::rule::{Condition, Match, Rule, RuleList};
use crate::serve::Serve;
use crate::variant::{FlagType, VariantId, VariantName, Variants, MAX_VARIANTS};

/// The longest key a flag may have, in characters.
const MAX_KEY_LEN: usize = 128;

/// A flag's key: 1 to 128 characters of `[A-Za-z0-9_.-]`, unique per environment.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FlagKey(String);

impl FlagKey {
    /// Checks `key` and wraps it; the error names the field `key`.
    pub fn parse(key: &str) -> Result<Self, ValidationError> {
        check_key(key).map(Self)
    }

    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The rule of flag and segment keys: 1 to 128 characters of `[A-Za-z0-9_.-]`. The error names the
/// field `key`.
pub(crate) fn check_key(key: &str) -> Result<String, ValidationError> {
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
    Ok(key.to_string())
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

/// A flag that must serve one of `variants` before this flag is decided further.
#[derive(Clone, Debug, PartialEq)]
pub struct Prerequisite {
    /// The flag of the same environment it depends on.
    pub flag: FlagKey,
    /// The variants of that flag that let this one go on: 1 to 50 names.
    variants: Vec<VariantName>,
}

impl Prerequisite {
    /// Checks that there are 1 to 50 variant names; the error names the field `variants`.
    pub fn new(flag: FlagKey, variants: Vec<VariantName>) -> Result<Self, ValidationError> {
        if variants.is_empty() || variants.len() > MAX_VARIANTS {
            return Err(ValidationError::new(
                "variants",
                alloc::format!(
                    "must name 1 to {MAX_VARIANTS} variants of the flag, got {}",
                    variants.len()
                ),
            ));
        }
        Ok(Self { flag, variants })
    }

    /// The names of the variants that let the dependent flag go on.
    pub fn variants(&self) -> &[VariantName] {
        &self.variants
    }

    /// Whether `name` is one of them.
    pub fn accepts(&self, name: &str) -> bool {
        self.variants.iter().any(|v| v.as_str() == name)
    }
}

/// What a user whom no rule matches gets.
#[derive(Clone, Debug, PartialEq)]
pub enum Fallthrough {
    /// A boolean flag's percentage rollout (the only fallthrough of version 1): "on" for the users
    /// whose bucket is below it, "off" for the others.
    Rollout(RolloutPercentage),
    /// A variant or a split.
    Serve(Serve),
}

/// A feature flag: what decides it.
///
/// The contract's Flag JSON also carries what the origin keeps about a flag (`id`, `environment`,
/// `version`, `createdAt`, `updatedAt`). None of it takes part in a decision, so it is not kept here
/// (the origin has its own stored flag around this one); [`Flag::from_json_value`] still checks it
/// when present, so that every runtime refuses the same flags.
///
/// The kill switch and the description can change freely; what refers to variants (the off
/// variant, prerequisites, rules, fallthrough) is built together by [`Flag::build`], so that every
/// serve names a variant the flag has.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    /// The key, unique per environment.
    pub key: FlagKey,
    /// Free text for people.
    pub description: String,
    /// The kill switch: `false` overrides everything.
    pub enabled: bool,
    variants: Variants,
    off_variant: VariantId,
    prerequisites: Vec<Prerequisite>,
    rules: RuleList,
    fallthrough: Fallthrough,
}

/// The most prerequisites a flag may have.
pub(crate) const MAX_PREREQUISITES: usize = 10;

impl Flag {
    /// A boolean flag with this key, disabled, at 0%, without rules: the contract's defaults.
    pub fn new(key: FlagKey) -> Self {
        Self {
            key,
            description: String::new(),
            enabled: false,
            variants: Variants::boolean(),
            off_variant: Variants::boolean_id(false),
            prerequisites: Vec::new(),
            rules: RuleList::default(),
            fallthrough: Fallthrough::Rollout(RolloutPercentage::default()),
        }
    }

    /// A boolean flag of version 1's shape: rules that serve "on", then a percentage rollout.
    pub fn boolean(
        key: FlagKey,
        enabled: bool,
        rules: Vec<Match<Condition>>,
        rollout: RolloutPercentage,
    ) -> Result<Self, ValidationError> {
        let on = Serve::Variant(Variants::boolean_id(true));
        let rules = rules
            .into_iter()
            .map(|when| Rule::new(when, on.clone()))
            .collect::<Vec<_>>();
        let mut flag = Self::build(
            key,
            Variants::boolean(),
            Variants::boolean_id(false),
            Vec::new(),
            RuleList::try_from(rules)?,
            Fallthrough::Rollout(rollout),
        )?;
        flag.enabled = enabled;
        Ok(flag)
    }

    /// A disabled flag from its parts, checked together: every variant a serve or the off variant
    /// names is one of `variants`; a boolean flag's off variant is "off"; only a boolean flag has a
    /// percentage rollout; at most 10 prerequisites, none on the flag itself.
    pub fn build(
        key: FlagKey,
        variants: Variants,
        off_variant: VariantId,
        prerequisites: Vec<Prerequisite>,
        rules: RuleList,
        fallthrough: Fallthrough,
    ) -> Result<Self, ValidationError> {
        let boolean = variants.kind() == FlagType::Boolean;
        if !variants.contains(off_variant) {
            return Err(ValidationError::new("offVariant", "no such variant"));
        }
        if boolean && off_variant != Variants::boolean_id(false) {
            return Err(ValidationError::new(
                "offVariant",
                "a boolean flag's offVariant is \"off\"",
            ));
        }
        if prerequisites.len() > MAX_PREREQUISITES {
            return Err(ValidationError::new(
                "prerequisites",
                alloc::format!(
                    "at most {MAX_PREREQUISITES} prerequisites, got {}",
                    prerequisites.len()
                ),
            ));
        }
        if let Some(i) = prerequisites.iter().position(|p| p.flag == key) {
            return Err(ValidationError::new(
                alloc::format!("prerequisites[{i}].flag"),
                "a flag cannot be its own prerequisite",
            ));
        }
        for (i, rule) in rules.iter().enumerate() {
            check_serve(&variants, &rule.serve)
                .map_err(|e| e.within(&alloc::format!("rules[{i}].serve")))?;
        }
        match &fallthrough {
            Fallthrough::Rollout(_) if !boolean => {
                return Err(ValidationError::new(
                    "rolloutPercentage",
                    "only a boolean flag has a rolloutPercentage; give a fallthrough",
                ))
            }
            Fallthrough::Rollout(_) => {}
            Fallthrough::Serve(serve) => {
                check_serve(&variants, serve).map_err(|e| e.within("fallthrough"))?;
            }
        }
        Ok(Self {
            key,
            description: String::new(),
            enabled: false,
            variants,
            off_variant,
            prerequisites,
            rules,
            fallthrough,
        })
    }

    /// The type of every value the flag serves.
    pub fn flag_type(&self) -> FlagType {
        self.variants.kind()
    }

    /// The variants, sorted by name.
    pub fn variants(&self) -> &Variants {
        &self.variants
    }

    /// Served when the flag is off or a prerequisite fails.
    pub fn off_variant(&self) -> VariantId {
        self.off_variant
    }

    /// The flags this one depends on, in order.
    pub fn prerequisites(&self) -> &[Prerequisite] {
        &self.prerequisites
    }

    /// The targeting rules, in order.
    pub fn rules(&self) -> &RuleList {
        &self.rules
    }

    /// What a user whom no rule matches gets.
    pub fn fallthrough(&self) -> &Fallthrough {
        &self.fallthrough
    }

    /// The segments the rules name, in order, repeats included.
    pub fn segments(&self) -> impl Iterator<Item = &crate::segment::SegmentKey> {
        self.rules
            .iter()
            .flat_map(|rule| rule.conditions())
            .filter_map(|condition| match condition {
                Condition::InSegment(key) | Condition::NotInSegment(key) => Some(key),
                Condition::Compare(_) => None,
            })
    }
}

/// Every variant a serve names is one of `variants` (ids are only made by [`Variants`], but a serve
/// may come from another flag's).
fn check_serve(variants: &Variants, serve: &Serve) -> Result<(), ValidationError> {
    let known = |id: VariantId| variants.contains(id);
    match serve {
        Serve::Variant(id) if known(*id) => Ok(()),
        Serve::Variant(_) => Err(ValidationError::new("", "no such variant")),
        Serve::Split(split) => match split.slices().iter().position(|s| !known(s.variant)) {
            None => Ok(()),
            Some(i) => Err(ValidationError::new(
                alloc::format!("split[{i}].variant"),
                "no such variant",
            )),
        },
    }
}

impl AsRef<Flag> for Flag {
    fn as_ref(&self) -> &Flag {
        self
    }
}
