//! The bodies of the API as the OpenAPI document shows them: types written for the document only,
//! field for field the wire format (`docs/api.md`; the evaluator's readers in `evaluator/src/json/`
//! and its writer `write.rs`; the origin's `StoredFlag`, `AuditEntry`, `Health`, …).
//!
//! Why not derive on the real types: the domain crate stays free of any HTTP documentation
//! dependency, and its types do not look like their JSON (a `Flag` holds compiled variants and
//! resolved operators; its JSON is written by hand). So these mirror the JSON, and the integration
//! tests (`tests/api/openapi.rs`) check every answer of the server against them, so a field added
//! to the wire and not here (or the other way round) fails a test: every object is closed
//! (`deny_unknown_fields` → `additionalProperties: false`).
//!
//! They are never built: `Deserialize` is derived only so that the serde attributes (renames,
//! `untagged`, `deny_unknown_fields`), which utoipa reads, can be written, hence the `dead_code`
//! allowance.
#![allow(dead_code)]

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;
use utoipa::openapi::schema::{ArrayBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// Every error answer: `{"error": message}`; a 400's message starts with the path of the
/// offending field (`rules[1].all[0].operator: unknown operator "like"; …`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Error, example = json!({"error": "environment: required"}))]
pub struct ErrorBody {
    pub error: String,
}

/// One of the three environments; a flag or segment belongs to exactly one.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Dev,
    Staging,
    Prod,
}

/// The type of every value a flag serves.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FlagType {
    Boolean,
    String,
    Number,
    Object,
}

/// A value a variant serves: of the flag's `type` (an object at most 32 KiB as JSON).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum VariantValue {
    Boolean(bool),
    String(String),
    Number(f64),
    Object(BTreeMap<String, Value>),
}

/// A comparison's operand: a string, a number or a boolean.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Scalar {
    String(String),
    Number(f64),
    Boolean(bool),
}

/// What `value` a condition takes goes with its operator: one scalar (`eq`, `neq`), a non-empty
/// list of at most 10,000 (`in`, `not_in`), a string (`starts_with`, `ends_with`, `contains`, a
/// SemVer 2.0.0 version for `semver_*`, an RFC 3339 date-time for `before`/`after`), a number
/// (`lt`, `lte`, `gt`, `gte`) or a boolean (`exists`).
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ConditionValue {
    Scalar(Scalar),
    List(ScalarList),
}

/// The operand of `in` and `not_in`: 1 to 10,000 scalars (mixed types allowed). Written by hand:
/// the derive puts no bounds on a list that is a variant of an enum.
#[derive(Deserialize)]
pub struct ScalarList(Vec<Scalar>);

impl PartialSchema for ScalarList {
    fn schema() -> RefOr<Schema> {
        ArrayBuilder::new()
            .items(Ref::from_schema_name(Scalar::name()))
            .min_items(Some(1))
            .max_items(Some(10_000))
            .description(Some(
                "The operand of `in` and `not_in`: 1 to 10,000 scalars (mixed types allowed).",
            ))
            .into()
    }
}

impl ToSchema for ScalarList {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((Scalar::name().into(), Scalar::schema()));
        Scalar::schemas(schemas);
    }
}

/// The operators; see `docs/api.md` for what each holds on.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Operator {
    Eq,
    Neq,
    In,
    NotIn,
    StartsWith,
    EndsWith,
    Contains,
    Lt,
    Lte,
    Gt,
    Gte,
    SemverEq,
    SemverLt,
    SemverGt,
    Before,
    After,
    Exists,
}

/// `{"field", "operator", "value"}`: one test of the user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Comparison {
    /// `id`, `email`, `country` or `attributes.<path>` (non-empty keys separated by dots).
    #[schema(pattern = r"^(id|email|country|attributes(\.[^.]+)+)$")]
    pub field: String,
    pub operator: Operator,
    pub value: ConditionValue,
}

/// Holds when the user is a member of the segment (of the flag's environment).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InSegment {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub segment: String,
}

/// Holds when the user is not a member of the segment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NotInSegment {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub not_segment: String,
}

/// A condition of a flag: a comparison or a segment test.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Condition {
    Comparison(Comparison),
    InSegment(InSegment),
    NotInSegment(NotInSegment),
}

/// One slice of a split: a variant and its weight, out of 100,000.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Slice {
    pub variant: String,
    #[schema(maximum = 100000)]
    pub weight: u32,
}

/// A split: each user lands in one slice by the hash of `bucketBy` (default `id`), the flag's key
/// and the `salt`; the weights sum to 100,000.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Split {
    #[schema(min_items = 1)]
    pub split: Vec<Slice>,
    /// The user field the buckets are computed from (as a condition's `field`); only when given.
    #[schema(
        required = false,
        pattern = r"^(id|email|country|attributes(\.[^.]+)+)$"
    )]
    pub bucket_by: String,
    /// Only when given.
    #[schema(required = false, min_length = 1, max_length = 64)]
    pub salt: String,
}

/// What a rule or the fallthrough serves: a variant's name, or a split.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Serve {
    Variant(String),
    Split(Split),
}

/// A flag's rule that is one comparison.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComparisonRule {
    #[schema(pattern = r"^(id|email|country|attributes(\.[^.]+)+)$")]
    pub field: String,
    pub operator: Operator,
    pub value: ConditionValue,
    /// Left out: `"on"` on a boolean flag (required on the other types); a boolean flag's `"on"`
    /// is answered without it.
    #[schema(required = false)]
    pub serve: Serve,
}

/// A flag's rule on segment membership.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InSegmentRule {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub segment: String,
    #[schema(required = false)]
    pub serve: Serve,
}

/// A flag's rule on segment non-membership.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NotInSegmentRule {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub not_segment: String,
    #[schema(required = false)]
    pub serve: Serve,
}

/// A flag's rule that is a group: every condition must hold (groups do not nest).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupRule {
    #[schema(min_items = 1, max_items = 20)]
    pub all: Vec<Condition>,
    #[schema(required = false)]
    pub serve: Serve,
}

/// A rule of a flag; the first that matches decides.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum FlagRule {
    Comparison(ComparisonRule),
    InSegment(InSegmentRule),
    NotInSegment(NotInSegmentRule),
    Group(GroupRule),
}

/// A segment's group rule: comparisons only, all must hold.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComparisonGroup {
    #[schema(min_items = 1, max_items = 20)]
    pub all: Vec<Comparison>,
}

/// A rule of a segment: no `serve`, no segment conditions; any one matching makes a member.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum SegmentRule {
    Comparison(Comparison),
    Group(ComparisonGroup),
}

/// A flag of the same environment that must serve one of `variants` first.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Prerequisite {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub flag: String,
    #[schema(min_items = 1)]
    pub variants: Vec<String>,
}

/// A flag as the origin answers it, in this order: `id`, the definition, then `environment`,
/// `version`, `createdAt`, `updatedAt`. It has `rolloutPercentage` (boolean flags only) or
/// `fallthrough`, never both. A flag written for version 1 of the contract reads as the boolean
/// flag it is, with every field below.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Flag {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub key: String,
    pub description: String,
    /// `false` turns the flag off for everyone (its `offVariant`).
    pub enabled: bool,
    #[serde(rename = "type")]
    pub flag_type: FlagType,
    /// 1 to 50 variants, name → value (a boolean flag's are `{"off": false, "on": true}`).
    pub variants: BTreeMap<String, VariantValue>,
    pub off_variant: String,
    #[schema(max_items = 10)]
    pub prerequisites: Vec<Prerequisite>,
    #[schema(max_items = 100)]
    pub rules: Vec<FlagRule>,
    /// Boolean flags: the share of users no rule matched who get `"on"`.
    #[schema(required = false, maximum = 100)]
    pub rollout_percentage: u8,
    /// What a user no rule matched gets (instead of `rolloutPercentage`).
    #[schema(required = false)]
    pub fallthrough: Serve,
    pub environment: Environment,
    /// 1 on create, +1 on every change.
    #[schema(minimum = 1)]
    pub version: u64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `POST /api/admin/flags`: `key` and `environment`, and any of the definition's fields (their
/// defaults: a disabled boolean flag at 0 %, no prerequisites, no rules). `null` is "left out".
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FlagCreate {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub key: String,
    pub environment: Environment,
    pub description: Option<String>,
    pub enabled: Option<bool>,
    #[serde(rename = "type")]
    pub flag_type: Option<FlagType>,
    /// Required unless boolean.
    pub variants: Option<BTreeMap<String, VariantValue>>,
    /// Required unless boolean (a boolean flag's is `"off"`).
    pub off_variant: Option<String>,
    #[schema(max_items = 10)]
    pub prerequisites: Option<Vec<Prerequisite>>,
    #[schema(max_items = 100)]
    pub rules: Option<Vec<FlagRule>>,
    #[schema(maximum = 100)]
    pub rollout_percentage: Option<u8>,
    /// Required unless boolean; never with `rolloutPercentage`.
    pub fallthrough: Option<Serve>,
}

/// `PUT /api/admin/flags/{id}`: any of the definition's fields, laid over the stored flag and
/// checked as a whole flag; what is left out (or `null`) stays. `key` and `environment` cannot
/// change (400). Giving `rolloutPercentage` removes `fallthrough` and the other way round.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FlagUpdate {
    pub description: Option<String>,
    pub enabled: Option<bool>,
    #[serde(rename = "type")]
    pub flag_type: Option<FlagType>,
    pub variants: Option<BTreeMap<String, VariantValue>>,
    pub off_variant: Option<String>,
    #[schema(max_items = 10)]
    pub prerequisites: Option<Vec<Prerequisite>>,
    #[schema(max_items = 100)]
    pub rules: Option<Vec<FlagRule>>,
    #[schema(maximum = 100)]
    pub rollout_percentage: Option<u8>,
    pub fallthrough: Option<Serve>,
}

/// A stored flag or segment that cannot be read: enough to find and delete it (each field the
/// stored text, empty when that column cannot be read either).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnreadableRow {
    pub id: String,
    pub environment: String,
    pub key: String,
}

/// `{"flag": Flag}`; `GET /api/admin/flags/{id}` adds the flag's `usage`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagBody {
    pub flag: Flag,
    #[schema(required = false)]
    pub usage: FlagUsage,
}

/// How much a flag is evaluated, by every origin and edge worker, as of the last usage batches
/// (written every `USAGE_FLUSH_SECONDS`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct FlagUsage {
    /// Evaluations per variant name since `windowStart`; a variant not evaluated there is absent.
    pub last24h: BTreeMap<String, u64>,
    /// The start of the first hour counted: the window is the current hour and the 23 before it.
    #[schema(format = DateTime)]
    pub window_start: String,
    /// The last evaluation anywhere; `null` when never evaluated since usage was kept.
    #[schema(format = DateTime)]
    pub last_evaluated_at: Option<String>,
}

/// `{"flags": [Flag]}`, sorted by key then environment (the kill switch: by environment), and
/// `unreadable` only when stored rows cannot be read (they are left out of `flags`). The list of
/// `GET /api/admin/flags?include=usage` (or `?stale=`) adds `usage`: each listed flag's usage by
/// its id.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlagList {
    pub flags: Vec<Flag>,
    #[schema(required = false)]
    pub unreadable: Vec<UnreadableRow>,
    #[schema(required = false)]
    pub usage: BTreeMap<String, FlagUsage>,
}

/// `GET /api/admin/contexts`: recent evaluation contexts, the most recently seen first.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContextList {
    pub environment: Environment,
    /// Slots per environment (`CONTEXT_SAMPLE_SIZE`).
    pub size: u64,
    pub contexts: Vec<SampledContext>,
}

/// One context of the sample.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SampledContext {
    /// As `POST /api/evaluate` takes it.
    pub user: User,
    #[schema(format = DateTime)]
    pub seen_at: String,
}

/// `POST /api/usage`: what an edge worker counted since its last report, for one environment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    pub environment: Environment,
    /// At most 10,000 entries.
    #[schema(max_items = 10000)]
    pub counts: Vec<UsageEntry>,
}

/// Evaluations of one variant of one flag.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UsageEntry {
    pub flag: String,
    pub variant: String,
    #[schema(minimum = 1, maximum = 9007199254740991_u64)]
    pub count: u64,
    /// The last of them, in milliseconds since the Unix epoch (at most 5 minutes ahead of the
    /// origin's clock; a later time is refused, one ahead by less is taken as now).
    #[schema(maximum = 9007199254740991_u64)]
    pub last_evaluated_at: u64,
}

/// What `POST /api/usage` did with the entries.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsageAccepted {
    /// Added to the next usage batch.
    pub accepted: u64,
    /// Naming a flag or variant the environment does not have.
    pub ignored: u64,
    /// Not added: the origin holds too much usage that the store has not taken yet.
    pub dropped: u64,
}

/// `POST /api/admin/kill-switch`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KillSwitchRequest {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub key: String,
}

/// A named audience of one environment.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Segment {
    #[schema(format = "uuid")]
    pub id: String,
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub key: String,
    pub description: String,
    /// User ids that always belong: at most 10,000 distinct non-empty strings.
    #[schema(max_items = 10000)]
    pub include: Vec<String>,
    #[schema(max_items = 100)]
    pub rules: Vec<SegmentRule>,
    pub environment: Environment,
    #[schema(minimum = 1)]
    pub version: u64,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
}

/// `POST /api/admin/segments`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentCreate {
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,128}$")]
    pub key: String,
    pub environment: Environment,
    pub description: Option<String>,
    #[schema(max_items = 10000)]
    pub include: Option<Vec<String>>,
    #[schema(max_items = 100)]
    pub rules: Option<Vec<SegmentRule>>,
}

/// `PUT /api/admin/segments/{id}`: what is left out stays; `key` and `environment` cannot change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentUpdate {
    pub description: Option<String>,
    #[schema(max_items = 10000)]
    pub include: Option<Vec<String>>,
    #[schema(max_items = 100)]
    pub rules: Option<Vec<SegmentRule>>,
}

/// `{"segment": Segment}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentBody {
    pub segment: Segment,
}

/// `{"segments": [Segment]}`, sorted by key then environment, and `unreadable` only when stored
/// rows cannot be read.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentList {
    pub segments: Vec<Segment>,
    #[schema(required = false)]
    pub unreadable: Vec<UnreadableRow>,
}

/// What an audit entry records.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
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

/// The kind of what an entry is about.
#[derive(Deserialize, ToSchema)]
pub enum AuditEntity {
    FeatureFlag,
    Segment,
    Token,
}

/// A side of an entry: the flag, the segment or the token (never its secret) as it was.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum Audited {
    Flag(Flag),
    Segment(Segment),
    Token(Token),
}

/// What a token may do (docs/access.md).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Editor,
    Viewer,
    Server,
    Client,
}

/// The token that created a token.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokenCreator {
    /// A token id, or `ADMIN_TOKEN` for the bootstrap admin token.
    pub token_id: String,
    pub name: String,
}

/// A stored token: everything but its secret, which is answered once, at creation.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Token {
    #[schema(format = "uuid")]
    pub id: String,
    pub name: String,
    pub role: Role,
    /// Where it acts, in the order dev, staging, prod; every environment for an admin token.
    #[schema(min_items = 1, max_items = 3)]
    pub environments: Vec<Environment>,
    #[schema(format = DateTime)]
    pub created_at: String,
    pub created_by: TokenCreator,
    /// When it was revoked; `null` while it is valid.
    #[schema(required = true, format = DateTime)]
    pub revoked_at: Option<String>,
}

/// `POST /api/admin/tokens`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreate {
    /// 1 to 100 characters (trimmed), no control characters.
    pub name: String,
    pub role: Role,
    /// Required, non-empty and each once, except for `admin` (every environment: list all three
    /// or leave it out).
    #[schema(min_items = 1, max_items = 3)]
    pub environments: Option<Vec<Environment>>,
}

/// `{"token": Token, "secret": "pennon_…"}`: the secret is shown this once.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenCreated {
    pub token: Token,
    /// `pennon_` and 64 lowercase hex digits; only its SHA-256 is stored.
    #[schema(pattern = "^pennon_[0-9a-f]{64}$")]
    pub secret: String,
}

/// `{"token": Token}`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    pub token: Token,
}

/// `{"tokens": [Token]}`, oldest first, revoked ones included.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenList {
    pub tokens: Vec<Token>,
}

/// Which side of an entry is stored but cannot be read.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AuditSide {
    Before,
    After,
}

/// One change, as the audit log keeps it.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: String,
    pub action: AuditAction,
    pub entity: AuditEntity,
    /// The flag's or segment's id.
    pub entity_id: String,
    /// `null` for a create (and when stored but unreadable: see `unreadable`).
    #[schema(required = true)]
    pub before: Option<Audited>,
    /// `null` for a delete (and when stored but unreadable).
    #[schema(required = true)]
    pub after: Option<Audited>,
    /// Who acted: the token's name (formerly the `x-actor` header, `"admin"` by default).
    pub actor: String,
    /// The id of the token that acted: `"ADMIN_TOKEN"` / `"EDGE_TOKEN"` for the bootstrap tokens;
    /// `null` only on entries written before tokens existed.
    #[schema(required = true)]
    pub actor_token_id: Option<String>,
    /// The `x-actor` header of the request, when given.
    #[schema(required = true)]
    pub note: Option<String>,
    /// The environment of what changed; `null` for what has none (a token).
    #[schema(required = true)]
    pub environment: Option<Environment>,
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Only when a side is stored but does not read as a flag or a segment (it is then `null`).
    #[schema(required = false)]
    pub unreadable: Vec<AuditSide>,
}

/// An entry whose own columns cannot be read: left out of its page and named here.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UnreadableEntry {
    pub id: String,
    pub entity_id: String,
}

/// A page of the audit log, newest first.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Only when more entries exist: pass it as `before` for the next page (opaque).
    #[schema(required = false)]
    pub next_cursor: String,
    #[schema(required = false)]
    pub unreadable: Vec<UnreadableEntry>,
}

/// The user flags are decided for. `null` for an optional field is the same as leaving it out;
/// any other field is refused (custom attributes go under `attributes`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    #[schema(min_length = 1)]
    pub id: String,
    pub email: Option<String>,
    pub country: Option<String>,
    /// Any JSON values, nested as deep as you like (targeted by `attributes.<path>`).
    pub attributes: Option<BTreeMap<String, Value>>,
}

/// `POST /api/evaluate`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    pub environment: Environment,
    pub user: User,
    /// Only these keys (each once; an unknown one answers `FLAG_NOT_FOUND`); every flag of the
    /// environment when left out or `null`.
    pub flags: Option<Vec<String>>,
}

/// Why a flag answered what it did.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Reason {
    FlagDisabled,
    PrerequisiteFailed,
    RuleMatch,
    Rollout,
    NoMatch,
    FlagNotFound,
}

/// One flag's answer for the user.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EvaluateResult {
    pub flag_key: String,
    /// A boolean flag's value; for the other types `false` exactly for `FLAG_DISABLED`,
    /// `PREREQUISITE_FAILED` and `FLAG_NOT_FOUND`.
    pub enabled: bool,
    pub reason: Reason,
    /// The served variant's name; `null` for `FLAG_NOT_FOUND`.
    #[schema(required = true)]
    pub variant: Option<String>,
    /// The served variant's value, of the flag's type (any JSON value); `null` for
    /// `FLAG_NOT_FOUND`.
    pub value: Value,
}

/// One result per flag, sorted by key.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateResponse {
    pub results: Vec<EvaluateResult>,
}

/// An environment's flags and segments, each sorted by key (unreadable rows left out).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub environment: Environment,
    /// Grows by one with every write to the environment; also the `ETag`.
    pub revision: u64,
    pub flags: Vec<Flag>,
    pub segments: Vec<Segment>,
}

/// The public keys that verify snapshot signatures: a JSON Web Key Set.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
    "kid": "21fe31dfa154a261", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}))]
pub struct SigningKeys {
    /// Empty when the origin does not sign; one key otherwise.
    pub keys: Vec<SigningKey>,
}

/// An Ed25519 public key as a JSON Web Key (RFC 8037).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningKey {
    /// `OKP`
    #[schema(pattern = "^OKP$")]
    pub kty: String,
    /// `Ed25519`
    #[schema(pattern = "^Ed25519$")]
    pub crv: String,
    /// `EdDSA`
    #[schema(pattern = "^EdDSA$")]
    pub alg: String,
    /// `sig`
    #[serde(rename = "use")]
    #[schema(pattern = "^sig$")]
    pub use_: String,
    /// The key id a `Pennon-Signature` header names: the first 8 bytes of SHA-256 over the raw
    /// public key, in lowercase hex.
    #[schema(pattern = "^[0-9a-f]{16}$")]
    pub kid: String,
    /// The 32-byte public key, base64url without padding.
    #[schema(pattern = "^[A-Za-z0-9_-]{43}$")]
    pub x: String,
}

/// `ok`, `degraded` or `unavailable`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum OverallStatus {
    Ok,
    Degraded,
    Unavailable,
}

/// `ok` or `unavailable`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum PartStatus {
    Ok,
    Unavailable,
}

/// `ok`, `partial` (some environments have no flag set to serve) or `unavailable`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum EvaluationsStatus {
    Ok,
    Partial,
    Unavailable,
}

/// `ok` or `reconnecting`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListenStatus {
    Ok,
    Reconnecting,
}

/// What carries change messages between origins.
#[derive(Deserialize, ToSchema)]
pub enum Invalidation {
    #[serde(rename = "redis+postgres")]
    RedisPostgres,
    #[serde(rename = "redis")]
    Redis,
    #[serde(rename = "postgres")]
    Postgres,
    #[serde(rename = "none")]
    None,
}

/// `GET /health`: the state of each part (see `docs/origin.md`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Health {
    /// `ok`, `degraded` (a part is down or a row cannot be read; evaluations go on) or
    /// `unavailable` (they cannot: 503).
    pub status: OverallStatus,
    /// `degraded`: reachable, but some flags or segments it holds cannot be read.
    pub store: OverallStatus,
    /// `postgres` or `sqlite`.
    pub store_kind: String,
    /// `redis` or `memory`.
    pub cache: String,
    pub cache_status: PartStatus,
    pub invalidation: Invalidation,
    pub invalidation_status: ListenStatus,
    /// Each channel and its status, e.g. `{"redis": "reconnecting", "postgres": "ok"}`.
    pub invalidation_channels: BTreeMap<String, ListenStatus>,
    pub evaluations: EvaluationsStatus,
    /// Only when some stored flags cannot be read.
    #[schema(required = false)]
    pub unreadable_flags: Vec<UnreadableRow>,
    /// Only when some stored segments cannot be read.
    #[schema(required = false)]
    pub unreadable_segments: Vec<UnreadableRow>,
}

/// OFREP's request: `{"context": {...}}` (a missing or `null` context is an empty one: then
/// `TARGETING_KEY_MISSING`). Other members are ignored.
#[derive(Deserialize, ToSchema)]
pub struct OfrepRequest {
    pub context: OfrepContext,
}

/// The evaluation context: `targetingKey` is the user's id, `email` and `country` those fields, and
/// every other member an attribute (a rule on `attributes.plan` reads `plan`), of any JSON value.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"targetingKey": "user-123", "email": "a@example.com", "country": "DE", "plan": "pro"}))]
pub struct OfrepContext {
    /// Required: a non-empty string.
    pub targeting_key: String,
    #[schema(required = false)]
    pub email: Option<String>,
    #[schema(required = false)]
    pub country: Option<String>,
}

/// OpenFeature's reason: `TARGETING_MATCH` (Pennon's `RULE_MATCH`), `SPLIT` (`ROLLOUT`), `DEFAULT`
/// (`NO_MATCH`), `DISABLED` (`FLAG_DISABLED`, `PREREQUISITE_FAILED`: the off variant's value).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OpenFeatureReason {
    TargetingMatch,
    Split,
    Default,
    Disabled,
}

/// A success's `metadata`: Pennon's own reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OfrepMetadata {
    pub pennon_reason: Reason,
}

/// One flag's OFREP answer: the served variant's name and value, the reason, Pennon's reason.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"key": "new_checkout_flow", "variant": "on", "value": true,
    "reason": "TARGETING_MATCH", "metadata": {"pennonReason": "RULE_MATCH"}}))]
pub struct OfrepSuccess {
    pub key: String,
    pub variant: String,
    /// Of the flag's type; a number as it is stored.
    pub value: VariantValue,
    pub reason: OpenFeatureReason,
    pub metadata: OfrepMetadata,
}

/// An OFREP error code.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OfrepErrorCode {
    ParseError,
    InvalidContext,
    TargetingKeyMissing,
    FlagNotFound,
    General,
}

/// An error of the single-flag route (and a bulk item's): the key, the code, a message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"key": "nope", "errorCode": "FLAG_NOT_FOUND", "errorDetails": "no flag \"nope\" in prod"}))]
pub struct OfrepFlagError {
    pub key: String,
    pub error_code: OfrepErrorCode,
    pub error_details: String,
}

/// An error of the bulk route: the code, a message.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({"errorCode": "TARGETING_KEY_MISSING", "errorDetails": "context.targetingKey: required, a non-empty string (the user's id)"}))]
pub struct OfrepBulkError {
    pub error_code: OfrepErrorCode,
    pub error_details: String,
}

/// A bulk item: a success or a flag's error.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OfrepItem {
    Success(OfrepSuccess),
    Error(OfrepFlagError),
}

/// Where to learn of changes (OFREP's ADR-0008): `type` `sse`, and `url` or `endpoint`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OfrepEventStream {
    pub r#type: String,
    #[schema(required = false)]
    pub url: Option<String>,
    #[schema(required = false)]
    pub endpoint: Option<Value>,
    #[schema(required = false)]
    pub inactivity_delay_sec: Option<u32>,
}

/// Every flag of the environment, sorted by key, and (from the origin, once the change stream
/// exists) where to learn of changes.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OfrepBulkSuccess {
    pub flags: Vec<OfrepItem>,
    #[schema(required = false)]
    pub event_streams: Option<Vec<OfrepEventStream>>,
}
