//! The store's inputs and outputs, and the dialect-free steps of a write (building, patching, auditing).

use chrono::{DateTime, SecondsFormat, Utc};
use evaluator::{Environment, Flag, FlagKey, Segment, SegmentKey};
use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::flag::{definition_json, StoredFlag, Version};
use super::row::{UnreadableEntry, UnreadableFlag, UnreadableSegment};
use super::segment::StoredSegment;
use super::token::TokenRecord;
use super::StoreError;
use crate::access::EnvironmentSet;
use crate::revision::Revision;

/// A validated create request: the flag read whole by the evaluator, and where it goes.
#[derive(Debug, Clone)]
pub struct NewFlag {
    pub environment: Environment,
    pub flag: Flag,
}

/// A partial update: the body's fields (known ones only, checked by the HTTP layer), laid over the
/// stored definition and read whole by the evaluator inside the write's transaction (see
/// `Flag::from_json_patch`). A field given as `null` is left as it is.
#[derive(Debug, Clone, Default)]
pub struct FlagPatch {
    pub fields: Map<String, Value>,
}

/// A validated segment create request.
#[derive(Debug, Clone)]
pub struct NewSegment {
    pub environment: Environment,
    pub segment: Segment,
}

/// A segment's partial update, as [`FlagPatch`] is a flag's.
#[derive(Debug, Clone, Default)]
pub struct SegmentPatch {
    pub fields: Map<String, Value>,
}

#[derive(Debug, Clone, Default)]
pub struct FlagFilter {
    pub environment: Option<Environment>,
    pub key: Option<FlagKey>,
}

#[derive(Debug, Clone, Default)]
pub struct SegmentFilter {
    pub environment: Option<Environment>,
    pub key: Option<SegmentKey>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    CreateFlag,
    UpdateFlag,
    DeleteFlag,
    KillSwitch,
    CreateSegment,
    UpdateSegment,
    DeleteSegment,
    CreateToken,
    RevokeToken,
}

impl AuditAction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CreateFlag => "CREATE_FLAG",
            Self::UpdateFlag => "UPDATE_FLAG",
            Self::DeleteFlag => "DELETE_FLAG",
            Self::KillSwitch => "KILL_SWITCH",
            Self::CreateSegment => "CREATE_SEGMENT",
            Self::UpdateSegment => "UPDATE_SEGMENT",
            Self::DeleteSegment => "DELETE_SEGMENT",
            Self::CreateToken => "CREATE_TOKEN",
            Self::RevokeToken => "REVOKE_TOKEN",
        }
    }

    /// The `entity` of its entries.
    pub fn entity(self) -> &'static str {
        match self {
            Self::CreateFlag | Self::UpdateFlag | Self::DeleteFlag | Self::KillSwitch => {
                AUDIT_ENTITY_FLAG
            }
            Self::CreateSegment | Self::UpdateSegment | Self::DeleteSegment => AUDIT_ENTITY_SEGMENT,
            Self::CreateToken | Self::RevokeToken => AUDIT_ENTITY_TOKEN,
        }
    }
}

/// One side (`before` or `after`) of an audit entry: the flag, the segment or the token (never its
/// secret) as it was.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Audited {
    Flag(StoredFlag),
    Segment(StoredSegment),
    Token(TokenRecord),
}

/// One audit log entry as the API returns it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub before: Option<Audited>,
    pub after: Option<Audited>,
    /// The name of the token that acted (entries from before tokens: what `x-actor` claimed).
    pub actor: String,
    /// The id of the token that acted (`ADMIN_TOKEN` or `EDGE_TOKEN` for the configured ones);
    /// `null` on entries written before tokens existed.
    pub actor_token_id: Option<String>,
    /// The caller's free-text `x-actor` note, if any.
    pub note: Option<String>,
    /// The environment of the flag or segment; `null` for tokens, which belong to none.
    pub environment: Option<String>,
    pub created_at: String,
    /// `"before"` and/or `"after"` when that side is stored but does not read as a flag or a
    /// segment (then it is `null`); absent when both read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<&'static str>,
}

#[derive(Debug, Clone)]
pub struct AuditQuery {
    pub entity_id: Option<String>,
    pub limit: u32,
    /// Entries strictly older than this position (the `seq` a previous page's cursor names).
    pub before: Option<i64>,
    /// Only entries of these environments (a scoped token's); `None`: every entry, those of no
    /// environment (tokens) included.
    pub environments: Option<EnvironmentSet>,
}

#[derive(Debug, Clone)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// The position to pass as `before` for the next page; `None` on the last page.
    pub next_cursor: Option<i64>,
    /// Entries of this page whose own columns cannot be read, left out of `entries`.
    pub unreadable: Vec<UnreadableEntry>,
}

/// `{environment, revision, flags, segments}`: what `GET /api/flags/snapshot` serves and the
/// shared cache holds. The edges and the npm package read it as an `evaluator::Snapshot`, which
/// keeps what evaluates of each flag and segment and checks the rest.
#[derive(Debug, Clone, Serialize)]
pub struct FlagSnapshot {
    pub environment: Environment,
    pub revision: u64,
    /// Sorted by key.
    pub flags: Vec<StoredFlag>,
    /// Sorted by key.
    pub segments: Vec<StoredSegment>,
}

/// An environment's flags and segments as the store holds them: the snapshot of the readable ones
/// and the rows left out of it because they cannot be read.
#[derive(Debug, Clone)]
pub struct StoredSnapshot {
    pub snapshot: FlagSnapshot,
    pub unreadable: Vec<UnreadableFlag>,
    pub unreadable_segments: Vec<UnreadableSegment>,
}

/// The result of a write and the revision each environment it changed is at now (the caches must
/// not serve those environments below that revision again): what `admin::Admin` invalidates.
#[derive(Debug, Clone)]
pub struct Written<T> {
    pub value: T,
    pub revisions: Vec<Revision>,
}

pub const AUDIT_ENTITY_FLAG: &str = "FeatureFlag";
pub const AUDIT_ENTITY_TOKEN: &str = "Token";
pub const AUDIT_ENTITY_SEGMENT: &str = "Segment";

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
        flag: new.flag,
    }
}

pub fn create_segment(new: NewSegment, at: DateTime<Utc>) -> StoredSegment {
    StoredSegment {
        id: Uuid::new_v4(),
        environment: new.environment,
        version: Version::FIRST,
        created_at: at,
        updated_at: at,
        segment: new.segment,
    }
}

/// The next version of a flag or segment `id`; `Corrupt` past the column's range.
fn next_version(version: Version, what: &str, id: Uuid) -> Result<Version, StoreError> {
    version.next().ok_or_else(|| {
        StoreError::Corrupt(format!(
            "{what} {id}: version {} cannot grow",
            version.get()
        ))
    })
}

/// The flag after `patch` (its definition overlaid and read whole), one version on and updated
/// `at`; `None` when the patch changes nothing (`{}`, or only the values already there): then
/// nothing is written, nothing bumped and nothing audited, so the edges have nothing to
/// re-download. `Invalid` when the result is not a valid flag.
pub fn patched(
    before: &StoredFlag,
    patch: &FlagPatch,
    at: DateTime<Utc>,
) -> Result<Option<StoredFlag>, StoreError> {
    let definition = definition_json(&before.flag).map_err(StoreError::Corrupt)?;
    let flag = Flag::from_json_patch(definition, &patch.fields).map_err(StoreError::Invalid)?;
    if flag == before.flag {
        return Ok(None);
    }
    Ok(Some(StoredFlag {
        version: next_version(before.version, "flag", before.id)?,
        updated_at: at,
        flag,
        ..before.clone()
    }))
}

/// The flag switched off, one version on; `None` when it is off already.
pub fn disabled(before: &StoredFlag, at: DateTime<Utc>) -> Result<Option<StoredFlag>, StoreError> {
    if !before.flag.enabled {
        return Ok(None);
    }
    let mut flag = before.flag.clone();
    flag.enabled = false;
    Ok(Some(StoredFlag {
        version: next_version(before.version, "flag", before.id)?,
        updated_at: at,
        flag,
        ..before.clone()
    }))
}

/// [`patched`] for a segment.
pub fn patched_segment(
    before: &StoredSegment,
    patch: &SegmentPatch,
    at: DateTime<Utc>,
) -> Result<Option<StoredSegment>, StoreError> {
    let definition = match serde_json::to_value(&before.segment) {
        Ok(Value::Object(map)) => map,
        _ => return Err(StoreError::Corrupt("a segment does not serialize".into())),
    };
    let segment =
        Segment::from_json_patch(definition, &patch.fields).map_err(StoreError::Invalid)?;
    if segment == before.segment {
        return Ok(None);
    }
    Ok(Some(StoredSegment {
        version: next_version(before.version, "segment", before.id)?,
        updated_at: at,
        segment,
        ..before.clone()
    }))
}

/// The definition columns a flag is written as (see docs/origin.md, "Storage"): a boolean flag's
/// fixed variants and off variant as NULL, so a flag written as version 1 wrote it is stored as
/// migration 0003 left the rows of version 1; JSON in the serialization the API answers.
#[derive(Debug, Clone, PartialEq)]
pub struct FlagColumns {
    pub flag_type: String,
    pub variants: Option<String>,
    pub off_variant: Option<String>,
    pub prerequisites: String,
    pub rules: String,
    pub rollout_percentage: Option<i32>,
    pub fallthrough: Option<String>,
}

impl FlagColumns {
    pub fn of(flag: &Flag) -> Result<Self, StoreError> {
        let definition = definition_json(flag).map_err(StoreError::Corrupt)?;
        let text = |name: &str| definition.get(name).map(Value::to_string);
        let boolean = flag.flag_type() == evaluator::FlagType::Boolean;
        Ok(Self {
            flag_type: flag.flag_type().as_str().to_owned(),
            variants: text("variants").filter(|_| !boolean),
            off_variant: definition
                .get("offVariant")
                .and_then(Value::as_str)
                .filter(|_| !boolean)
                .map(str::to_owned),
            prerequisites: text("prerequisites").unwrap_or_else(|| "[]".into()),
            rules: text("rules").unwrap_or_else(|| "[]".into()),
            rollout_percentage: match flag.fallthrough() {
                evaluator::Fallthrough::Rollout(percent) => Some(i32::from(percent.get())),
                evaluator::Fallthrough::Serve(_) => None,
            },
            fallthrough: text("fallthrough"),
        })
    }
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
    /// The entry of a write to the flag or segment `id`, with it as it was and as it is now.
    pub fn new<T: Serialize>(
        action: AuditAction,
        id: Uuid,
        before: Option<&T>,
        after: Option<&T>,
        at: DateTime<Utc>,
    ) -> Result<Self, StoreError> {
        let json = |side: Option<&T>| {
            side.map(serde_json::to_string)
                .transpose()
                .map_err(|e| StoreError::Corrupt(format!("{id}: {e}")))
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
        let flag =
            serde_json::json!({"key": "checkout", "description": "d", "rolloutPercentage": 10});
        NewFlag {
            environment: Environment::Prod,
            flag: Flag::from_json_value(&flag).unwrap(),
        }
    }

    fn patch(json: Value) -> FlagPatch {
        FlagPatch {
            fields: json.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn a_patch_changes_only_what_it_names_and_bumps_the_version() {
        let created = DateTime::from_timestamp_millis(1_700_000_000_000).unwrap();
        let before = create(new_flag(), created);
        assert_eq!(before.version, Version::FIRST);
        let at = now();
        let after = patched(&before, &patch(serde_json::json!({"enabled": true})), at)
            .unwrap()
            .expect("a change");
        assert!(after.flag.enabled);
        assert_eq!(after.flag.description, "d");
        assert_eq!(
            after.flag.fallthrough(),
            &evaluator::Fallthrough::Rollout(evaluator::RolloutPercentage::new(10).unwrap())
        );
        assert_eq!(after.version.get(), 2);
        assert_eq!(after.id, before.id);
        assert_eq!(after.environment, before.environment);
        assert_eq!((after.created_at, after.updated_at), (created, at));
    }

    #[test]
    fn a_patch_that_changes_nothing_makes_no_new_version() {
        let before = create(new_flag(), now());
        assert_eq!(
            patched(&before, &FlagPatch::default(), now()).unwrap(),
            None
        );
        let same = patch(serde_json::json!({
            "description": "d", "enabled": false, "rolloutPercentage": 10, "rules": [],
            "fallthrough": null
        }));
        assert_eq!(patched(&before, &same, now()).unwrap(), None);
    }

    #[test]
    fn rollout_and_fallthrough_replace_each_other() {
        let before = create(new_flag(), now());
        let served = patched(
            &before,
            &patch(serde_json::json!({"fallthrough": "on"})),
            now(),
        )
        .unwrap()
        .expect("a change");
        let json = serde_json::to_value(&served).unwrap();
        assert_eq!(json["fallthrough"], "on");
        assert!(json.get("rolloutPercentage").is_none(), "{json}");
        let back = patched(
            &served,
            &patch(serde_json::json!({"rolloutPercentage": 5})),
            now(),
        )
        .unwrap()
        .expect("a change");
        let json = serde_json::to_value(&back).unwrap();
        assert_eq!(json["rolloutPercentage"], 5);
        assert!(json.get("fallthrough").is_none(), "{json}");
        let both = patch(serde_json::json!({"rolloutPercentage": 5, "fallthrough": "on"}));
        match patched(&before, &both, now()) {
            Err(StoreError::Invalid(e)) => assert_eq!(
                e.to_string(),
                "rolloutPercentage: a flag has rolloutPercentage or fallthrough, not both"
            ),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_patch_is_checked_as_the_whole_flag_it_makes() {
        let before = create(new_flag(), now());
        let typed = patch(serde_json::json!({"type": "string", "variants": {"a": "A"}}));
        match patched(&before, &typed, now()) {
            Err(StoreError::Invalid(e)) => assert_eq!(e.field(), "offVariant"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_kill_switch_turns_off_only_what_is_on() {
        let mut on = create(new_flag(), now());
        assert_eq!(disabled(&on, now()).unwrap(), None);
        on.flag.enabled = true;
        let off = disabled(&on, now()).unwrap().expect("a change");
        assert!(!off.flag.enabled);
        assert_eq!(off.version.get(), 2);
    }

    #[test]
    fn timestamps_are_rfc3339_utc_with_millis() {
        let at = DateTime::from_timestamp_millis(1_700_000_000_123).unwrap();
        assert_eq!(timestamp(at), "2023-11-14T22:13:20.123Z");
    }
}
