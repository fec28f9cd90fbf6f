//! The origin's snapshot answer turned into the set the edge evaluates: parsed, checked against the
//! environment asked for, and compiled with its segments. Pure, so the decisions are host-tested;
//! `sync.rs` only fetches the bytes.

use evaluator::{CompiledFlagSet, Environment, Snapshot};

/// A snapshot ready to serve.
#[derive(Debug)]
pub struct Compiled {
    pub set: CompiledFlagSet,
    pub revision: u64,
}

/// Reads a `200` body of `GET /api/flags/snapshot?environment=<asked>`: `{environment, revision,
/// flags, segments}`. An origin from before segments sends no `segments`: none, so its flags (which
/// cannot name one) answer as they always did. A flag naming a segment or a prerequisite the
/// snapshot lacks still compiles (the origin refuses such writes, but one caught between two
/// writes must not take the environment down): the segment has no members, the prerequisite fails.
/// The error says why the body cannot be served, for the log.
pub fn compile(body: &[u8], asked: Environment) -> Result<Compiled, String> {
    let snapshot: Snapshot = serde_json::from_slice(body)
        .map_err(|err| format!("the snapshot does not parse: {err}"))?;
    if snapshot.environment != asked {
        return Err(format!(
            "asked for {asked}, got a snapshot of {}",
            snapshot.environment
        ));
    }
    let set = CompiledFlagSet::with_segments(&snapshot.flags, &snapshot.segments)
        .map_err(|err| format!("the snapshot does not compile: {err}"))?;
    Ok(Compiled {
        set,
        revision: snapshot.revision,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use evaluator::User;

    fn user(id: &str) -> User {
        User::from_json_str(&format!(r#"{{"id":"{id}"}}"#)).expect("valid user")
    }

    fn answer(compiled: &Compiled, key: &str, id: &str) -> String {
        let user = user(id);
        let result = compiled.set.evaluate_flag(key, &user).expect("flag in set");
        serde_json::to_string(&result).expect("serializes")
    }

    #[test]
    fn a_snapshot_without_segments_is_read_as_having_none() {
        let body = br#"{"environment":"prod","revision":7,"flags":[
            {"key":"v1","enabled":true,"rolloutPercentage":100,"rules":[]}]}"#;
        let compiled = compile(body, Environment::Prod).expect("v1 snapshot");
        assert_eq!(compiled.revision, 7);
        assert_eq!(
            answer(&compiled, "v1", "u"),
            r#"{"flagKey":"v1","enabled":true,"reason":"ROLLOUT","variant":"on","value":true}"#
        );
    }

    #[test]
    fn segments_of_the_snapshot_are_compiled_into_the_set() {
        let body = br#"{"environment":"dev","revision":2,"segments":[
              {"key":"beta","include":["user-1"],"rules":[]}],
            "flags":[{"key":"theme","enabled":true,"type":"string",
              "variants":{"dark":"dark","light":"light"},"offVariant":"light",
              "rules":[{"segment":"beta","serve":"dark"}],"fallthrough":"light"}]}"#;
        let compiled = compile(body, Environment::Dev).expect("v2 snapshot");
        assert_eq!(
            answer(&compiled, "theme", "user-1"),
            r#"{"flagKey":"theme","enabled":true,"reason":"RULE_MATCH","variant":"dark","value":"dark"}"#
        );
        assert_eq!(
            answer(&compiled, "theme", "user-2"),
            r#"{"flagKey":"theme","enabled":true,"reason":"NO_MATCH","variant":"light","value":"light"}"#
        );
    }

    #[test]
    fn names_of_missing_segments_and_flags_still_compile() {
        let body = br#"{"environment":"prod","revision":1,"segments":[],"flags":[
            {"key":"a","enabled":true,"rules":[{"notSegment":"gone"}]},
            {"key":"b","enabled":true,"prerequisites":[{"flag":"gone","variants":["on"]}],
             "rolloutPercentage":100}]}"#;
        let compiled = compile(body, Environment::Prod).expect("dangling names compile");
        assert_eq!(
            answer(&compiled, "a", "u"),
            r#"{"flagKey":"a","enabled":true,"reason":"RULE_MATCH","variant":"on","value":true}"#
        );
        assert_eq!(
            answer(&compiled, "b", "u"),
            r#"{"flagKey":"b","enabled":false,"reason":"PREREQUISITE_FAILED","variant":"off","value":false}"#
        );
    }

    #[test]
    fn what_cannot_be_served_says_why() {
        let cases: [(&[u8], &str); 4] = [
            (b"{", "the snapshot does not parse: "),
            (
                br#"{"environment":"staging","revision":1,"flags":[]}"#,
                "asked for prod, got a snapshot of staging",
            ),
            (
                br#"{"environment":"prod","revision":1,"flags":[],
                    "segments":[{"key":"s"},{"key":"s"}]}"#,
                r#"the snapshot does not compile: segments[1].key: duplicate key "s""#,
            ),
            (
                br#"{"environment":"prod","revision":1,"flags":[
                    {"key":"a","enabled":true,"prerequisites":[{"flag":"b","variants":["on"]}]},
                    {"key":"b","enabled":true,"prerequisites":[{"flag":"a","variants":["on"]}]}]}"#,
                "the snapshot does not compile: flags[",
            ),
        ];
        for (body, expected) in cases {
            let err = compile(body, Environment::Prod).expect_err("refused");
            assert!(err.starts_with(expected), "{err}");
        }
    }
}
