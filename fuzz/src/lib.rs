//! What the fuzz targets share: the golden flag sets of `tests/vectors/` compiled once per
//! environment, a few users taken from the vectors' requests, and the properties every reader and
//! every evaluation must keep. A property that does not hold panics, which libFuzzer reports as a
//! crash with the input that broke it.
//!
//! The harness may unwrap and panic: a panic here is a finding. The code under test may not.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use evaluator::{
    evaluate_in, CompiledFlagSet, Definitions, Environment, EvaluateResponse, Flag, FlagResult,
    Reason, RequestError, Segment, User, ValidationError,
};
use serde_json::{Map, Value};

/// Every golden vector file: `{name, environment, flags, segments?, cases: [{request, response}]}`.
const VECTORS: &[&str] = &[
    include_str!("../../tests/vectors/contract-boundary.json"),
    include_str!("../../tests/vectors/contract-examples.json"),
    include_str!("../../tests/vectors/docs-examples.json"),
    include_str!("../../tests/vectors/flags-filter.json"),
    include_str!("../../tests/vectors/operators.json"),
    include_str!("../../tests/vectors/rollout.json"),
    include_str!("../../tests/vectors/rules-and-groups.json"),
    include_str!("../../tests/vectors/v2-dangling.json"),
    include_str!("../../tests/vectors/v2-operators.json"),
    include_str!("../../tests/vectors/v2-prerequisites.json"),
    include_str!("../../tests/vectors/v2-segments.json"),
    include_str!("../../tests/vectors/v2-semver.json"),
    include_str!("../../tests/vectors/v2-splits.json"),
    include_str!("../../tests/vectors/v2-timestamps.json"),
    include_str!("../../tests/vectors/v2-variants.json"),
];

/// How many users the document targets evaluate each compiled input for.
const USERS: usize = 8;

/// The writable fields of the origin's `PUT /api/admin/flags/{id}` (`UPDATE_FIELDS` in
/// `origin/src/http/routes/flags.rs`); the origin refuses any other before it overlays.
pub const FLAG_UPDATE_FIELDS: &[&str] = &[
    "description",
    "enabled",
    "type",
    "variants",
    "offVariant",
    "prerequisites",
    "rules",
    "rolloutPercentage",
    "fallthrough",
];

/// The writable fields of `PUT /api/admin/segments/{id}` (`origin/src/http/routes/segments.rs`).
pub const SEGMENT_UPDATE_FIELDS: &[&str] = &["description", "include", "rules"];

/// One environment's golden flags and segments, and the set compiled from them.
#[derive(Debug)]
pub struct Golden {
    pub flags: Vec<Flag>,
    pub segments: Vec<Segment>,
    pub set: CompiledFlagSet,
}

impl Golden {
    pub fn definitions(&self) -> Definitions<'_> {
        Definitions {
            flags: &self.flags,
            segments: &self.segments,
        }
    }
}

#[derive(Debug)]
pub struct Fixtures {
    /// Dev, staging, prod: the flags of every vector file of that environment (a key met twice
    /// keeps its first flag), compiled as the origin compiles an environment.
    environments: Vec<(Environment, Golden)>,
    /// Users of the vectors' requests, a few of each kind (ids, attributes, versions, times).
    pub users: Vec<User>,
    /// The golden flags of every environment, each key once.
    pub flags: Vec<Flag>,
    /// The golden segments of every environment, each key once.
    pub segments: Vec<Segment>,
}

impl Fixtures {
    fn load() -> Self {
        let files: Vec<Value> = VECTORS
            .iter()
            .map(|text| serde_json::from_str(text).expect("a golden vector file is JSON"))
            .collect();
        let environments = [Environment::Dev, Environment::Staging, Environment::Prod]
            .into_iter()
            .map(|environment| {
                let of_it: Vec<&Value> = files
                    .iter()
                    .filter(|file| file["environment"] == environment.as_str())
                    .collect();
                (environment, golden(&of_it))
            })
            .collect();
        let all = golden(&files.iter().collect::<Vec<_>>());
        let requests: Vec<&Value> = files
            .iter()
            .flat_map(|file| file["cases"].as_array().into_iter().flatten())
            .map(|case| &case["request"]["user"])
            .collect();
        let step = (requests.len() / USERS).max(1);
        let users = requests
            .iter()
            .step_by(step)
            .take(USERS)
            .map(|user| User::from_json_value(user).expect("a golden user reads"))
            .collect();
        Self {
            environments,
            users,
            flags: all.flags,
            segments: all.segments,
        }
    }

    /// The golden set the origin would answer `environment` from.
    pub fn environment(&self, environment: Environment) -> &Golden {
        &self
            .environments
            .iter()
            .find(|(e, _)| *e == environment)
            .expect("every environment has a golden set")
            .1
    }
}

fn golden(files: &[&Value]) -> Golden {
    let mut flags: BTreeMap<String, Flag> = BTreeMap::new();
    let mut segments: BTreeMap<String, Segment> = BTreeMap::new();
    for file in files {
        for flag in file["flags"].as_array().into_iter().flatten() {
            let flag = Flag::from_json_value(flag).expect("a golden flag reads");
            flags.entry(flag.key.as_str().to_owned()).or_insert(flag);
        }
        for segment in file["segments"].as_array().into_iter().flatten() {
            let segment = Segment::from_json_value(segment).expect("a golden segment reads");
            segments
                .entry(segment.key.as_str().to_owned())
                .or_insert(segment);
        }
    }
    let flags: Vec<Flag> = flags.into_values().collect();
    let segments: Vec<Segment> = segments.into_values().collect();
    let set = CompiledFlagSet::with_segments(&flags, &segments).expect("the golden set compiles");
    Golden {
        flags,
        segments,
        set,
    }
}

pub static FIXTURES: LazyLock<Fixtures> = LazyLock::new(Fixtures::load);

/// A refusal is a typed error that names a field and says what is wrong with it.
pub fn check_validation_error(error: &ValidationError) {
    assert!(
        !error.field().is_empty(),
        "an error without a field: {error:?}"
    );
    assert!(
        !error.message().is_empty(),
        "an error without a message: {error:?}"
    );
    assert_eq!(
        error.to_string(),
        format!("{}: {}", error.field(), error.message())
    );
}

/// A refused body is either not JSON (serde_json's message after `invalid JSON: `) or breaks the
/// shape, naming the field.
pub fn check_request_error(error: &RequestError) {
    match error {
        RequestError::InvalidJson(detail) => {
            assert!(!detail.is_empty(), "invalid JSON without a detail");
            assert_eq!(error.to_string(), format!("invalid JSON: {detail}"));
        }
        RequestError::Invalid(error) => check_validation_error(error),
    }
}

/// The answers of a compiled set for `user` keep their contract: sorted by key, each key once;
/// exactly the keys asked (or every flag of the set); a key the set lacks is `FLAG_NOT_FOUND`;
/// every other answer is the reference evaluation's (`evaluate_in` over the same definitions) and
/// `evaluate_flag`'s; and the fast writer writes serde's bytes.
pub fn check_results(
    set: &CompiledFlagSet,
    definitions: &Definitions<'_>,
    user: &User,
    keys: Option<&[String]>,
    results: &[FlagResult<'_>],
) {
    assert!(
        results.windows(2).all(|w| w[0].flag_key < w[1].flag_key),
        "results not sorted by key, each once"
    );
    match keys {
        Some(keys) => {
            let mut asked: Vec<&str> = keys.iter().map(String::as_str).collect();
            asked.sort_unstable();
            asked.dedup();
            let answered: Vec<&str> = results.iter().map(|r| r.flag_key).collect();
            assert_eq!(answered, asked, "not the keys asked");
        }
        None => {
            assert_eq!(results.len(), set.len(), "not every flag of the set");
            assert!(results.iter().map(|r| r.flag_key).eq(set.keys()));
        }
    }
    let by_key: BTreeMap<&str, &Flag> = definitions
        .flags
        .iter()
        .map(|flag| (flag.key.as_str(), flag))
        .collect();
    for result in results {
        match by_key.get(result.flag_key) {
            None => {
                assert!(!set.contains(result.flag_key));
                assert_eq!(*result, FlagResult::not_found(result.flag_key));
                assert_eq!(result.reason, Reason::FlagNotFound);
            }
            Some(flag) => {
                let reference = FlagResult::of(flag, evaluate_in(definitions, flag, user));
                assert_eq!(*result, reference, "compiled and reference disagree");
                let alone = set.evaluate_flag(result.flag_key, user);
                assert_eq!(alone.as_ref(), Some(result), "evaluate_flag disagrees");
            }
        }
    }
    let response = EvaluateResponse {
        results: results.to_vec(),
    };
    let fast = response.to_json();
    let serde = serde_json::to_vec(&response).expect("a response serializes");
    assert!(
        fast == serde,
        "to_json and serde write different bytes:\n{}\n{}",
        String::from_utf8_lossy(&fast),
        String::from_utf8_lossy(&serde)
    );
}

/// Compiles `flags` with `segments` and, when they compile, checks the answers of every fixed user
/// against the reference evaluation. A refusal must name its field.
pub fn check_compiled(flags: &[Flag], segments: &[Segment]) -> Option<CompiledFlagSet> {
    match CompiledFlagSet::with_segments(flags, segments) {
        Err(error) => {
            check_validation_error(&error);
            None
        }
        Ok(set) => {
            assert_eq!(set.len(), flags.len());
            let definitions = Definitions { flags, segments };
            for user in &FIXTURES.users {
                let results = set.evaluate_all(user);
                check_results(&set, &definitions, user, None, &results);
            }
            Some(set)
        }
    }
}

/// A flag's JSON as `Serialize` writes it: the definition a patch is laid over.
pub fn flag_definition(flag: &Flag) -> Map<String, Value> {
    match serde_json::to_value(flag).expect("a flag serializes") {
        Value::Object(map) => map,
        other => panic!("a flag serializes as {other}"),
    }
}

/// A segment's JSON as `Serialize` writes it.
pub fn segment_definition(segment: &Segment) -> Map<String, Value> {
    match serde_json::to_value(segment).expect("a segment serializes") {
        Value::Object(map) => map,
        other => panic!("a segment serializes as {other}"),
    }
}

/// Written as JSON text and read back through the origin's strict reader, a flag is the same flag,
/// and writing it again gives the same bytes.
pub fn check_flag_round_trip(flag: &Flag) {
    let text = serde_json::to_vec(flag).expect("a flag serializes");
    let value = evaluator::strict::from_slice(&text)
        .unwrap_or_else(|e| panic!("a written flag does not read as JSON: {e}"));
    let back = Flag::from_json_value(&value).unwrap_or_else(|e| {
        panic!(
            "a written flag is refused: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    assert_eq!(&back, flag, "a flag is not what it was after a round trip");
    assert_eq!(
        serde_json::to_vec(&back).expect("a flag serializes"),
        text,
        "a flag read back is written differently"
    );
}

/// [`check_flag_round_trip`] for a segment.
pub fn check_segment_round_trip(segment: &Segment) {
    let text = serde_json::to_vec(segment).expect("a segment serializes");
    let value = evaluator::strict::from_slice(&text)
        .unwrap_or_else(|e| panic!("a written segment does not read as JSON: {e}"));
    let back = Segment::from_json_value(&value).unwrap_or_else(|e| {
        panic!(
            "a written segment is refused: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    assert_eq!(
        &back, segment,
        "a segment is not what it was after a round trip"
    );
    assert_eq!(
        serde_json::to_vec(&back).expect("a segment serializes"),
        text,
        "a segment read back is written differently"
    );
}
