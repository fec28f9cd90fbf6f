//! The store's inputs and outputs, and the dialect-free steps of a write (building, patching, auditing).

use chrono::{DateTime, SecondsFormat, Utc};
use evaluator::{Environment, Flag, FlagKey, RolloutPercentage, RuleList};
use serde::Serialize;
use uuid::Uuid;

use super::flag::{StoredFlag, Version};
use super::row::{UnreadableEntry, UnreadableFlag};
use super::StoreError;
use crate::revision::Revision;

/// A validated create request.
#[derive(Debug, Clone)]
pub struct NewFlag {
    pub key: FlagKey,
    pub environment: Environment,
    pub description: String,
    pub enabled: bool,
    pub rollout_percentage: RolloutPercentage,
    pub rules: RuleList,
}

/// A validated partial update: `None` leaves the field as it is.
#[derive(Debug, Clone, Default)]
pub struct FlagPatch {
    pub description: Option<String>,
    pub enabled: Option<bool>,
    pub rollout_percentage: Option<RolloutPercentage>,
    pub rules: Option<RuleList>,
}

#[derive(Debug, Clone, Default)]
pub struct FlagFilter {
    pub environment: Option<Environment>,
    pub key: Option<FlagKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    CreateFlag,
    UpdateFlag,
    DeleteFlag,
    KillSwitch,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateFlag => "CREATE_FLAG",
            Self::UpdateFlag => "UPDATE_FLAG",
            Self::DeleteFlag => "DELETE_FLAG",
            Self::KillSwitch => "KILL_SWITCH",
        }
    }
}

/// One audit log entry as the API returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<StoredFlag>,
    pub after: Option<StoredFlag>,
    pub actor: String,
    pub created_at: String,
    /// `"before"` and/or `"after"` when that side is stored but does not read as a flag (then it
    /// is `null`); absent when both read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub entity_id: Option<String>,
    pub limit: u32,
    /// Entries strictly older than this position (the `seq` a previous page's cursor names).
    pub before: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The position to pass as `before` for the next page; `None` on the last page.
    pub next_cursor: Option<i64>,
    /// Entries of this page whose own columns cannot be read, left out of `entries`.
    pub unreadable: Vec<UnreadableEntry>,
}

/// `{environment, revision, flags}`: what `GET /api/flags/snapshot` serves and the shared cache
/// holds. The edges and the npm package read it as an `evaluator::Snapshot`, which keeps what
/// evaluates of each flag and checks the rest.
#[derive(Debug, Clone, Serialize)]
pub struct FlagSnapshot {
    pub environment: Environment,
    pub revision: u64,
    /// Sorted by key.
    pub flags: Vec<StoredFlag>,
}

/// An environment's flags as the store holds them: the snapshot of the readable ones and the rows
/// left out of it because they cannot be read.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub snapshot: FlagSnapshot,
    pub unreadable: Vec<UnreadableFlag>,
}

/// The result of a write and the revision each environment it changed is at now (the caches must
/// not serve those environments below that revision again): what `admin::Admin` invalidates.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub revisions: Vec<Revision>,
}

pub const AUDIT_ENTITY: &str = "FeatureFlag";

/// The current time at millisecond precision, so that what is stored (PostgreSQL keeps microseconds,
/// SQLite the text) reads back exactly as it was answered.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now)
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn create(new: NewFlag, at: DateTime<Utc>) -> StoredFlag {
    StoredFlag {
        id: Uuid::new_v4(),
        environment: new.environment,
        version: Version::FIRST,
        created_at: at,
        updated_at: at,
        flag: Flag {
            key: new.key,
            description: new.description,
            enabled: new.enabled,
            rollout_percentage: new.rollout_percentage,
            rules: new.rules,
        },
    }
}

/// The flag after `patch`, one version on and updated `at`; `None` when the patch changes nothing
/// (`{}`, or only the values already there): then nothing is written, nothing bumped and nothing
/// audited, so the edges have nothing to re-download.
pub fn patched(
    before: &StoredFlag,
    patch: FlagPatch,
    at: DateTime<Utc>,
) -> Result<Option<StoredFlag>, StoreError> {
    let mut flag = before.flag.clone();
    if let Some(description) = patch.description {
        flag.description = description;
    }
    if let Some(enabled) = patch.enabled {
        flag.enabled = enabled;
    }
    if let Some(rollout) = patch.rollout_percentage {
        flag.rollout_percentage = rollout;
    }
    if let Some(rules) = patch.rules {
        flag.rules = rules;
    }
    if flag == before.flag {
        return Ok(None);
    }
    let version = before.version.next().ok_or_else(|| {
        StoreError::Corrupt(format!(
            "flag {}: version {} cannot grow",
            before.id,
            before.version.get()
        ))
    })?;
    Ok(Some(StoredFlag {
        version,
        updated_at: at,
        flag,
        ..before.clone()
    }))
}

/// The `If-Match` check of a write to one flag: `expected` (when given) must be its `current`
/// version (`None`: a version the store cannot read, which matches nothing but `*`).
pub fn check_version(current: Option<u64>, expected: Option<u64>) -> Result<(), StoreError> {
    match expected {
        Some(expected) if current != Some(expected) => Err(StoreError::Conflict(match current {
            Some(current) => {
                format!("If-Match: version {expected} is not the current version {current}")
            }
            None => format!("If-Match: version {expected}: the stored version cannot be read"),
        })),
        _ => Ok(()),
    }
}

/// The `If-Match` check of the kill switch, which writes one key in every environment at once:
/// `expected` (when given) must be the version of every flag of the key, given as (environment,
/// version) pairs; the conflict names the environments whose flag is at another version.
pub fn check_versions<'a>(
    key: &FlagKey,
    versions: impl IntoIterator<Item = (&'a str, Option<u64>)>,
    expected: Option<u64>,
) -> Result<(), StoreError> {
    let Some(expected) = expected else {
        return Ok(());
    };
    let differing: Vec<String> = versions
        .into_iter()
        .filter(|(_, version)| *version != Some(expected))
        .map(|(environment, version)| match version {
            Some(version) => format!("{environment} is at {version}"),
            None => format!("{environment} cannot be read"),
        })
        .collect();
    if differing.is_empty() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "If-Match: \"{key}\" is not at version {expected} in every environment: {}",
        differing.join(", ")
    )))
}

/// What a write hands to the dialect to insert into `audit_log`.
#[derive(Debug)]
pub struct AuditRecord {
    pub id: String,
    pub action: AuditAction,
    pub entity_id: String,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: DateTime<Utc>,
}

impl AuditRecord {
    /// The entry of a write to the flag `id`, with the flag as it was and as it is now.
    pub fn new(
        action: AuditAction,
        id: Uuid,
        before: Option<&StoredFlag>,
        after: Option<&StoredFlag>,
        at: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let json = |flag: Option<&StoredFlag>| {
            flag.map(serde_json::to_string)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("flag {id}: {e}")))
        };
        Ok(Self::raw(
            action,
            id.to_string(),
            json(before)?,
            json(after)?,
            at,
        ))
    }

    /// An entry whose sides are JSON already: what could be recovered of an unreadable row.
    pub fn raw(
        action: AuditAction,
        entity_id: String,
        before: Option<String>,
        after: Option<String>,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: Uuid::new_v4().to_string(),
            action,
            entity_id,
            before,
            after,
            at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conflict(result: Result<(), StoreError>) -> String {
        match result {
            Err(StoreError::Conflict(message)) => message,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    #[test]
    fn if_match_checks_one_version_or_every_version_of_a_key() {
        assert!(check_version(Some(3), None).is_ok());
        assert!(check_version(Some(3), Some(3)).is_ok());
        assert_eq!(
            conflict(check_version(Some(3), Some(2))),
            "If-Match: version 2 is not the current version 3"
        );
        assert_eq!(
            conflict(check_version(None, Some(2))),
            "If-Match: version 2: the stored version cannot be read"
        );
        let key = FlagKey::parse("k").unwrap();
        let versions = [("dev", Some(2)), ("prod", Some(2)), ("staging", Some(1))];
        assert!(check_versions(&key, versions, None).is_ok());
        assert!(check_versions(&key, [("dev", Some(2))], Some(2)).is_ok());
        assert_eq!(
            conflict(check_versions(&key, versions, Some(2))),
            "If-Match: \"k\" is not at version 2 in every environment: staging is at 1"
        );
        assert_eq!(
            conflict(check_versions(
                &key,
                [("dev", None), ("prod", Some(2))],
                Some(1)
            )),
            "If-Match: \"k\" is not at version 1 in every environment: dev cannot be read, prod \
             is at 2"
        );
    }

    fn new_flag() -> NewFlag {
        NewFlag {
            key: FlagKey::parse("checkout").unwrap(),
            environment: Environment::Prod,
            description: "d".into(),
            enabled: false,
            rollout_percentage: RolloutPercentage::new(10).unwrap(),
            rules: RuleList::default(),
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_bumps_the_version() {
        let created = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let before = create(new_flag(), created);
        assert_eq!(before.version, Version::FIRST);
        let at = now();
        let patch = FlagPatch {
            enabled: Some(true),
            ..FlagPatch::default()
        };
        let after = patched(&before, patch, at).unwrap().expect("a change");
        assert!(after.flag.enabled);
        assert_eq!(after.flag.description, "d");
        assert_eq!(after.flag.rollout_percentage.get(), 10);
        assert_eq!(after.version.get(), 2);
        assert_eq!(after.id, before.id);
        assert_eq!(after.environment, before.environment);
        assert_eq!((after.created_at, after.updated_at), (created, at));
    }

    #[test]
    fn a_patch_that_changes_nothing_makes_no_new_version() {
        let before = create(new_flag(), now());
        assert_eq!(patched(&before, FlagPatch::default(), now()).unwrap(), None);
        let same = FlagPatch {
            description: Some("d".into()),
            enabled: Some(false),
            rollout_percentage: Some(RolloutPercentage::new(10).unwrap()),
            rules: Some(RuleList::default()),
        };
        assert_eq!(patched(&before, same, now()).unwrap(), None);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(timestamp(at), "2023-11-14T22:13:20.123Z");
    }
}
