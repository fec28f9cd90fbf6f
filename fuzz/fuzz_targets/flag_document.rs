//! A flag document as the origin reads an admin body (`strict::from_slice`, then
//! `Flag::from_json_value`) and serde reads a snapshot's flags. A refusal names its field, and
//! serde refuses with the same message; a flag written back reads as the same flag; compiled alone
//! (with the golden segments), it answers as the reference evaluation.
#![no_main]

use evaluator::{strict, Flag};
use libfuzzer_sys::fuzz_target;
use pennon_fuzz::{
    check_compiled, check_flag_round_trip, check_request_error, check_validation_error, FIXTURES,
};

fuzz_target!(|bytes: &[u8]| {
    let value = match strict::from_slice(bytes) {
        Ok(value) => value,
        Err(error) => return check_request_error(&error),
    };
    let read = Flag::from_json_value(&value);
    let via_serde = serde_json::from_value::<Flag>(value);
    match (&read, &via_serde) {
        (Ok(flag), Ok(other)) => assert_eq!(flag, other, "serde reads another flag"),
        (Err(error), Err(other)) => {
            check_validation_error(error);
            assert_eq!(error.to_string(), other.to_string(), "serde says otherwise");
        }
        _ => panic!("from_json_value and serde disagree: {read:?} vs {via_serde:?}"),
    }
    if let Ok(flag) = read {
        check_flag_round_trip(&flag);
        check_compiled(std::slice::from_ref(&flag), &FIXTURES.segments);
    }
});
