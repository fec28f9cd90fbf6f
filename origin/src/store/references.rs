//! The checks between documents of one environment, made inside a write's transaction (after the
//! environment is locked, see `sql/write.rs`) on what the environment holds at that moment: a
//! flag's prerequisites name flags and variants that exist and make no cycle, its conditions name
//! segments that exist, and nothing that others name is deleted or loses a variant they name.
//!
//! No I/O here: the writes load [`Documents`] and hand them over with the change.
//!
//! The messages (documented in docs/api.md):
//! - 400 `prerequisites[0].flag: no flag "x" in prod`
//! - 400 `prerequisites[0].flag: flag "x" in prod is stored but cannot be read`
//! - 400 `prerequisites[0].variants[1]: flag "x" has no variant "y"`
//! - 400 `prerequisites[0].flag: makes a cycle: a → b → a`
//! - 400 `rules[2].segment: no segment "beta" in prod` (`rules[2].all[0].notSegment`, ...)
//! - 400 `rules[2].segment: segment "beta" in prod is stored but cannot be read`
//! - 409 `flag "x" would no longer have variants that prerequisites of other flags name: a names "y"`
//! - 409 `flag "x" is a prerequisite of flags: a, b`
//! - 409 `segment "beta" is used by flags: a, b`

use std::collections::{BTreeMap, BTreeSet};

use evaluator::{CompiledFlagSet, Condition, Environment, Flag, Match, ValidationError};

use super::row::{FlagList, SegmentList};
use super::StoreError;

/// An environment's flags and segments, read inside a write's transaction.
#[derive(Debug, Default)]
pub struct Documents {
    pub environment: Option<Environment>,
    pub flags: FlagList,
    pub segments: SegmentList,
}

impl Documents {
    fn environment(&self) -> &'static str {
        self.environment.map_or("?", Environment::as_str)
    }

    fn flag(&self, key: &str) -> Option<&Flag> {
        self.flags
            .flags
            .iter()
            .map(|stored| &stored.flag)
            .find(|flag| flag.key.as_str() == key)
    }

    fn unreadable_flag(&self, key: &str) -> bool {
        self.flags.unreadable.iter().any(|row| row.key == key)
    }

    /// The flags other than `except`, as they are now.
    fn others<'a>(&'a self, except: &'a str) -> impl Iterator<Item = &'a Flag> + 'a {
        self.flags
            .flags
            .iter()
            .map(|stored| &stored.flag)
            .filter(move |flag| flag.key.as_str() != except)
    }
}

fn invalid(field: String, message: String) -> StoreError {
    StoreError::Invalid(ValidationError::new(field, message))
}

/// A flag about to be created or to replace the flag of its key: what it names must exist, its
/// prerequisites must make no cycle, and (for a replacement) no other flag's prerequisite may name
/// a variant it no longer has. Then the environment's whole set after the change must compile,
/// the invariant the read path relies on.
pub fn check_flag(flag: &Flag, documents: &Documents) -> Result<(), StoreError> {
    let environment = documents.environment();
    for (i, prerequisite) in flag.prerequisites().iter().enumerate() {
        let key = prerequisite.flag.as_str();
        let Some(target) = documents.flag(key) else {
            let message = if documents.unreadable_flag(key) {
                format!("flag \"{key}\" in {environment} is stored but cannot be read")
            } else {
                format!("no flag \"{key}\" in {environment}")
            };
            return Err(invalid(format!("prerequisites[{i}].flag"), message));
        };
        for (j, name) in prerequisite.variants().iter().enumerate() {
            if target.variants().find(name.as_str()).is_none() {
                return Err(invalid(
                    format!("prerequisites[{i}].variants[{j}]"),
                    format!("flag \"{key}\" has no variant \"{}\"", name.as_str()),
                ));
            }
        }
    }
    refuse_cycle(flag, documents)?;
    check_segments(flag, documents)?;
    refuse_lost_variants(flag, documents)?;
    let mut after: Vec<&Flag> = documents.others(flag.key.as_str()).collect();
    after.push(flag);
    CompiledFlagSet::with_segments(&after, &documents.segments.segments)
        .map(drop)
        .map_err(StoreError::Invalid)
}

/// Before the change the environment has no cycle, so a cycle after it goes through one of the
/// flag's own prerequisites: one that leads back to the flag is named with the cycle.
fn refuse_cycle(flag: &Flag, documents: &Documents) -> Result<(), StoreError> {
    let own = flag.key.as_str();
    let edges: BTreeMap<&str, Vec<&str>> = documents
        .others(own)
        .map(|other| {
            let targets = other.prerequisites().iter().map(|p| p.flag.as_str());
            (other.key.as_str(), targets.collect())
        })
        .collect();
    for (i, prerequisite) in flag.prerequisites().iter().enumerate() {
        if let Some(path) = path_to(prerequisite.flag.as_str(), own, &edges) {
            let mut cycle = vec![own];
            cycle.extend(path);
            return Err(invalid(
                format!("prerequisites[{i}].flag"),
                format!("makes a cycle: {}", cycle.join(" → ")),
            ));
        }
    }
    Ok(())
}

/// A path of prerequisites from `start` to `goal` (both included), depth first in the order the
/// prerequisites are written; `None` when there is none.
fn path_to<'a>(
    start: &'a str,
    goal: &'a str,
    edges: &BTreeMap<&'a str, Vec<&'a str>>,
) -> Option<Vec<&'a str>> {
    let mut seen = BTreeSet::new();
    // (node, index of the next edge to follow): an explicit stack, so a long chain cannot
    // overflow the call stack.
    let mut stack: Vec<(&str, usize)> = vec![(start, 0)];
    seen.insert(start);
    while let Some((node, next)) = stack.last_mut() {
        if *node == goal {
            return Some(stack.iter().map(|(n, _)| *n).collect());
        }
        let Some(&target) = edges.get(node).and_then(|targets| targets.get(*next)) else {
            stack.pop();
            continue;
        };
        *next += 1;
        if seen.insert(target) {
            stack.push((target, 0));
        }
    }
    None
}

/// Every `segment` / `notSegment` condition names a readable segment of the environment.
fn check_segments(flag: &Flag, documents: &Documents) -> Result<(), StoreError> {
    let environment = documents.environment();
    for (i, rule) in flag.rules().iter().enumerate() {
        for (j, condition) in rule.conditions().iter().enumerate() {
            let (name, key) = match condition {
                Condition::InSegment(key) => ("segment", key.as_str()),
                Condition::NotInSegment(key) => ("notSegment", key.as_str()),
                Condition::Compare(_) => continue,
            };
            let field = match rule.when {
                Match::One(_) => format!("rules[{i}].{name}"),
                Match::All(_) => format!("rules[{i}].all[{j}].{name}"),
            };
            let segments = &documents.segments;
            if segments
                .segments
                .iter()
                .any(|s| s.segment.key.as_str() == key)
            {
                continue;
            }
            let message = if segments.unreadable.iter().any(|row| row.key == key) {
                format!("segment \"{key}\" in {environment} is stored but cannot be read")
            } else {
                format!("no segment \"{key}\" in {environment}")
            };
            return Err(invalid(field, message));
        }
    }
    Ok(())
}

/// 409 when other flags' prerequisites name variants of `flag`'s key that it does not have: the
/// change is valid on its own but conflicts with those flags, which must change first.
fn refuse_lost_variants(flag: &Flag, documents: &Documents) -> Result<(), StoreError> {
    let key = flag.key.as_str();
    let mut lost = Vec::new();
    for other in documents.others(key) {
        for prerequisite in other.prerequisites() {
            if prerequisite.flag.as_str() != key {
                continue;
            }
            for name in prerequisite.variants() {
                if flag.variants().find(name.as_str()).is_none() {
                    lost.push(format!("{} names \"{}\"", other.key, name.as_str()));
                }
            }
        }
    }
    if lost.is_empty() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "flag \"{key}\" would no longer have variants that prerequisites of other flags name: {}",
        lost.join(", ")
    )))
}

/// 409 when other flags name the flag `key` as a prerequisite.
pub fn check_flag_deletion(key: &str, documents: &Documents) -> Result<(), StoreError> {
    let dependents: BTreeSet<&str> = documents
        .others(key)
        .filter(|other| other.prerequisites().iter().any(|p| p.flag.as_str() == key))
        .map(|other| other.key.as_str())
        .collect();
    if dependents.is_empty() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "flag \"{key}\" is a prerequisite of flags: {}",
        dependents.into_iter().collect::<Vec<_>>().join(", ")
    )))
}

/// 409 when flags' conditions name the segment `key`.
pub fn check_segment_deletion(key: &str, documents: &Documents) -> Result<(), StoreError> {
    let users: BTreeSet<&str> = documents
        .flags
        .flags
        .iter()
        .filter(|stored| stored.flag.segments().any(|s| s.as_str() == key))
        .map(|stored| stored.flag.key.as_str())
        .collect();
    if users.is_empty() {
        return Ok(());
    }
    Err(StoreError::Conflict(format!(
        "segment \"{key}\" is used by flags: {}",
        users.into_iter().collect::<Vec<_>>().join(", ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::model::{create, create_segment, now, NewFlag, NewSegment};
    use crate::store::row::UnreadableFlag;
    use evaluator::Segment;
    use serde_json::{json, Value};

    fn flag(json: Value) -> Flag {
        Flag::from_json_value(&json).unwrap()
    }

    fn documents(flags: &[Value], segments: &[&str]) -> Documents {
        let mut documents = Documents {
            environment: Some(Environment::Prod),
            ..Documents::default()
        };
        for json in flags {
            documents.flags.flags.push(create(
                NewFlag {
                    environment: Environment::Prod,
                    flag: flag(json.clone()),
                },
                now(),
            ));
        }
        for key in segments {
            documents.segments.segments.push(create_segment(
                NewSegment {
                    environment: Environment::Prod,
                    segment: Segment::from_json_value(&json!({"key": key})).unwrap(),
                },
                now(),
            ));
        }
        documents
    }

    fn message(result: Result<(), StoreError>) -> String {
        match result {
            Err(StoreError::Invalid(e)) => format!("400 {e}"),
            Err(StoreError::Conflict(m)) => format!("409 {m}"),
            other => panic!("{other:?}"),
        }
    }

    fn plan() -> Value {
        json!({"key": "plan", "type": "string", "variants": {"free": "f", "pro": "p"},
               "offVariant": "free", "fallthrough": "free"})
    }

    #[test]
    fn prerequisites_name_existing_flags_and_variants() {
        let docs = documents(&[plan()], &[]);
        let ok = json!({"key": "a", "prerequisites": [{"flag": "plan", "variants": ["pro"]}]});
        assert!(check_flag(&flag(ok), &docs).is_ok());
        let missing = json!({"key": "a", "prerequisites": [
            {"flag": "plan", "variants": ["pro"]}, {"flag": "x", "variants": ["on"]}]});
        assert_eq!(
            message(check_flag(&flag(missing), &docs)),
            "400 prerequisites[1].flag: no flag \"x\" in prod"
        );
        let variant =
            json!({"key": "a", "prerequisites": [{"flag": "plan", "variants": ["pro", "y"]}]});
        assert_eq!(
            message(check_flag(&flag(variant), &docs)),
            "400 prerequisites[0].variants[1]: flag \"plan\" has no variant \"y\""
        );
        let mut unreadable = documents(&[], &[]);
        unreadable.flags.unreadable.push(UnreadableFlag {
            id: "i".into(),
            environment: "prod".into(),
            key: "plan".into(),
            reason: "r".into(),
        });
        let named = json!({"key": "a", "prerequisites": [{"flag": "plan", "variants": ["pro"]}]});
        assert_eq!(
            message(check_flag(&flag(named), &unreadable)),
            "400 prerequisites[0].flag: flag \"plan\" in prod is stored but cannot be read"
        );
    }

    #[test]
    fn cycles_are_named_from_the_flag_written() {
        let docs = documents(
            &[
                json!({"key": "b", "prerequisites": [{"flag": "c", "variants": ["on"]}]}),
                json!({"key": "c", "prerequisites": [{"flag": "a", "variants": ["on"]}]}),
                json!({"key": "a"}),
            ],
            &[],
        );
        let closing = json!({"key": "a", "prerequisites": [{"flag": "b", "variants": ["on"]}]});
        assert_eq!(
            message(check_flag(&flag(closing), &docs)),
            "400 prerequisites[0].flag: makes a cycle: a → b → c → a"
        );
        let two = documents(
            &[
                json!({"key": "b", "prerequisites": [{"flag": "a", "variants": ["on"]}]}),
                json!({"key": "a"}),
            ],
            &[],
        );
        let closing = json!({"key": "a", "prerequisites": [{"flag": "b", "variants": ["off"]}]});
        assert_eq!(
            message(check_flag(&flag(closing), &two)),
            "400 prerequisites[0].flag: makes a cycle: a → b → a"
        );
        // A diamond is no cycle.
        let diamond = documents(
            &[
                json!({"key": "b", "prerequisites": [{"flag": "d", "variants": ["on"]}]}),
                json!({"key": "c", "prerequisites": [{"flag": "d", "variants": ["on"]}]}),
                json!({"key": "d"}),
            ],
            &[],
        );
        let top = json!({"key": "a", "prerequisites": [
            {"flag": "b", "variants": ["on"]}, {"flag": "c", "variants": ["on"]}]});
        assert!(check_flag(&flag(top), &diamond).is_ok());
    }

    #[test]
    fn conditions_name_existing_segments() {
        let docs = documents(&[], &["beta"]);
        let ok = json!({"key": "a", "rules": [{"segment": "beta"}, {"notSegment": "beta"}]});
        assert!(check_flag(&flag(ok), &docs).is_ok());
        let plain = json!({"key": "a", "rules": [{"segment": "beta"}, {"field": "id", "operator": "eq", "value": "u"}, {"segment": "gamma"}]});
        assert_eq!(
            message(check_flag(&flag(plain), &docs)),
            "400 rules[2].segment: no segment \"gamma\" in prod"
        );
        let grouped =
            json!({"key": "a", "rules": [{"all": [{"segment": "beta"}, {"notSegment": "gamma"}]}]});
        assert_eq!(
            message(check_flag(&flag(grouped), &docs)),
            "400 rules[0].all[1].notSegment: no segment \"gamma\" in prod"
        );
    }

    #[test]
    fn a_flag_keeps_the_variants_others_name() {
        let docs = documents(
            &[
                plan(),
                json!({"key": "a", "prerequisites": [{"flag": "plan", "variants": ["pro", "free"]}]}),
                json!({"key": "b", "prerequisites": [{"flag": "plan", "variants": ["free"]}]}),
            ],
            &[],
        );
        let fewer = json!({"key": "plan", "type": "string", "variants": {"pro": "p", "team": "t"},
                           "offVariant": "pro", "fallthrough": "pro"});
        assert_eq!(
            message(check_flag(&flag(fewer), &docs)),
            "409 flag \"plan\" would no longer have variants that prerequisites of other flags \
             name: a names \"free\", b names \"free\""
        );
        let more = json!({"key": "plan", "type": "string",
                          "variants": {"free": "f", "pro": "p", "team": "t"},
                          "offVariant": "free", "fallthrough": "team"});
        assert!(check_flag(&flag(more), &docs).is_ok());
    }

    #[test]
    fn what_others_name_is_not_deleted() {
        let docs = documents(
            &[
                plan(),
                json!({"key": "b", "prerequisites": [{"flag": "plan", "variants": ["pro"]}],
                       "rules": [{"segment": "beta"}]}),
                json!({"key": "a", "rules": [{"all": [{"notSegment": "beta"}]}],
                       "prerequisites": [{"flag": "plan", "variants": ["free"]}]}),
                json!({"key": "c"}),
            ],
            &["beta", "unused"],
        );
        assert_eq!(
            message(check_flag_deletion("plan", &docs)),
            "409 flag \"plan\" is a prerequisite of flags: a, b"
        );
        assert!(check_flag_deletion("c", &docs).is_ok());
        assert_eq!(
            message(check_segment_deletion("beta", &docs)),
            "409 segment \"beta\" is used by flags: a, b"
        );
        assert!(check_segment_deletion("unused", &docs).is_ok());
    }
}
