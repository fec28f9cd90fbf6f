//! A segment document as the origin reads an admin body (`strict::from_slice`, then
//! `Segment::from_json_value`). A refusal names its field, and serde refuses with the same message;
//! a segment written back reads as the same segment; compiled with a flag that targets it and one
//! that excludes it, every fixed user is in exactly one of the two, as the reference decides.
#![no_main]

use evaluator::{strict, Flag, Reason, Segment};
use libfuzzer_sys::fuzz_target;
use pennon_fuzz::{
    check_compiled, check_request_error, check_segment_round_trip, check_validation_error, FIXTURES,
};

fuzz_target!(|bytes: &[u8]| {
    let value = match strict::from_slice(bytes) {
        Ok(value) => value,
        Err(error) => return check_request_error(&error),
    };
    let read = Segment::from_json_value(&value);
    let via_serde = serde_json::from_value::<Segment>(value);
    let segment = match (read, via_serde) {
        (Ok(segment), Ok(other)) => {
            assert_eq!(segment, other, "serde reads another segment");
            segment
        }
        (Err(error), Err(other)) => {
            check_validation_error(&error);
            assert_eq!(error.to_string(), other.to_string(), "serde says otherwise");
            return;
        }
        (read, via_serde) => {
            panic!("from_json_value and serde disagree: {read:?} vs {via_serde:?}")
        }
    };
    check_segment_round_trip(&segment);
    let key = segment.key.as_str();
    let flag = |flag_key: &str, condition: &str| {
        let json = serde_json::json!({
            "key": flag_key, "enabled": true, "rules": [{condition: key}]
        });
        Flag::from_json_value(&json).expect("a flag naming a valid segment key reads")
    };
    let flags = [flag("in", "segment"), flag("out", "notSegment")];
    let Some(set) = check_compiled(&flags, std::slice::from_ref(&segment)) else {
        panic!("two flags and one segment do not compile");
    };
    for user in &FIXTURES.users {
        let results = set.evaluate_all(user);
        let matched = |i: usize| results[i].reason == Reason::RuleMatch;
        assert_ne!(
            matched(0),
            matched(1),
            "a user in and out of {key:?}, or neither"
        );
    }
});
