//! The body of `PUT /api/admin/flags/{id}` and `PUT /api/admin/segments/{id}` as the origin reads
//! it: `strict::object_from_slice`, unknown fields refused (`fields::refuse_unknown`), then laid
//! over a stored definition and read whole (`Flag::from_json_patch`, `Segment::from_json_patch`,
//! what `origin/src/store/model.rs` calls), over golden flags of every shape and golden segments.
//! A refusal names its field; a patch cannot change the key; laying the same patch over its own
//! result changes nothing; the result round-trips.
#![no_main]

use evaluator::fields::refuse_unknown;
use evaluator::{strict, Flag, Segment};
use libfuzzer_sys::fuzz_target;
use pennon_fuzz::{
    check_flag_round_trip, check_request_error, check_segment_round_trip, check_validation_error,
    flag_definition, segment_definition, FIXTURES, FLAG_UPDATE_FIELDS, SEGMENT_UPDATE_FIELDS,
};
use std::sync::LazyLock;

/// One golden flag of each shape: type, prerequisites or not, rollout or served fallthrough.
static BASE_FLAGS: LazyLock<Vec<Flag>> = LazyLock::new(|| {
    let mut shapes = Vec::new();
    let mut bases = Vec::new();
    for flag in &FIXTURES.flags {
        let shape = (
            flag.flag_type(),
            flag.prerequisites().is_empty(),
            matches!(flag.fallthrough(), evaluator::Fallthrough::Rollout(_)),
        );
        if !shapes.contains(&shape) {
            shapes.push(shape);
            bases.push(flag.clone());
        }
    }
    bases
});

fuzz_target!(|body: &[u8]| {
    let patch = match strict::object_from_slice(body) {
        Ok(patch) => patch,
        Err(error) => return check_request_error(&error),
    };
    match refuse_unknown(&patch, FLAG_UPDATE_FIELDS) {
        Err(error) => check_validation_error(&error),
        Ok(()) => {
            for before in BASE_FLAGS.iter() {
                match Flag::from_json_patch(flag_definition(before), &patch) {
                    Err(error) => check_validation_error(&error),
                    Ok(after) => {
                        assert_eq!(after.key, before.key, "a patch changed the key");
                        let again = Flag::from_json_patch(flag_definition(&after), &patch)
                            .expect("a patch that applied once applies again");
                        assert_eq!(again, after, "a patch laid twice is not laid once");
                        check_flag_round_trip(&after);
                    }
                }
            }
        }
    }
    match refuse_unknown(&patch, SEGMENT_UPDATE_FIELDS) {
        Err(error) => check_validation_error(&error),
        Ok(()) => {
            for before in &FIXTURES.segments {
                match Segment::from_json_patch(segment_definition(before), &patch) {
                    Err(error) => check_validation_error(&error),
                    Ok(after) => {
                        assert_eq!(after.key, before.key, "a patch changed the key");
                        let again = Segment::from_json_patch(segment_definition(&after), &patch)
                            .expect("a patch that applied once applies again");
                        assert_eq!(again, after, "a patch laid twice is not laid once");
                        check_segment_round_trip(&after);
                    }
                }
            }
        }
    }
});
