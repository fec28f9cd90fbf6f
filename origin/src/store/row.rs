//! Rows become domain values once, here: a `flags` row becomes a [`StoredFlag`] or, when any of its
//! columns does not read, an [`UnreadableFlag`] that names it, so that one bad row (a hand edit, a
//! bug of an older version) is left out of what it cannot be part of and never fails the rows
//! around it. An `audit_log` row likewise becomes an [`AuditEntry`] whose unreadable `before` or
//! `after` is `null` and named, or, when its own columns do not read, an [`UnreadableEntry`].
//!
//! A `segments` row becomes a [`StoredSegment`] or an [`UnreadableSegment`] the same way.
//!
//! Columns are decoded one by one into `Option`s by the dialect (`sql/read.rs`), so a column of the
//! wrong type in SQLite's dynamic typing is a reason here, not a query error. A nullable column is
//! an `Option<Option<_>>`: `Some(None)` is SQL NULL, `None` a value that does not decode.
//!
//! The definition columns of a row are put together as the contract's JSON document (a NULL
//! column is a field left out, which takes its default) and read whole by the evaluator
//! (`Flag::from_json_value`, `Segment::from_json_value`): a row is valid exactly when the same
//! document would be accepted by the API.

use chrono::{DateTime, Utc};
use evaluator::{Environment, Flag, Segment};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::flag::{Bookkeeping, StoredFlag, Version};
use super::model::{timestamp, AuditEntry, Audited, AUDIT_ENTITY_SEGMENT, AUDIT_ENTITY_TOKEN};
use super::segment::StoredSegment;
use super::token::TokenRecord;

/// A flag row that the store holds but cannot read, as the API reports it: enough to find it and
/// to delete it. Each field is the stored text (empty when that column cannot be read either).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableFlag {
    pub id: String,
    pub environment: String,
    pub key: String,
    /// Why it cannot be read: for the log only, as it may quote stored data.
    #[serde(skip)]
    pub reason: String,
}

impl UnreadableFlag {
    /// One log line per row each time a read finds it (a load, a list, a get).
    pub fn log(&self) {
        tracing::warn!(
            id = %self.id,
            environment = %self.environment,
            key = %self.key,
            reason = %self.reason,
            "stored flag cannot be read; it is left out until deleted or repaired"
        );
    }
}

/// The readable flags of a query and the rows that are not.
#[derive(Debug, Clone, Default)]
pub struct FlagList {
    pub flags: Vec<StoredFlag>,
    pub unreadable: Vec<UnreadableFlag>,
}

impl FlagList {
    /// Reads every row, logging each one that cannot be read.
    pub fn read(rows: impl IntoIterator<Item = FlagRow>) -> Self {
        let mut list = Self::default();
        for row in rows {
            match row.read() {
                Ok(flag) => list.flags.push(flag),
                Err(unreadable) => {
                    unreadable.log();
                    list.unreadable.push(unreadable);
                }
            }
        }
        list
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty() && self.unreadable.is_empty()
    }
}

/// One `flags` row, each column as the dialect could decode it (ids and JSON as text).
#[derive(Debug, Clone, Default)]
pub struct FlagRow {
    pub id: Option<String>,
    pub key: Option<String>,
    pub environment: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub flag_type: Option<String>,
    pub variants: Option<Option<String>>,
    pub off_variant: Option<Option<String>>,
    pub prerequisites: Option<String>,
    pub rules: Option<String>,
    pub rollout_percentage: Option<Option<i32>>,
    pub fallthrough: Option<Option<String>>,
    pub version: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn column<'r, T>(value: &'r Option<T>, name: &str) -> Result<&'r T, String> {
    value
        .as_ref()
        .ok_or_else(|| format!("column {name}: missing or not of its type"))
}

/// A JSON column's text as JSON; the error names the field it holds.
fn json_column(text: &str, field: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("{field}: not JSON: {e}"))
}

fn bookkeeping(
    id: &Option<String>,
    environment: &Option<String>,
    version: &Option<i64>,
    created_at: &Option<DateTime<Utc>>,
    updated_at: &Option<DateTime<Utc>>,
) -> Result<Bookkeeping, String> {
    let id = column(id, "id")?;
    let id = Uuid::parse_str(id).map_err(|_| format!("id: {id:?} is not a UUID"))?;
    let environment =
        Environment::parse(column(environment, "environment")?).map_err(|e| e.to_string())?;
    let version = *column(version, "version")?;
    let version = Version::from_column(version)
        .ok_or_else(|| format!("version: {version} is not from 1 up"))?;
    Ok(Bookkeeping {
        id,
        environment,
        version,
        created_at: *column(created_at, "created_at")?,
        updated_at: *column(updated_at, "updated_at")?,
    })
}

/// Puts `name` into a recovered document: its value when the column decoded, nothing when it is
/// NULL, and `false` when it did not decode. `false` is a value none of the fields that default
/// when absent accepts (`type`, `variants`, `offVariant`, `prerequisites`, `rolloutPercentage`,
/// `fallthrough`), so a recovered document never reads back as a flag with a default where its
/// row held something unreadable.
fn put_nullable(map: &mut Map<String, Value>, name: &str, value: Option<Option<Value>>) {
    match value {
        Some(Some(value)) => drop(map.insert(name.to_owned(), value)),
        Some(None) => {}
        None => drop(map.insert(name.to_owned(), Value::Bool(false))),
    }
}

/// A JSON column's text as JSON, or, when it is not JSON, as the stored text in a string.
fn json_or_text(text: &str) -> Value {
    serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::from(text))
}

impl FlagRow {
    /// The flag, or the report of why it cannot be read.
    pub fn read(&self) -> Result<StoredFlag, UnreadableFlag> {
        self.to_flag().map_err(|reason| UnreadableFlag {
            id: self.id.clone().unwrap_or_default(),
            environment: self.environment.clone().unwrap_or_default(),
            key: self.key.clone().unwrap_or_default(),
            reason,
        })
    }

    fn to_flag(&self) -> Result<StoredFlag, String> {
        let Bookkeeping {
            id,
            environment,
            version,
            created_at,
            updated_at,
        } = bookkeeping(
            &self.id,
            &self.environment,
            &self.version,
            &self.created_at,
            &self.updated_at,
        )?;
        let mut definition = Map::new();
        let mut put = |name: &str, value: Value| drop(definition.insert(name.to_owned(), value));
        put("key", Value::from(column(&self.key, "key")?.as_str()));
        put(
            "description",
            Value::from(column(&self.description, "description")?.as_str()),
        );
        put("enabled", Value::from(*column(&self.enabled, "enabled")?));
        put(
            "type",
            Value::from(column(&self.flag_type, "flag_type")?.as_str()),
        );
        if let Some(text) = column(&self.variants, "variants")? {
            put("variants", json_column(text, "variants")?);
        }
        if let Some(name) = column(&self.off_variant, "off_variant")? {
            put("offVariant", Value::from(name.as_str()));
        }
        put(
            "prerequisites",
            json_column(
                column(&self.prerequisites, "prerequisites")?,
                "prerequisites",
            )?,
        );
        put(
            "rules",
            json_column(column(&self.rules, "rules")?, "rules")?,
        );
        // One of the two, never neither: a row must not take the default of a column it lacks.
        match (
            column(&self.rollout_percentage, "rollout_percentage")?,
            column(&self.fallthrough, "fallthrough")?,
        ) {
            (None, None) => return Err("rollout_percentage and fallthrough: both NULL".into()),
            (percent, text) => {
                if let Some(percent) = percent {
                    put("rolloutPercentage", Value::from(*percent));
                }
                if let Some(text) = text {
                    put("fallthrough", json_column(text, "fallthrough")?);
                }
            }
        }
        let flag = Flag::from_json_value(&Value::Object(definition)).map_err(|e| e.to_string())?;
        Ok(StoredFlag {
            id,
            environment,
            version,
            created_at,
            updated_at,
            flag,
        })
    }

    /// The stored version, when it decodes and is not negative: what `If-Match` compares on a row
    /// that may not read as a flag.
    pub fn stored_version(&self) -> Option<u64> {
        self.version.and_then(|v| u64::try_from(v).ok())
    }

    /// What can be recovered of the row, as the audit log keeps it when an unreadable flag is
    /// deleted or killed: the flag's fields that decode, under their API names, JSON columns as
    /// the stored JSON (or, when it is not JSON, as the stored text in a string). It does not read
    /// back as a flag (a required column that does not decode is left out, a nullable one is
    /// `false`), so the audit API shows it as unreadable; the row keeps it for a repair by hand.
    pub fn recovered_json(&self) -> String {
        let mut map = Map::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        };
        put("id", self.id.clone().map(Value::from));
        put("key", self.key.clone().map(Value::from));
        put("description", self.description.clone().map(Value::from));
        put("enabled", self.enabled.map(Value::from));
        put("rules", self.rules.as_deref().map(json_or_text));
        put("environment", self.environment.clone().map(Value::from));
        put("version", self.version.map(Value::from));
        put(
            "createdAt",
            self.created_at.map(|t| Value::from(timestamp(t))),
        );
        put(
            "updatedAt",
            self.updated_at.map(|t| Value::from(timestamp(t))),
        );
        // Fields version 2 added default when absent: one that does not decode must not.
        put_nullable(
            &mut map,
            "type",
            self.flag_type.clone().map(|name| Some(Value::from(name))),
        );
        put_nullable(
            &mut map,
            "prerequisites",
            self.prerequisites
                .as_deref()
                .map(|text| Some(json_or_text(text))),
        );
        put_nullable(
            &mut map,
            "variants",
            self.variants
                .as_ref()
                .map(|text| text.as_deref().map(json_or_text)),
        );
        put_nullable(
            &mut map,
            "offVariant",
            self.off_variant
                .as_ref()
                .map(|name| name.clone().map(Value::from)),
        );
        // Neither (which the schema forbids) must not read as the default rollout either.
        let neither = self.rollout_percentage == Some(None) && self.fallthrough == Some(None);
        put_nullable(
            &mut map,
            "rolloutPercentage",
            self.rollout_percentage
                .filter(|_| !neither)
                .map(|p| p.map(Value::from)),
        );
        put_nullable(
            &mut map,
            "fallthrough",
            self.fallthrough
                .as_ref()
                .map(|text| text.as_deref().map(json_or_text)),
        );
        Value::Object(map).to_string()
    }
}

/// A segment row that the store holds but cannot read, as [`UnreadableFlag`] is for a flag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnreadableSegment {
    pub id: String,
    pub environment: String,
    pub key: String,
    /// Why it cannot be read: for the log only, as it may quote stored data.
    #[serde(skip)]
    pub reason: String,
}

impl UnreadableSegment {
    pub fn log(&self) {
        tracing::warn!(
            id = %self.id,
            environment = %self.environment,
            key = %self.key,
            reason = %self.reason,
            "stored segment cannot be read; it is left out until deleted or repaired"
        );
    }
}

/// The readable segments of a query and the rows that are not.
#[derive(Debug, Clone, Default)]
pub struct SegmentList {
    pub segments: Vec<StoredSegment>,
    pub unreadable: Vec<UnreadableSegment>,
}

impl SegmentList {
    /// Reads every row, logging each one that cannot be read.
    pub fn read(rows: impl IntoIterator<Item = SegmentRow>) -> Self {
        let mut list = Self::default();
        for row in rows {
            match row.read() {
                Ok(segment) => list.segments.push(segment),
                Err(unreadable) => {
                    unreadable.log();
                    list.unreadable.push(unreadable);
                }
            }
        }
        list
    }
}

/// One `segments` row, each column as the dialect could decode it.
#[derive(Debug, Clone, Default)]
pub struct SegmentRow {
    pub id: Option<String>,
    pub key: Option<String>,
    pub environment: Option<String>,
    pub description: Option<String>,
    pub include: Option<String>,
    pub rules: Option<String>,
    pub version: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

impl SegmentRow {
    /// The segment, or the report of why it cannot be read.
    pub fn read(&self) -> Result<StoredSegment, UnreadableSegment> {
        self.to_segment().map_err(|reason| UnreadableSegment {
            id: self.id.clone().unwrap_or_default(),
            environment: self.environment.clone().unwrap_or_default(),
            key: self.key.clone().unwrap_or_default(),
            reason,
        })
    }

    fn to_segment(&self) -> Result<StoredSegment, String> {
        let Bookkeeping {
            id,
            environment,
            version,
            created_at,
            updated_at,
        } = bookkeeping(
            &self.id,
            &self.environment,
            &self.version,
            &self.created_at,
            &self.updated_at,
        )?;
        let definition = serde_json::json!({
            "key": column(&self.key, "key")?,
            "description": column(&self.description, "description")?,
            "include": json_column(column(&self.include, "include")?, "include")?,
            "rules": json_column(column(&self.rules, "rules")?, "rules")?,
        });
        let segment = Segment::from_json_value(&definition).map_err(|e| e.to_string())?;
        Ok(StoredSegment {
            id,
            environment,
            version,
            created_at,
            updated_at,
            segment,
        })
    }

    /// The stored version, when it decodes and is not negative.
    pub fn stored_version(&self) -> Option<u64> {
        self.version.and_then(|v| u64::try_from(v).ok())
    }

    /// What can be recovered of the row when an unreadable segment is deleted (see
    /// [`FlagRow::recovered_json`]); every column is required, so one that does not decode is
    /// left out and the document does not read back as a segment.
    pub fn recovered_json(&self) -> String {
        let mut map = Map::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        };
        put("id", self.id.clone().map(Value::from));
        put("key", self.key.clone().map(Value::from));
        put("description", self.description.clone().map(Value::from));
        put("include", self.include.as_deref().map(json_or_text));
        put("rules", self.rules.as_deref().map(json_or_text));
        put("environment", self.environment.clone().map(Value::from));
        put("version", self.version.map(Value::from));
        put(
            "createdAt",
            self.created_at.map(|t| Value::from(timestamp(t))),
        );
        put(
            "updatedAt",
            self.updated_at.map(|t| Value::from(timestamp(t))),
        );
        Value::Object(map).to_string()
    }
}

/// An audit entry whose own columns cannot be read: left out of its page and named there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UnreadableEntry {
    pub id: String,
    pub entity_id: String,
}

/// One `audit_log` row, each column as the dialect could decode it.
#[derive(Debug, Clone, Default)]
pub struct AuditRow {
    pub seq: Option<i64>,
    pub id: Option<String>,
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    /// `Some(None)` is SQL NULL; `None` a column that cannot be decoded.
    pub before: Option<Option<String>>,
    pub after: Option<Option<String>>,
    pub actor: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    /// Nullable columns: `None` when they cannot be decoded, read as null (they only annotate).
    pub actor_token_id: Option<Option<String>>,
    pub note: Option<Option<String>>,
    pub environment: Option<Option<String>>,
}

impl AuditRow {
    /// The entry; a `before` or `after` that is not a readable flag (or segment, for an entry of
    /// the entity `Segment`) becomes `null` and is named in the entry's `unreadable`. Logs what it
    /// cannot read.
    pub fn read(&self) -> Result<AuditEntry, UnreadableEntry> {
        let id = self.id.clone().unwrap_or_default();
        let unreadable_entry = |reason: String| {
            tracing::warn!(%id, %reason, "audit entry cannot be read; left out of its page");
            UnreadableEntry {
                id: id.clone(),
                entity_id: self.entity_id.clone().unwrap_or_default(),
            }
        };
        let metadata = (|| {
            Ok::<_, String>((
                column(&self.id, "id")?.clone(),
                column(&self.action, "action")?.clone(),
                column(&self.entity, "entity")?.clone(),
                column(&self.entity_id, "entity_id")?.clone(),
                column(&self.actor, "actor")?.clone(),
                *column(&self.created_at, "created_at")?,
            ))
        })();
        let (id_text, action, entity, entity_id, actor, created_at) =
            metadata.map_err(unreadable_entry)?;
        let mut unreadable = Vec::new();
        let segment = entity == AUDIT_ENTITY_SEGMENT;
        let token = entity == AUDIT_ENTITY_TOKEN;
        let mut side = |name: &'static str, stored: &Option<Option<String>>| -> Option<Audited> {
            let parsed = match stored {
                Some(None) => return None,
                Some(Some(json)) if segment => StoredSegment::from_json(json).map(Audited::Segment),
                Some(Some(json)) if token => serde_json::from_str::<TokenRecord>(json)
                    .map(Audited::Token)
                    .map_err(|e| e.to_string()),
                Some(Some(json)) => StoredFlag::from_json(json).map(Audited::Flag),
                None => Err("column cannot be decoded".to_owned()),
            };
            parsed
                .map_err(|reason| {
                    tracing::warn!(id = %id_text, side = name, %reason, "audit entry: stored document cannot be read; shown as null");
                    unreadable.push(name);
                })
                .ok()
        };
        let before = side("before", &self.before);
        let after = side("after", &self.after);
        Ok(AuditEntry {
            id: id_text,
            action,
            entity,
            entity_id,
            before,
            after,
            actor,
            actor_token_id: self.actor_token_id.clone().flatten(),
            note: self.note.clone().flatten(),
            environment: self.environment.clone().flatten(),
            created_at: timestamp(created_at),
            unreadable,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row() -> FlagRow {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        FlagRow {
            id: Some("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
            key: Some("k".into()),
            environment: Some("prod".into()),
            description: Some("d".into()),
            enabled: Some(true),
            flag_type: Some("boolean".into()),
            variants: Some(None),
            off_variant: Some(None),
            prerequisites: Some("[]".into()),
            rules: Some(
                r#"[{"field":"id","operator":"eq","value":1.7976931348623157e308}]"#.into(),
            ),
            rollout_percentage: Some(Some(10)),
            fallthrough: Some(None),
            version: Some(3),
            created_at: Some(at),
            updated_at: Some(at),
        }
    }

    #[test]
    fn a_whole_row_reads_as_its_flag() {
        let flag = row().read().unwrap();
        assert_eq!(flag.flag.key.as_str(), "k");
        assert_eq!(flag.version.get(), 3);
        let json = serde_json::to_value(&flag).unwrap();
        assert_eq!(json["createdAt"], "2023-11-14T22:13:20.123Z");
        assert_eq!(json["id"], "67e55044-10b1-426f-9247-bb680e5fe0c8");
        assert_eq!(json["rules"][0]["value"], serde_json::json!(f64::MAX));
    }

    #[test]
    fn any_bad_column_makes_only_a_report_naming_the_row() {
        let bad_rows = [
            FlagRow {
                rules: Some(r#"[{"field":"id","operator":"like","value":"a"}]"#.into()),
                ..row()
            },
            FlagRow {
                rules: Some("not json".into()),
                ..row()
            },
            FlagRow {
                version: None,
                ..row()
            },
            FlagRow {
                rollout_percentage: Some(Some(101)),
                ..row()
            },
            FlagRow {
                rollout_percentage: Some(None),
                ..row()
            },
            FlagRow {
                fallthrough: None,
                ..row()
            },
            FlagRow {
                flag_type: Some("string".into()),
                ..row()
            },
            FlagRow {
                prerequisites: Some(r#"[{"flag":"k","variants":["on"]}]"#.into()),
                ..row()
            },
            FlagRow {
                key: Some("no spaces".into()),
                ..row()
            },
            FlagRow {
                version: Some(0),
                ..row()
            },
        ];
        for bad in bad_rows {
            let report = bad.read().unwrap_err();
            assert_eq!(report.id, "67e55044-10b1-426f-9247-bb680e5fe0c8");
            assert_eq!(report.environment, "prod");
            assert!(!report.reason.is_empty());
            let json = serde_json::to_value(&report).unwrap();
            assert_eq!(
                json.as_object().unwrap().len(),
                3,
                "no reason in the API: {json}"
            );
        }
        let list = FlagList::read([
            row(),
            FlagRow {
                rules: Some("[".into()),
                ..row()
            },
        ]);
        assert_eq!((list.flags.len(), list.unreadable.len()), (1, 1));
    }

    #[test]
    fn the_recovered_json_keeps_what_decodes() {
        let bad = FlagRow {
            rules: Some("not json".into()),
            version: None,
            ..row()
        };
        let json: Value = serde_json::from_str(&bad.recovered_json()).unwrap();
        assert_eq!(json["rules"], "not json");
        assert_eq!(json["enabled"], true);
        assert!(json.get("version").is_none());
        let odd = FlagRow {
            rules: Some(r#"[{"field":"id","operator":"like","value":"a"}]"#.into()),
            ..row()
        };
        let json: Value = serde_json::from_str(&odd.recovered_json()).unwrap();
        assert_eq!(json["rules"][0]["operator"], "like");
    }

    #[test]
    fn a_recovered_document_reads_back_exactly_when_its_row_does() {
        let whole = row();
        assert_eq!(
            StoredFlag::from_json(&whole.recovered_json()).unwrap(),
            whole.read().unwrap()
        );
        // A nullable column that does not decode must not come back as its default.
        for bad in [
            FlagRow {
                fallthrough: None,
                ..row()
            },
            FlagRow {
                variants: None,
                ..row()
            },
            FlagRow {
                off_variant: None,
                ..row()
            },
            FlagRow {
                rollout_percentage: None,
                ..row()
            },
            FlagRow {
                prerequisites: None,
                ..row()
            },
            FlagRow {
                flag_type: None,
                ..row()
            },
            FlagRow {
                rollout_percentage: Some(None),
                ..row()
            },
        ] {
            assert!(bad.read().is_err());
            let recovered = bad.recovered_json();
            assert!(StoredFlag::from_json(&recovered).is_err(), "{recovered}");
        }
    }

    fn segment_row() -> SegmentRow {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        SegmentRow {
            id: Some("67e55044-10b1-426f-9247-bb680e5fe0c8".into()),
            key: Some("beta".into()),
            environment: Some("prod".into()),
            description: Some("".into()),
            include: Some(r#"["u1"]"#.into()),
            rules: Some(r#"[{"field":"country","operator":"eq","value":"DE"}]"#.into()),
            version: Some(1),
            created_at: Some(at),
            updated_at: Some(at),
        }
    }

    #[test]
    fn a_segment_row_reads_or_names_itself() {
        let segment = segment_row().read().unwrap();
        assert_eq!(segment.segment.include.len(), 1);
        assert_eq!(
            StoredSegment::from_json(&segment_row().recovered_json()).unwrap(),
            segment
        );
        let list = SegmentList::read([
            segment_row(),
            SegmentRow {
                include: Some(r#"["u1","u1"]"#.into()),
                ..segment_row()
            },
            SegmentRow {
                rules: Some(r#"[{"segment":"other"}]"#.into()),
                ..segment_row()
            },
            SegmentRow {
                include: None,
                ..segment_row()
            },
        ]);
        assert_eq!((list.segments.len(), list.unreadable.len()), (1, 3));
        assert_eq!(list.unreadable[0].key, "beta");
        let bad = SegmentRow {
            include: None,
            ..segment_row()
        };
        assert!(StoredSegment::from_json(&bad.recovered_json()).is_err());
    }

    #[test]
    fn an_audit_side_that_does_not_read_is_null_and_named() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        let audit = AuditRow {
            seq: Some(1),
            id: Some("a".into()),
            action: Some("DELETE_FLAG".into()),
            entity: Some("FeatureFlag".into()),
            entity_id: Some("e".into()),
            before: Some(Some(r#"{"key":"k","rules":"not json"}"#.into())),
            after: Some(None),
            actor: Some("admin".into()),
            created_at: Some(at),
            actor_token_id: Some(Some("ADMIN_TOKEN".into())),
            note: None,
            environment: Some(Some("prod".into())),
        };
        let entry = audit.read().unwrap();
        assert_eq!(entry.actor_token_id.as_deref(), Some("ADMIN_TOKEN"));
        assert_eq!(entry.note, None);
        assert_eq!(entry.environment.as_deref(), Some("prod"));
        assert!(entry.before.is_none() && entry.after.is_none());
        assert_eq!(entry.unreadable, vec!["before"]);
        let broken = AuditRow {
            created_at: None,
            ..audit
        };
        assert_eq!(
            broken.read().unwrap_err(),
            UnreadableEntry {
                id: "a".into(),
                entity_id: "e".into()
            }
        );
    }
}
