//! `POST /ofrep/v1/evaluate/flags[/{key}]` as the origin and the edge worker answer it: the body
//! read by `ofrep::read_context`, then evaluated by the golden prod set and written by the OFREP
//! writers. A refusal must carry a 400 code and a message; an answer must be the reference
//! evaluation's, and every body written must be the JSON it claims: one item per flag, each a
//! success with the flag's key or a `FLAG_NOT_FOUND` error.
#![no_main]

use evaluator::ofrep::{self, ErrorCode};
use evaluator::Environment;
use libfuzzer_sys::fuzz_target;
use pennon_fuzz::{check_results, FIXTURES};

fuzz_target!(|body: &[u8]| {
    let user = match ofrep::read_context(body) {
        Ok(user) => user,
        Err(error) => {
            assert!(
                !error.details.is_empty(),
                "an OFREP refusal without details"
            );
            assert_eq!(error.status(), 400, "{:?}", error.code);
            assert!(matches!(
                error.code,
                ErrorCode::ParseError | ErrorCode::InvalidContext | ErrorCode::TargetingKeyMissing
            ));
            return;
        }
    };
    let golden = FIXTURES.environment(Environment::Prod);
    let results = golden.set.evaluate_all(&user);
    check_results(&golden.set, &golden.definitions(), &user, None, &results);
    let bulk: serde_json::Value =
        serde_json::from_slice(&ofrep::bulk_body(&results, Environment::Prod, None))
            .expect("the bulk body is JSON");
    let items = bulk["flags"].as_array().expect("flags");
    assert_eq!(items.len(), results.len());
    for (item, result) in items.iter().zip(&results) {
        assert_eq!(item["key"], result.flag_key);
        let single: serde_json::Value =
            serde_json::from_slice(&ofrep::flag_body(result, Environment::Prod))
                .expect("the single body is JSON");
        assert_eq!(&single, item, "single and bulk agree");
    }
});
