//! A partial update: a patch object laid over a flag's or a segment's JSON definition, and the result
//! read whole, so that a patch is checked as the document it makes. The origin's `PUT` endpoints
//! write through this (after refusing unknown fields), and the fuzzer reads patches through it.

use alloc::string::String;

use serde_json::{Map, Value};

use crate::error::ValidationError;
use crate::flag::Flag;
use crate::segment::Segment;

/// `definition` with the non-null fields of `patch` laid over it (a field given as `null` is left
/// as it is). A flag has `rolloutPercentage` or `fallthrough`, not both: a patch that gives one
/// removes the other (one that gives both keeps both, and the flag reader refuses it).
fn overlay(definition: &mut Map<String, Value>, patch: &Map<String, Value>) {
    let given = |name: &str| patch.get(name).is_some_and(|value| !value.is_null());
    match (given("rolloutPercentage"), given("fallthrough")) {
        (true, false) => drop(definition.remove("fallthrough")),
        (false, true) => drop(definition.remove("rolloutPercentage")),
        _ => {}
    }
    for (name, value) in patch {
        if !value.is_null() {
            definition.insert(name.clone(), value.clone());
        }
    }
}

impl Flag {
    /// The flag that `definition` (a flag's JSON, as `Serialize` writes it) becomes with `patch`
    /// laid over it: the non-null fields of `patch` replace those of `definition`, and giving
    /// `rolloutPercentage` or `fallthrough` removes the other. The result is read whole by
    /// [`Flag::from_json_value`], so its errors are that reader's. `patch` is taken as it is:
    /// a caller that allows only some fields refuses the others first
    /// ([`crate::fields::refuse_unknown`]).
    pub fn from_json_patch(
        mut definition: Map<String, Value>,
        patch: &Map<String, Value>,
    ) -> Result<Self, ValidationError> {
        overlay(&mut definition, patch);
        Self::from_json_value(&Value::Object(definition))
    }
}

impl Segment {
    /// [`Flag::from_json_patch`] for a segment: `definition` with the non-null fields of `patch`
    /// laid over it, read whole by [`Segment::from_json_value`].
    pub fn from_json_patch(
        mut definition: Map<String, Value>,
        patch: &Map<String, Value>,
    ) -> Result<Self, ValidationError> {
        overlay(&mut definition, patch);
        Self::from_json_value(&Value::Object(definition))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn object(value: Value) -> Map<String, Value> {
        match value {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        }
    }

    fn definition(flag: &Flag) -> Map<String, Value> {
        object(serde_json::to_value(flag).unwrap())
    }

    fn flag(json: Value) -> Flag {
        Flag::from_json_value(&json).unwrap()
    }

    #[test]
    fn a_patch_replaces_what_it_names_and_null_leaves_a_field_as_it_is() {
        let before =
            flag(serde_json::json!({"key": "k", "description": "d", "rolloutPercentage": 10}));
        let patch = object(serde_json::json!({"enabled": true, "description": null}));
        let after = Flag::from_json_patch(definition(&before), &patch).unwrap();
        assert!(after.enabled);
        assert_eq!(after.description, "d");
        assert_eq!(after.fallthrough(), before.fallthrough());
        assert_eq!(
            Flag::from_json_patch(definition(&before), &Map::new()).unwrap(),
            before
        );
    }

    #[test]
    fn rollout_and_fallthrough_replace_each_other_and_both_are_refused() {
        let before = flag(serde_json::json!({"key": "k", "rolloutPercentage": 10}));
        let served = object(serde_json::json!({"fallthrough": "on"}));
        let after = Flag::from_json_patch(definition(&before), &served).unwrap();
        let json = serde_json::to_value(&after).unwrap();
        assert_eq!(json["fallthrough"], "on");
        assert!(json.get("rolloutPercentage").is_none(), "{json}");
        let back = object(serde_json::json!({"rolloutPercentage": 5, "fallthrough": null}));
        let json = serde_json::to_value(Flag::from_json_patch(definition(&after), &back).unwrap())
            .unwrap();
        assert_eq!(json["rolloutPercentage"], 5);
        assert!(json.get("fallthrough").is_none(), "{json}");
        let both = object(serde_json::json!({"rolloutPercentage": 5, "fallthrough": "on"}));
        assert_eq!(
            Flag::from_json_patch(definition(&before), &both)
                .unwrap_err()
                .to_string(),
            "rolloutPercentage: a flag has rolloutPercentage or fallthrough, not both"
        );
    }

    #[test]
    fn a_segment_patch_is_read_as_the_whole_segment() {
        let before =
            Segment::from_json_value(&serde_json::json!({"key": "beta", "include": ["u1"]}))
                .unwrap();
        let definition = object(serde_json::to_value(&before).unwrap());
        let patch = object(serde_json::json!({"include": ["u1", "u1"]}));
        let error = Segment::from_json_patch(definition.clone(), &patch).unwrap_err();
        assert_eq!(error.field(), "include[1]");
        let patch = object(serde_json::json!({"description": "testers"}));
        let after = Segment::from_json_patch(definition, &patch).unwrap();
        assert_eq!(after.description, "testers");
        assert_eq!(after.include, before.include);
    }
}
