//! The origin's segment: the evaluator's [`Segment`] (key, description, include, rules) plus the
//! bookkeeping the origin owns, as [`StoredFlag`](super::StoredFlag) is for a flag.
//!
//! A row becomes one in `row.rs` (or an `UnreadableSegment`), a write makes one in `model.rs`; the
//! admin API, the audit log and the snapshot serialize it.

use chrono::{DateTime, Utc};
use evaluator::{Environment, Segment};
use serde::ser::{Serialize, SerializeStruct, Serializer};
use uuid::Uuid;

use super::flag::{read_stored, Bookkeeping, Version};
use super::model::timestamp;

/// A segment as the origin stores and answers it.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredSegment {
    pub id: Uuid,
    pub environment: Environment,
    pub version: Version,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub segment: Segment,
}

impl AsRef<Segment> for StoredSegment {
    fn as_ref(&self) -> &Segment {
        &self.segment
    }
}

/// Every field of the contract's Segment JSON.
const FIELDS: [&str; 9] = [
    "id",
    "key",
    "description",
    "include",
    "rules",
    "environment",
    "version",
    "createdAt",
    "updatedAt",
];

/// `id`, the segment's definition (`Segment::serialize_fields`), then what the origin keeps about
/// it: the same layout as a flag's.
impl Serialize for StoredSegment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut uuid = Uuid::encode_buffer();
        let mut s = serializer.serialize_struct("Segment", FIELDS.len())?;
        s.serialize_field("id", &*self.id.hyphenated().encode_lower(&mut uuid))?;
        self.segment.serialize_fields(&mut s)?;
        s.serialize_field("environment", &self.environment)?;
        s.serialize_field("version", &self.version)?;
        s.serialize_field("createdAt", &timestamp(self.created_at))?;
        s.serialize_field("updatedAt", &timestamp(self.updated_at))?;
        s.end()
    }
}

impl StoredSegment {
    /// Reads a segment as the audit log stores it: every field present and valid (unknown ones
    /// ignored). The error is for the log only, as it may quote stored data.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let (value, kept) = read_stored(text, &FIELDS)?;
        let segment = Segment::from_json_value(&value).map_err(|e| e.to_string())?;
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
            segment,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    const JSON: &str = r#"{"id":"67e55044-10b1-426f-9247-bb680e5fe0c8","key":"beta","description":"d","include":["u1","u2"],"rules":[{"field":"attributes.n","operator":"gte","value":1.7976931348623157e+308},{"all":[{"field":"country","operator":"eq","value":"DE"}]}],"environment":"prod","version":2,"createdAt":"2023-11-14T22:13:20.123Z","updatedAt":"2023-11-14T22:13:21.000Z"}"#;

    #[test]
    fn it_serializes_as_the_contract_s_segment_and_reads_back() {
        let segment = StoredSegment::from_json(JSON).unwrap();
        assert_eq!(segment.segment.key.as_str(), "beta");
        assert_eq!(segment.environment, Environment::Prod);
        assert_eq!(segment.version.get(), 2);
        assert_eq!(serde_json::to_string(&segment).unwrap(), JSON);
    }

    #[test]
    fn every_field_is_required_and_checked() {
        let full: Value = serde_json::from_str(JSON).unwrap();
        for name in FIELDS {
            let mut partial = full.clone();
            partial.as_object_mut().unwrap().remove(name);
            let reason = StoredSegment::from_json(&partial.to_string()).unwrap_err();
            assert_eq!(reason, format!("{name}: missing"));
        }
        for (name, bad) in [
            ("include", Value::from("u1")),
            ("rules", Value::from(false)),
            ("environment", Value::from("qa")),
            ("version", Value::from(0)),
        ] {
            let mut broken = full.clone();
            broken[name] = bad;
            let reason = StoredSegment::from_json(&broken.to_string()).unwrap_err();
            assert!(reason.starts_with(name), "{name}: {reason}");
        }
    }
}
