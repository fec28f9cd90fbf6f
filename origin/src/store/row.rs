//! Rows become domain values once, here: a `flags` row becomes a [`StoredFlag`] or, when any of its
//! columns does not read, an [`UnreadableFlag`] that names it, so that one bad row (a hand edit, a
//! bug of an older version) is left out of what it cannot be part of and never fails the rows
//! around it. An `audit_log` row likewise becomes an [`AuditEntry`] whose unreadable `before` or
//! `after` is `null` and named, or, when its own columns do not read, an [`UnreadableEntry`].
//!
//! Columns are decoded one by one into `Option`s by the dialect (`sql/read.rs`), so a column of the
//! wrong type in SQLite's dynamic typing is a reason here, not a query error.

use chrono::{DateTime, Utc};
use evaluator::{Environment, Flag, FlagKey, RolloutPercentage, RuleList};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::flag::{StoredFlag, Version};
use super::model::{timestamp, AuditEntry};

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

/// One `flags` row, each column as the dialect could decode it (ids and rules as text).
#[derive(Debug, Clone, Default)]
pub struct FlagRow {
    pub id: Option<String>,
    pub key: Option<String>,
    pub environment: Option<String>,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub rollout_percentage: Option<i32>,
    pub rules: Option<String>,
    pub version: Option<i64>,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
}

fn column<'r, T>(value: &'r Option<T>, name: &str) -> Result<&'r T, String> {
    value
        .as_ref()
        .ok_or_else(|| format!("column {name}: missing or not of its type"))
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
        let id = column(&self.id, "id")?;
        let id = Uuid::parse_str(id).map_err(|_| format!("id: {id:?} is not a UUID"))?;
        let key = FlagKey::parse(column(&self.key, "key")?).map_err(|e| e.to_string())?;
        let environment = Environment::parse(column(&self.environment, "environment")?)
            .map_err(|e| e.to_string())?;
        let rollout = *column(&self.rollout_percentage, "rollout_percentage")?;
        let rollout = u8::try_from(rollout)
            .ok()
            .and_then(|p| RolloutPercentage::new(p).ok())
            .ok_or_else(|| format!("rolloutPercentage: {rollout} is not from 0 to 100"))?;
        let rules: RuleList = serde_json::from_str(column(&self.rules, "rules")?)
            .map_err(|e| format!("rules: {e}"))?;
        let version = *column(&self.version, "version")?;
        let version = Version::from_column(version)
            .ok_or_else(|| format!("version: {version} is not from 1 up"))?;
        Ok(StoredFlag {
            id,
            environment,
            version,
            created_at: *column(&self.created_at, "created_at")?,
            updated_at: *column(&self.updated_at, "updated_at")?,
            flag: Flag {
                key,
                description: column(&self.description, "description")?.clone(),
                enabled: *column(&self.enabled, "enabled")?,
                rollout_percentage: rollout,
                rules,
            },
        })
    }

    /// The stored version, when it decodes and is not negative: what `If-Match` compares on a row
    /// that may not read as a flag.
    pub fn stored_version(&self) -> Option<u64> {
        self.version.and_then(|v| u64::try_from(v).ok())
    }

    /// What can be recovered of the row, as the audit log keeps it when an unreadable flag is
    /// deleted or killed: the flag's fields that decode, under their API names, and `rules` as the
    /// stored JSON (or, when it is not JSON, as the stored text in a string). It does not read back
    /// as a flag, so the audit API shows it as unreadable; the row keeps it for a repair by hand.
    pub fn recovered_json(&self) -> String {
        let mut map = Map::new();
        let mut put = |name: &str, value: Option<Value>| {
            if let Some(value) = value {
                map.insert(name.to_owned(), value);
            }
        };
        put("id", self.id.clone().map(Value::from));
        put("key", self.key.clone().map(Value::from));
        put("environment", self.environment.clone().map(Value::from));
        put("description", self.description.clone().map(Value::from));
        put("enabled", self.enabled.map(Value::from));
        put(
            "rolloutPercentage",
            self.rollout_percentage.map(Value::from),
        );
        put(
            "rules",
            self.rules.as_ref().map(|text| {
                serde_json::from_str::<Value>(text).unwrap_or_else(|_| Value::from(text.as_str()))
            }),
        );
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
}

impl AuditRow {
    /// The entry; a `before` or `after` that is not a readable flag becomes `null` and is named in
    /// the entry's `unreadable`. Logs what it cannot read.
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
        let mut side = |name: &'static str,
                        stored: &Option<Option<String>>|
         -> Option<StoredFlag> {
            let parsed = match stored {
                Some(None) => return None,
                Some(Some(json)) => StoredFlag::from_json(json),
                None => Err("column cannot be decoded".to_owned()),
            };
            parsed
                .map_err(|reason| {
                    tracing::warn!(id = %id_text, side = name, %reason, "audit entry: stored flag cannot be read; shown as null");
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
            rollout_percentage: Some(10),
            rules: Some(
                r#"[{"field":"id","operator":"eq","value":1.7976931348623157e308}]"#.into(),
            ),
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
                rollout_percentage: Some(101),
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
        };
        let entry = audit.read().unwrap();
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
