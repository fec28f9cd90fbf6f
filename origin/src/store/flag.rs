//! The origin's flag: what the evaluator decides with, plus the bookkeeping the origin owns (id,
//! environment, version, timestamps), every field present and valid.
//!
//! A row becomes one in `row.rs` (or an `UnreadableFlag`), a write makes one in `model.rs`, and
//! every answer that holds a flag serializes one: the admin API, the audit log's `before` and
//! `after`, and the snapshot the edges and the shared cache hold. Nothing downstream fills a gap.

use chrono::{DateTime, Utc};
use evaluator::{Environment, Flag};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use serde_json::{Map, Value};
use uuid::Uuid;

use super::model::timestamp;

/// A flag's version: 1 on create, one more on every write that changes the flag. At most
/// `i64::MAX`, the largest the BIGINT column holds, so it is written back as it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(i64);

impl Version {
    pub const FIRST: Self = Self(1);

    /// `None` unless `version` is from 1 to `i64::MAX`.
    pub fn new(version: u64) -> Option<Self> {
        i64::try_from(version).ok().and_then(Self::from_column)
    }

    /// The version as the BIGINT column holds it; `None` unless it is at least 1.
    pub fn from_column(version: i64) -> Option<Self> {
        (version >= 1).then_some(Self(version))
    }

    pub fn get(self) -> u64 {
        self.0.unsigned_abs()
    }

    pub fn to_column(self) -> i64 {
        self.0
    }

    /// The version a change makes; `None` past the column's range (a hand edit, never a write).
    pub fn next(self) -> Option<Self> {
        self.0.checked_add(1).map(Self)
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.get())
    }
}

/// A flag as the origin stores and answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredFlag {
    pub id: Uuid,
    pub environment: Environment,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// What evaluates: key, description, enabled, type, variants, off variant, prerequisites,
    /// rules, fallthrough.
    pub flag: Flag,
}

impl AsRef<Flag> for StoredFlag {
    fn as_ref(&self) -> &Flag {
        &self.flag
    }
}

/// The fields every flag the audit log holds has carried since version 1. The fields version 2
/// added (`type`, `variants`, `offVariant`, `prerequisites`, `fallthrough`) take their defaults
/// when absent, as they do on create, so an entry written before version 2 reads as the boolean
/// flag it was.
const REQUIRED: [&str; 9] = [
    "id",
    "key",
    "environment",
    "description",
    "enabled",
    "rules",
    "version",
    "createdAt",
    "updatedAt",
];

/// `id`, the flag's definition (`Flag::serialize_fields`), then what the origin keeps about it.
impl Serialize for StoredFlag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut uuid = Uuid::encode_buffer();
        let mut s = serializer.serialize_struct("Flag", 14)?;
        s.serialize_field("id", &*self.id.hyphenated().encode_lower(&mut uuid))?;
        self.flag.serialize_fields(&mut s)?;
        s.serialize_field("environment", &self.environment)?;
        s.serialize_field("version", &self.version)?;
        s.serialize_field("createdAt", &timestamp(self.created_at))?;
        s.serialize_field("updatedAt", &timestamp(self.updated_at))?;
        s.end()
    }
}

/// A flag's definition as JSON, the fields `Flag::from_json_value` reads: what a PUT overlays and
/// what the store's columns are written from.
pub fn definition_json(flag: &Flag) -> Result<Map<String, Value>, String> {
    match serde_json::to_value(flag).map_err(|e| e.to_string())? {
        Value::Object(map) => Ok(map),
        _ => Err("a flag does not serialize as an object".into()),
    }
}

impl StoredFlag {
    /// Reads a flag as the audit log stores it: the fields of [`REQUIRED`] present, and every
    /// field valid (unknown ones ignored). What was recovered of an unreadable row lacks or breaks
    /// one of them (see `row.rs`), so it does not read. The error is for the log only, as it may
    /// quote stored data.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let (value, kept) = read_stored(text, &REQUIRED)?;
        let flag = Flag::from_json_value(&value).map_err(|e| e.to_string())?;
        let Bookkeeping {
            id,
            environment,
            version,
            created_at,
            updated_at,
        } = kept;
        Ok(Self {
            id,
            environment,
            version,
            created_at,
            updated_at,
            flag,
        })
    }
}

/// What the origin keeps about a flag or a segment besides its definition, checked.
pub(super) struct Bookkeeping {
    pub id: Uuid,
    pub environment: Environment,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `id`, `environment`, `version`, `createdAt`, `updatedAt` of a stored flag's or segment's JSON.
/// A flag or segment as the audit log stores it: a JSON object with every field of `required`
/// present, and the origin's bookkeeping read from it. The caller reads the definition from the
/// value. The error is for the log only, as it may quote stored data.
pub(super) fn read_stored(text: &str, required: &[&str]) -> Result<(Value, Bookkeeping), String> {
    let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let map = value.as_object().ok_or("not a JSON object")?;
    if let Some(missing) = required.iter().find(|name| field(map, name).is_err()) {
        return Err(format!("{missing}: missing"));
    }
    let kept = bookkeeping(map)?;
    Ok((value, kept))
}

pub(super) fn bookkeeping(map: &Map<String, Value>) -> Result<Bookkeeping, String> {
    let id = field(map, "id")?
        .as_str()
        .and_then(|id| Uuid::parse_str(id).ok())
        .ok_or("id: not a UUID")?;
    let environment =
        Environment::from_json_value(field(map, "environment")?).map_err(|e| e.to_string())?;
    let version = field(map, "version")?
        .as_u64()
        .and_then(Version::new)
        .ok_or("version: not an integer from 1 up")?;
    Ok(Bookkeeping {
        id,
        environment,
        version,
        created_at: time(map, "createdAt")?,
        updated_at: time(map, "updatedAt")?,
    })
}

/// A field that is there and not `null`.
pub(super) fn field<'v>(map: &'v Map<String, Value>, name: &str) -> Result<&'v Value, String> {
    map.get(name)
        .filter(|value| !value.is_null())
        .ok_or_else(|| format!("{name}: missing"))
}

fn time(map: &Map<String, Value>, name: &str) -> Result<DateTime<Utc>, String> {
    field(map, name)?
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|at| at.with_timezone(&Utc))
        .ok_or_else(|| format!("{name}: not an RFC 3339 timestamp"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use evaluator::{FlagKey, RolloutPercentage};

    const V1: &str = r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","key":"k","environment":"staging","description":"d","enabled":true,"rolloutPercentage":10,"rules":[{"field":"id","operator":"eq","value":1.7976931348623157e+308}],"version":3,"createdAt":"2023-11-14T22:13:20.123Z","updatedAt":"2023-11-14T22:13:21.000Z"}"#;
    const V2: &str = r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","key":"k","description":"d","enabled":true,"type":"boolean","variants":{"off":false,"on":true},"offVariant":"off","prerequisites":[],"rules":[{"field":"id","operator":"eq","value":1.7976931348623157e+308}],"rolloutPercentage":10,"environment":"staging","version":3,"createdAt":"2023-11-14T22:13:20.123Z","updatedAt":"2023-11-14T22:13:21.000Z"}"#;

    #[test]
    fn it_serializes_as_the_contract_s_flag_and_reads_back() {
        let flag = StoredFlag::from_json(V2).unwrap();
        assert_eq!(flag.environment, Environment::Staging);
        assert_eq!(flag.version.get(), 3);
        assert_eq!(flag.flag.key.as_str(), "k");
        assert_eq!(serde_json::to_string(&flag).unwrap(), V2);
    }

    #[test]
    fn a_version_1_entry_reads_as_the_same_boolean_flag() {
        let old = StoredFlag::from_json(V1).unwrap();
        assert_eq!(old, StoredFlag::from_json(V2).unwrap());
        assert_eq!(serde_json::to_string(&old).unwrap(), V2);
    }

    #[test]
    fn typed_flags_keep_their_fields() {
        let mut full: Value = serde_json::from_str(V2).unwrap();
        let map = full.as_object_mut().unwrap();
        map.remove("rolloutPercentage");
        map.insert("type".into(), "string".into());
        map.insert("variants".into(), serde_json::json!({"a": "A", "b": "B"}));
        map.insert("offVariant".into(), "a".into());
        map.insert(
            "rules".into(),
            serde_json::json!([{"field": "id", "operator": "eq", "value": "u", "serve": "b"}]),
        );
        map.insert("fallthrough".into(), serde_json::json!({"split": [{"variant": "a", "weight": 50000}, {"variant": "b", "weight": 50000}]}));
        let flag = StoredFlag::from_json(&full.to_string()).unwrap();
        let again: Value = serde_json::to_value(&flag).unwrap();
        assert_eq!(again["fallthrough"], full["fallthrough"]);
        assert_eq!(again["variants"], full["variants"]);
        assert!(again.get("rolloutPercentage").is_none());
        assert_eq!(StoredFlag::from_json(&again.to_string()).unwrap(), flag);
    }

    #[test]
    fn every_field_is_required_and_checked() {
        let full: Value = serde_json::from_str(V1).unwrap();
        for name in REQUIRED {
            let mut partial = full.clone();
            partial.as_object_mut().unwrap().remove(name);
            let reason = StoredFlag::from_json(&partial.to_string()).unwrap_err();
            assert_eq!(reason, format!("{name}: missing"));
        }
        for (name, bad) in [
            ("id", Value::from("7")),
            ("environment", Value::from("qa")),
            ("version", Value::from(0)),
            ("version", Value::from(-1)),
            ("version", Value::from(u64::MAX)),
            ("createdAt", Value::from("yesterday")),
            ("rolloutPercentage", Value::from(101)),
            ("rolloutPercentage", Value::from(false)),
            ("enabled", Value::from("yes")),
            ("variants", Value::from(false)),
            ("prerequisites", Value::from(false)),
            ("fallthrough", Value::from(false)),
        ] {
            let mut broken = full.clone();
            broken[name] = bad;
            let reason = StoredFlag::from_json(&broken.to_string()).unwrap_err();
            assert!(
                reason.starts_with(name) || reason.starts_with("rolloutPercentage"),
                "{name}: {reason}"
            );
        }
    }

    #[test]
    fn versions_stay_in_the_column_s_range() {
        assert_eq!(Version::new(0), None);
        assert_eq!(Version::new(1), Some(Version::FIRST));
        assert_eq!(Version::new(1 << 63), None);
        assert_eq!(Version::from_column(-1), None);
        let last = Version::from_column(i64::MAX).unwrap();
        assert_eq!(last.next(), None);
        assert_eq!(last.get(), i64::MAX.unsigned_abs());
        assert_eq!(Version::FIRST.next().map(Version::get), Some(2));
    }

    #[test]
    fn the_evaluator_s_part_compiles_as_it_is() {
        let mut flag = Flag::boolean(
            FlagKey::parse("k").unwrap(),
            true,
            Vec::new(),
            RolloutPercentage::new(100).unwrap(),
        )
        .unwrap();
        flag.enabled = true;
        let at = DateTime::from_timestamp_millis(0).unwrap();
        let stored = StoredFlag {
            id: Uuid::nil(),
            environment: Environment::Dev,
            version: Version::FIRST,
            created_at: at,
            updated_at: at,
            flag,
        };
        let set = evaluator::CompiledFlagSet::from_flags(std::slice::from_ref(&stored)).unwrap();
        assert_eq!(
            set.evaluate_flag("k", &evaluator::User::new("u"))
                .map(|e| e.enabled),
            Some(true)
        );
    }
}
