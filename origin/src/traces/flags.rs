//! The OpenTelemetry semantic conventions for feature flags on the evaluation routes' spans
//! (<https://opentelemetry.io/docs/specs/semconv/feature-flags/>; docs/metrics.md, "Traces").
//!
//! A single-flag evaluation (OFREP's `POST /ofrep/v1/evaluate/flags/{key}`) puts its attributes on
//! the request's span; a bulk one (`POST /api/evaluate`, OFREP's bulk route) adds one
//! `feature_flag.evaluation` event per result to it, with the same attributes (at most one per
//! flag of the environment's set, and the SDK keeps the first `OTEL_SPAN_EVENT_COUNT_LIMIT`, 128
//! by default). Nothing of the user is recorded: not the targeting key (`feature_flag.context.id`
//! stays unset), not an attribute, not the value served.
//!
//! The callers check [`super::is_on`] first: with traces off nothing here runs.

use evaluator::{Environment, FlagResult, Reason};
use opentelemetry::KeyValue;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;

pub const EVENT: &str = "feature_flag.evaluation";
pub const KEY: &str = "feature_flag.key";
pub const VARIANT: &str = "feature_flag.result.variant";
pub const REASON: &str = "feature_flag.result.reason";
pub const PROVIDER: &str = "feature_flag.provider.name";
pub const SET_ID: &str = "feature_flag.set.id";
pub const ERROR_TYPE: &str = "error.type";
/// Not a convention: how many results a bulk evaluation made (its events may be fewer).
pub const EVALUATIONS: &str = "pennon.evaluations";

pub const PROVIDER_NAME: &str = "pennon";
/// `error.type` of a key the environment does not have (OpenFeature's `FLAG_NOT_FOUND`).
pub const FLAG_NOT_FOUND: &str = "flag_not_found";

/// Pennon's reason as the convention's `feature_flag.result.reason`: the OFREP mapping
/// (`evaluator::ofrep::open_feature_reason`) in lower case. `RULE_MATCH` → `targeting_match`,
/// `ROLLOUT` → `split`, `NO_MATCH` → `default`, `FLAG_DISABLED` and `PREREQUISITE_FAILED` →
/// `disabled`, `FLAG_NOT_FOUND` → `error`.
pub fn reason(reason: Reason) -> &'static str {
    match reason {
        Reason::RuleMatch => "targeting_match",
        Reason::Rollout => "split",
        Reason::NoMatch => "default",
        Reason::FlagDisabled | Reason::PrerequisiteFailed => "disabled",
        Reason::FlagNotFound => "error",
    }
}

/// The attributes of one result: key, reason, variant (or `error.type` for a key not found).
fn attributes(result: &FlagResult<'_>, with_set: Option<Environment>) -> Vec<KeyValue> {
    let mut attributes = Vec::with_capacity(5);
    attributes.push(KeyValue::new(KEY, result.flag_key.to_owned()));
    attributes.push(KeyValue::new(REASON, reason(result.reason)));
    match result.variant() {
        Some(variant) => attributes.push(KeyValue::new(VARIANT, variant.to_owned())),
        None => attributes.push(KeyValue::new(ERROR_TYPE, FLAG_NOT_FOUND)),
    }
    if let Some(environment) = with_set {
        attributes.push(KeyValue::new(PROVIDER, PROVIDER_NAME));
        attributes.push(KeyValue::new(SET_ID, environment.as_str()));
    }
    attributes
}

/// The provider and the set (the environment) on the request's span.
fn set_provider(span: &Span, environment: Environment) {
    span.set_attribute(PROVIDER, PROVIDER_NAME);
    span.set_attribute(SET_ID, environment.as_str());
}

/// One flag decided for the request of `span`: its attributes on the span.
pub fn record_flag(span: &Span, environment: Environment, result: &FlagResult<'_>) {
    set_provider(span, environment);
    for attribute in attributes(result, None) {
        span.set_attribute(attribute.key, attribute.value);
    }
}

/// A key that `environment` does not have, asked for alone.
pub fn record_not_found(span: &Span, environment: Environment, key: &str) {
    record_flag(span, environment, &FlagResult::not_found(key));
}

/// The flags decided for the request of `span`: one `feature_flag.evaluation` event each.
pub fn record_flags(span: &Span, environment: Environment, results: &[FlagResult<'_>]) {
    set_provider(span, environment);
    span.set_attribute(
        EVALUATIONS,
        i64::try_from(results.len()).unwrap_or(i64::MAX),
    );
    for result in results {
        span.add_event(EVENT, attributes(result, Some(environment)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The convention's values, and the same decision as OFREP's reasons.
    #[test]
    fn reasons() {
        for (pennon, convention) in [
            (Reason::RuleMatch, "targeting_match"),
            (Reason::Rollout, "split"),
            (Reason::NoMatch, "default"),
            (Reason::FlagDisabled, "disabled"),
            (Reason::PrerequisiteFailed, "disabled"),
            (Reason::FlagNotFound, "error"),
        ] {
            assert_eq!(reason(pennon), convention, "{pennon:?}");
            assert_eq!(
                evaluator::ofrep::open_feature_reason(pennon).to_ascii_lowercase(),
                convention
            );
        }
    }

    #[test]
    fn a_key_not_found_is_an_error_without_a_variant() {
        let attributes = attributes(&FlagResult::not_found("nope"), Some(Environment::Dev));
        let get = |key: &str| {
            attributes
                .iter()
                .find(|a| a.key.as_str() == key)
                .map(|a| a.value.as_str().into_owned())
        };
        assert_eq!(get(KEY).as_deref(), Some("nope"));
        assert_eq!(get(REASON).as_deref(), Some("error"));
        assert_eq!(get(ERROR_TYPE).as_deref(), Some(FLAG_NOT_FOUND));
        assert_eq!(get(VARIANT), None);
        assert_eq!(get(SET_ID).as_deref(), Some("dev"));
        assert_eq!(get(PROVIDER).as_deref(), Some("pennon"));
    }
}
