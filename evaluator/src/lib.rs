//! Pennon's flag model and its evaluation.
//!
//! This crate is the one place where a flag is decided. It is `no_std` + `alloc` and does no I/O, so the
//! origin (natively), the edge worker (WebAssembly) and the npm package (wasm-bindgen) all run exactly this
//! code and give exactly the same answer.
//!
//! - [`Flag`], [`Rule`], [`Condition`]… can only hold valid values: they are built by validation at the
//!   boundary (`FromStr`/`parse`/`TryFrom`, or serde through [`Flag::from_json_value`]), and every error
//!   names the offending field.
//! - [`evaluate`] decides one flag for one [`User`]; [`CompiledFlagSet`] turns many flags into a form
//!   that is ready to run and is the hot path of the origin and the edge. Both agree on every input.
//! - [`bucket`] is the deterministic rollout: `murmur3_x86_32(user.id ++ flag.key, 0) % 100`.
//! - Every JSON reader refuses an object that holds a key twice, naming its path: the evaluate request
//!   and its user at any depth, and [`strict`] for any other document (the origin's admin bodies),
//!   which the origin then reads with the same field rules as the evaluator's readers ([`fields`]).
//!   Numbers are read as the correctly rounded double and written in the shortest form that reads
//!   back as the same double.
//! - `ofrep` (with `result-json`) reads OpenFeature's OFREP request, whose context becomes the
//!   user, and writes OFREP's answers, so the origin and the edge answer OFREP byte for byte alike.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![deny(unsafe_code)]
#![warn(missing_docs)]

extern crate alloc;

#[cfg(feature = "serde")]
mod attribute_reader;
mod compiled;
mod decide;
mod error;
mod evaluate;
#[cfg(feature = "serde")]
pub mod fields;
mod flag;
mod hash;
#[cfg(feature = "serde")]
mod json;
#[cfg(feature = "serde")]
mod json_path;
#[cfg(feature = "result-json")]
pub mod ofrep;
#[cfg(feature = "serde")]
mod reader;
#[cfg(feature = "serde")]
mod request;
mod rule;
mod segment;
mod semver;
mod serve;
#[cfg(feature = "serde")]
mod snapshot;
#[cfg(feature = "serde")]
pub mod strict;
mod timestamp;
mod user;
mod value;
mod variant;

pub use compiled::{CompiledFlagSet, FlagResult};
pub use error::{echo, echo_key, Echo, ValidationError, ECHO_CHARS};
pub use evaluate::{evaluate, evaluate_in, Definitions, Evaluation, Reason};
pub use flag::{Environment, Fallthrough, Flag, FlagKey, Prerequisite, RolloutPercentage};
pub use hash::{bucket, murmur3_x86_32, Murmur3Prefix};
#[cfg(feature = "serde")]
pub use request::{EvaluateRequest, EvaluateResponse, RequestError};
pub use rule::{
    AttributePath, Comparison, Condition, ConditionGroup, Field, Match, Operator, Rule, RuleList,
    ScalarList, Spelled,
};
pub use segment::{IncludeList, Segment, SegmentKey, SegmentRules};
pub use semver::SemVer;
pub use serve::{Serve, Slice, Split, SPLIT_TOTAL};
#[cfg(feature = "serde")]
pub use snapshot::Snapshot;
pub use timestamp::Timestamp;
pub use user::User;
pub use value::{AttributeValue, Number, Scalar};
pub use variant::{FlagType, VariantId, VariantName, VariantValue, Variants};
