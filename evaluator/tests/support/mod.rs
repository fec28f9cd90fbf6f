//! Random version-2 documents for the property tests, built as JSON so that every property also goes
//! through the readers: flag sets of all four types whose prerequisites form a random DAG (plus
//! prerequisites on a flag that is not there), splits with and without `bucketBy` and `salt`,
//! segments with `include` lists and rules, every operator, and users whose fields meet the rules
//! often (small pools of values shared by rules and users).
//!
//! Choices that depend on others (which variant a serve names, which flag a prerequisite names) are
//! drawn as [`Index`]es and resolved when the document is built, so that a failing case still shrinks.

#![allow(dead_code)]

use proptest::prelude::*;
use proptest::sample::{select, subsequence, Index};
use serde_json::{json, Map, Value};

/// User ids, shared by the users and the segments' `include` lists.
pub const IDS: [&str; 6] = ["u-1", "u-2", "user-123", "ü-4", "company-9", "x"];
/// The segments a set may define, in this order, and one that no set defines.
pub const SEGMENT_KEYS: [&str; 3] = ["beta", "staff", "eu"];
pub const MISSING_SEGMENT: &str = "gone";
/// A prerequisite on this flag never finds it.
pub const MISSING_FLAG: &str = "missing-flag";

const VARIANT_NAMES: [&str; 6] = ["a", "b", "control", "treatment-1", "Z.9", "zz"];
const STRINGS: [&str; 9] = [
    "DE", "US", "", "gold", "pro", "10", "Zoë", "user-1", "1.2.3",
];
const SEMVERS: [&str; 7] = [
    "1.0.0",
    "1.0.0-alpha",
    "1.0.0-alpha.1",
    "1.0.0-rc.1+build.5",
    "1.2.3",
    "10.0.0",
    "18446744073709551616.0.0",
];
const TIMESTAMPS: [&str; 5] = [
    "2026-12-01T00:00:00Z",
    "2026-12-01T01:00:00+01:00",
    "2026-11-30T23:59:59.999999999Z",
    "2024-02-29t12:00:00z",
    "2026-12-01T00:00:00.5-00:00",
];
const FIELDS: [&str; 10] = [
    "id",
    "email",
    "country",
    "attributes.plan",
    "attributes.age",
    "attributes.version",
    "attributes.seen",
    "attributes.org.tier",
    "attributes.company",
    "attributes.beta",
];
const BUCKET_BY: [&str; 5] = [
    "id",
    "attributes.company",
    "email",
    "attributes.age",
    "attributes.org.tier",
];
const SALTS: [&str; 4] = ["s", "checkout-v2", "é", "x/y"];

fn string() -> impl Strategy<Value = Value> {
    select(STRINGS.to_vec()).prop_map(|s| json!(s))
}

/// Numbers that compare in every way against each other: equal values spelt differently, a
/// fraction, a negative, and integers beyond 2^53 that a double cannot tell apart.
fn number() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!(0)),
        Just(json!(10)),
        Just(json!(10.0)),
        Just(json!(-3)),
        Just(json!(1.5)),
        Just(json!(9_007_199_254_740_992u64)),
        Just(json!(9_007_199_254_740_993u64)),
        Just(json!(9_007_199_254_740_992.0)),
    ]
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![3 => string(), 2 => number(), 1 => any::<bool>().prop_map(|b| json!(b))]
}

/// A condition's `{"field", "operator", "value"}`, every operator with a valid value.
pub fn comparison() -> impl Strategy<Value = Value> {
    let operator_value = prop_oneof![
        (select(vec!["eq", "neq"]), scalar()),
        (
            select(vec!["in", "not_in"]),
            prop::collection::vec(scalar(), 1..4).prop_map(Value::Array)
        ),
        (
            select(vec!["starts_with", "ends_with", "contains"]),
            select(vec!["", "D", "E", "o", "ë", "u-", "1.2"]).prop_map(|s| json!(s))
        ),
        (select(vec!["lt", "lte", "gt", "gte"]), number()),
        (
            select(vec!["semver_eq", "semver_lt", "semver_gt"]),
            select(SEMVERS.to_vec()).prop_map(|s| json!(s))
        ),
        (
            select(vec!["before", "after"]),
            select(TIMESTAMPS.to_vec()).prop_map(|s| json!(s))
        ),
        (Just("exists"), any::<bool>().prop_map(|b| json!(b))),
    ];
    (select(FIELDS.to_vec()), operator_value)
        .prop_map(|(field, (op, value))| json!({"field": field, "operator": op, "value": value}))
}

/// A condition of a flag's rule: a comparison, or membership of a segment (defined or not).
fn flag_condition() -> impl Strategy<Value = Value> {
    let keys: Vec<&str> = SEGMENT_KEYS
        .iter()
        .copied()
        .chain([MISSING_SEGMENT])
        .collect();
    prop_oneof![
        5 => comparison(),
        1 => (any::<bool>(), select(keys)).prop_map(|(not, key)| {
            if not { json!({"notSegment": key}) } else { json!({"segment": key}) }
        }),
    ]
}

/// A rule's condition part: one condition, or a group of one to three.
fn when(condition: impl Strategy<Value = Value>) -> impl Strategy<Value = Map<String, Value>> {
    (any::<bool>(), prop::collection::vec(condition, 1..4)).prop_map(|(group, mut conditions)| {
        let value = if group || conditions.len() > 1 {
            json!({"all": conditions})
        } else {
            conditions.remove(0)
        };
        match value {
            Value::Object(map) => map,
            _ => Map::new(),
        }
    })
}

#[derive(Clone, Debug)]
pub struct SplitPlan {
    /// Variant picks with a cut point each; repeats are dropped, the cuts become weights.
    slices: Vec<(Index, u32)>,
    bucket_by: Option<&'static str>,
    salt: Option<&'static str>,
}

fn split_plan() -> impl Strategy<Value = SplitPlan> {
    let cut = prop_oneof![0u32..=100_000, Just(0), Just(100_000), Just(50_000)];
    (
        prop::collection::vec((any::<Index>(), cut), 1..5),
        prop::option::of(select(BUCKET_BY.to_vec())),
        prop::option::of(select(SALTS.to_vec())),
    )
        .prop_map(|(slices, bucket_by, salt)| SplitPlan {
            slices,
            bucket_by,
            salt,
        })
}

impl SplitPlan {
    fn build(&self, names: &[&str]) -> Value {
        let mut chosen: Vec<&str> = Vec::new();
        for (pick, _) in &self.slices {
            let name = names[pick.index(names.len())];
            if !chosen.contains(&name) {
                chosen.push(name);
            }
        }
        let mut cuts: Vec<u32> = self.slices[..chosen.len() - 1]
            .iter()
            .map(|(_, cut)| *cut)
            .collect();
        cuts.sort_unstable();
        cuts.push(100_000);
        let mut last = 0;
        let split: Vec<Value> = chosen
            .iter()
            .zip(cuts)
            .map(|(name, cut)| {
                let weight = cut - last;
                last = cut;
                json!({"variant": name, "weight": weight})
            })
            .collect();
        let mut serve = json!({ "split": split });
        if let Some(field) = self.bucket_by {
            serve["bucketBy"] = json!(field);
        }
        if let Some(salt) = self.salt {
            serve["salt"] = json!(salt);
        }
        serve
    }
}

#[derive(Clone, Debug)]
enum ServePlan {
    Variant(Index),
    Split(SplitPlan),
}

fn serve_plan() -> impl Strategy<Value = ServePlan> {
    prop_oneof![
        2 => any::<Index>().prop_map(ServePlan::Variant),
        1 => split_plan().prop_map(ServePlan::Split),
    ]
}

impl ServePlan {
    fn build(&self, names: &[&str]) -> Value {
        match self {
            ServePlan::Variant(pick) => json!(names[pick.index(names.len())]),
            ServePlan::Split(split) => split.build(names),
        }
    }
}

#[derive(Clone, Debug)]
enum Fallthrough {
    Rollout(u8),
    Neither,
    Serve(ServePlan),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Boolean,
    String,
    Number,
    Object,
}

#[derive(Clone, Debug)]
pub struct FlagPlan {
    kind: Kind,
    variants: Vec<(&'static str, Value)>,
    enabled: bool,
    off: Index,
    /// A boolean flag writes its `variants` and `offVariant` (their only valid values) or leaves
    /// them out.
    explicit_boolean: bool,
    /// (target among the flags after this one and the missing flag, variant picks, and whether a
    /// name the target does not have is added)
    prerequisites: Vec<(Index, Vec<Index>, bool)>,
    rules: Vec<(Map<String, Value>, Option<ServePlan>)>,
    fallthrough: Fallthrough,
    description: Option<&'static str>,
}

fn typed(
    kind: Kind,
    value: BoxedStrategy<Value>,
) -> impl Strategy<Value = (Kind, Vec<(&'static str, Value)>)> {
    (
        subsequence(VARIANT_NAMES.to_vec(), 1..=4),
        prop::collection::vec(value, 4),
    )
        .prop_map(move |(names, values)| (kind, names.into_iter().zip(values).collect()))
}

fn object_value() -> BoxedStrategy<Value> {
    (
        scalar(),
        prop::option::of(number()),
        prop::collection::vec(string(), 0..3),
    )
        .prop_map(|(tier, n, tags)| {
            let mut object = json!({ "tier": tier, "tags": tags, "nested": {"on": true} });
            if let Some(n) = n {
                object["n"] = n;
            }
            object
        })
        .boxed()
}

fn variants() -> impl Strategy<Value = (Kind, Vec<(&'static str, Value)>)> {
    prop_oneof![
        3 => Just((Kind::Boolean, vec![("off", json!(false)), ("on", json!(true))])),
        2 => typed(Kind::String, string().boxed()),
        1 => typed(Kind::Number, number().boxed()),
        1 => typed(Kind::Object, object_value()),
    ]
}

pub fn flag_plan() -> impl Strategy<Value = FlagPlan> {
    let rule = (
        when(flag_condition()),
        prop::option::weighted(0.6, serve_plan()),
    );
    let prerequisite = (
        any::<Index>(),
        prop::collection::vec(any::<Index>(), 1..3),
        prop::bool::weighted(0.1),
    );
    let fallthrough = prop_oneof![
        2 => prop_oneof![0u8..=100, Just(0), Just(100)].prop_map(Fallthrough::Rollout),
        1 => Just(Fallthrough::Neither),
        3 => serve_plan().prop_map(Fallthrough::Serve),
    ];
    (
        variants(),
        prop::bool::weighted(0.85),
        any::<Index>(),
        any::<bool>(),
        prop::collection::vec(prerequisite, 0..3),
        prop::collection::vec(rule, 0..5),
        fallthrough,
        prop::option::of(select(vec!["", "checkout test", "ünïcode"])),
    )
        .prop_map(
            |(
                (kind, variants),
                enabled,
                off,
                explicit_boolean,
                prerequisites,
                rules,
                fallthrough,
                description,
            )| FlagPlan {
                kind,
                variants,
                enabled,
                off,
                explicit_boolean,
                prerequisites,
                rules,
                fallthrough,
                description,
            },
        )
}

impl FlagPlan {
    fn names(&self) -> Vec<&'static str> {
        self.variants.iter().map(|(name, _)| *name).collect()
    }

    /// The flag's document; `later` are the (key, variant names) of the flags it may depend on.
    fn build(&self, key: &str, later: &[(String, Vec<&'static str>)]) -> Value {
        let names = self.names();
        let boolean = self.kind == Kind::Boolean;
        let mut flag = Map::new();
        flag.insert("key".into(), json!(key));
        if let Some(description) = self.description {
            flag.insert("description".into(), json!(description));
        }
        flag.insert("enabled".into(), json!(self.enabled));
        if !boolean || self.explicit_boolean {
            let kind = match self.kind {
                Kind::Boolean => "boolean",
                Kind::String => "string",
                Kind::Number => "number",
                Kind::Object => "object",
            };
            flag.insert("type".into(), json!(kind));
            let variants: Map<String, Value> = self
                .variants
                .iter()
                .map(|(name, value)| ((*name).to_string(), value.clone()))
                .collect();
            flag.insert("variants".into(), Value::Object(variants));
            let off = if boolean {
                "off"
            } else {
                names[self.off.index(names.len())]
            };
            flag.insert("offVariant".into(), json!(off));
        }
        let prerequisites: Vec<Value> = self
            .prerequisites
            .iter()
            .map(|(target, picks, bogus)| {
                // One past the later flags is the flag that is not there.
                let at = target.index(later.len() + 1);
                let (key, target_names) = match later.get(at) {
                    Some((key, names)) => (key.as_str(), names.clone()),
                    None => (MISSING_FLAG, vec!["on", "off"]),
                };
                let mut accepted: Vec<&str> = picks
                    .iter()
                    .map(|pick| target_names[pick.index(target_names.len())])
                    .collect();
                if *bogus {
                    accepted.push("nope");
                }
                json!({"flag": key, "variants": accepted})
            })
            .collect();
        if !prerequisites.is_empty() || self.explicit_boolean {
            flag.insert("prerequisites".into(), Value::Array(prerequisites));
        }
        let rules: Vec<Value> = self
            .rules
            .iter()
            .map(|(when, serve)| {
                let mut rule = when.clone();
                match serve {
                    Some(serve) => {
                        rule.insert("serve".into(), serve.build(&names));
                    }
                    // A boolean flag's rule serves "on" by default; the others must say.
                    None if boolean => {}
                    None => {
                        rule.insert("serve".into(), json!(names[0]));
                    }
                }
                Value::Object(rule)
            })
            .collect();
        if !rules.is_empty() || self.explicit_boolean {
            flag.insert("rules".into(), Value::Array(rules));
        }
        match (&self.fallthrough, boolean) {
            (Fallthrough::Rollout(percent), true) => {
                flag.insert("rolloutPercentage".into(), json!(percent));
            }
            (Fallthrough::Neither, true) => {}
            (Fallthrough::Rollout(_) | Fallthrough::Neither, false) => {
                flag.insert("fallthrough".into(), json!(names[0]));
            }
            (Fallthrough::Serve(serve), _) => {
                flag.insert("fallthrough".into(), serve.build(&names));
            }
        }
        Value::Object(flag)
    }
}

#[derive(Clone, Debug)]
pub struct SegmentPlan {
    include: Vec<Index>,
    rules: Vec<Map<String, Value>>,
    description: bool,
}

fn segment_plan() -> impl Strategy<Value = SegmentPlan> {
    (
        prop::collection::vec(any::<Index>(), 0..4),
        prop::collection::vec(when(comparison()), 0..3),
        any::<bool>(),
    )
        .prop_map(|(include, rules, description)| SegmentPlan {
            include,
            rules,
            description,
        })
}

impl SegmentPlan {
    fn build(&self, key: &str) -> Value {
        let mut include: Vec<&str> = Vec::new();
        for pick in &self.include {
            let id = IDS[pick.index(IDS.len())];
            if !include.contains(&id) {
                include.push(id);
            }
        }
        let mut segment = json!({"key": key, "include": include, "rules": self.rules});
        if self.description {
            segment["description"] = json!("people");
        }
        segment
    }
}

/// A set: flags (as JSON) whose prerequisites only name flags built after them or the missing flag,
/// so they never make a cycle, under keys shuffled so that the key order is not the dependency
/// order; and up to three segments.
#[derive(Clone, Debug)]
pub struct SetDocuments {
    pub flags: Vec<Value>,
    pub segments: Vec<Value>,
}

pub fn set_documents() -> impl Strategy<Value = SetDocuments> {
    (1usize..=10, 0usize..=SEGMENT_KEYS.len())
        .prop_flat_map(|(n, m)| {
            (
                prop::collection::vec(flag_plan(), n),
                Just((0..n).collect::<Vec<usize>>()).prop_shuffle(),
                prop::collection::vec(segment_plan(), m),
            )
        })
        .prop_map(|(plans, keys, segment_plans)| {
            let key = |i: usize| format!("flag-{}", keys[i]);
            let mut flags = vec![Value::Null; plans.len()];
            // Built from the last: each flag may depend on the ones after it.
            let mut later: Vec<(String, Vec<&'static str>)> = Vec::new();
            for (i, plan) in plans.iter().enumerate().rev() {
                flags[i] = plan.build(&key(i), &later);
                later.push((key(i), plan.names()));
            }
            let segments = segment_plans
                .iter()
                .zip(SEGMENT_KEYS)
                .map(|(plan, key)| plan.build(key))
                .collect();
            SetDocuments { flags, segments }
        })
}

/// One flag on its own (prerequisites, if any, name the missing flag).
pub fn flag_document() -> impl Strategy<Value = Value> {
    (flag_plan(), "[A-Za-z0-9_.-]{1,20}").prop_map(|(plan, key)| plan.build(&key, &[]))
}

pub fn segment_document() -> impl Strategy<Value = Value> {
    (segment_plan(), "[A-Za-z0-9_.-]{1,20}").prop_map(|(plan, key)| plan.build(&key))
}

/// What a user's attribute may hold: the rules' values and their near misses (SemVer and RFC 3339
/// strings that do not parse), null, lists and maps.
fn attribute() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => scalar(),
        2 => select(SEMVERS.iter().copied().chain(["v1.0.0", "1.2", "01.0.0"]).collect::<Vec<_>>())
            .prop_map(|s| json!(s)),
        2 => select(TIMESTAMPS.iter().copied().chain(["2026-12-01", "2026-12-31T23:59:60Z"]).collect::<Vec<_>>())
            .prop_map(|s| json!(s)),
        1 => Just(Value::Null),
        1 => prop::collection::vec(scalar(), 0..3).prop_map(Value::Array),
        1 => Just(json!({"tier": "gold"})),
    ]
}

/// A user as the API reads it.
pub fn user_json() -> impl Strategy<Value = Value> {
    let id = prop_oneof![
        3 => select(IDS.to_vec()).prop_map(String::from),
        1 => "[a-z0-9-]{1,10}",
    ];
    let text = prop_oneof![
        2 => Just(Value::Null),
        3 => string(),
        1 => Just(json!("jane@example.com")),
    ];
    let org = prop_oneof![
        2 => scalar().prop_map(|tier| json!({"tier": tier})),
        1 => attribute(),
    ];
    (
        id,
        text.clone(),
        text,
        prop::collection::btree_map(
            select(vec!["plan", "age", "version", "seen", "company", "beta"]),
            attribute(),
            0..5,
        ),
        prop::option::of(org),
    )
        .prop_map(|(id, email, country, attributes, org)| {
            let mut attributes: Map<String, Value> = attributes
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
            if let Some(org) = org {
                attributes.insert("org".into(), org);
            }
            json!({"id": id, "email": email, "country": country, "attributes": attributes})
        })
}
