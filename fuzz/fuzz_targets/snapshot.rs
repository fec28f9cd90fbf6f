//! The snapshot the edge worker syncs (`GET /api/flags/snapshot`), read as the worker reads it
//! (`serde_json::from_slice::<Snapshot>`, `edge-worker/src/snapshot.rs`) and compiled with its
//! segments (`CompiledFlagSet::with_segments`, as the worker and the npm package's `Evaluator`
//! do). A snapshot written back reads as the same snapshot; a compiled one answers every fixed
//! user as the reference evaluation, for every key and for keys it lacks.
#![no_main]

use evaluator::{Definitions, Snapshot};
use libfuzzer_sys::fuzz_target;
use pennon_fuzz::{check_compiled, check_results, FIXTURES};

fuzz_target!(|body: &[u8]| {
    let snapshot: Snapshot = match serde_json::from_slice(body) {
        Ok(snapshot) => snapshot,
        Err(error) => return assert!(!error.to_string().is_empty()),
    };
    let text = serde_json::to_vec(&snapshot).expect("a snapshot serializes");
    let back: Snapshot = serde_json::from_slice(&text).unwrap_or_else(|e| {
        panic!(
            "a written snapshot is refused: {e}\n{}",
            String::from_utf8_lossy(&text)
        )
    });
    assert_eq!(
        back, snapshot,
        "a snapshot is not what it was after a round trip"
    );
    let Some(set) = check_compiled(&snapshot.flags, &snapshot.segments) else {
        return;
    };
    let definitions = Definitions {
        flags: &snapshot.flags,
        segments: &snapshot.segments,
    };
    let mut keys: Vec<String> = set.keys().map(str::to_owned).collect();
    keys.push("not.in.the.snapshot".to_owned());
    keys.reverse();
    for user in FIXTURES.users.iter().take(2) {
        let results = set.evaluate_keys(user, &keys);
        check_results(&set, &definitions, user, Some(&keys), &results);
    }
});
