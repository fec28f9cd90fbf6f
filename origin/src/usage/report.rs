//! `POST /api/usage`'s body: the counts an edge worker (or any server-side evaluator) made since its
//! last report, read and checked whole before any of it is added.

use evaluator::Environment;
use serde_json::{Map, Value};

/// Entries in one report, at most: a worker reports per environment, and a set of 10,000 flags
/// with every variant evaluated in one interval is past what it sends.
pub const MAX_ENTRIES: usize = 10_000;

/// The largest count JSON numbers carry exactly everywhere (2^53 − 1).
const MAX_COUNT: u64 = (1 << 53) - 1;

/// A report's times may run ahead of the origin's clock by this much (clocks differ); later ones
/// are refused, earlier ones are taken as they are.
pub const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub environment: Environment,
    pub entries: Vec<Entry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub flag: String,
    pub variant: String,
    pub count: u64,
    /// Milliseconds since the Unix epoch, never after the origin's clock (later times are taken
    /// as now).
    pub last_evaluated_at: i64,
}

/// A report that cannot be read: the message names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReportError(String);

fn error(path: &str, message: &str) -> ReportError {
    ReportError(format!("{path}: {message}"))
}

fn only(object: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), ReportError> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(ReportError(format!(
            "{path}{key}: unknown field (allowed: {})",
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

fn string<'a>(
    object: &'a Map<String, Value>,
    field: &str,
    path: &str,
) -> Result<&'a str, ReportError> {
    match object.get(field) {
        Some(Value::String(text)) if !text.is_empty() && text.len() <= 256 => Ok(text),
        Some(Value::String(_)) => Err(error(path, "must be 1 to 256 bytes")),
        Some(_) => Err(error(path, "must be a string")),
        None => Err(error(path, "required")),
    }
}

fn whole(object: &Map<String, Value>, field: &str, path: &str) -> Result<u64, ReportError> {
    match object.get(field) {
        Some(value) => value
            .as_u64()
            .filter(|&n| n <= MAX_COUNT)
            .ok_or_else(|| error(path, "must be a whole number from 0 to 2^53 - 1")),
        None => Err(error(path, "required")),
    }
}

impl Report {
    /// Reads a report; `now` is the origin's clock (milliseconds since the Unix epoch).
    pub fn from_json(body: &Map<String, Value>, now: i64) -> Result<Self, ReportError> {
        only(body, &["environment", "counts"], "")?;
        let environment = Environment::parse(string(body, "environment", "environment")?)
            .map_err(|e| error("environment", &e.to_string()))?;
        let counts = match body.get("counts") {
            Some(Value::Array(counts)) => counts,
            Some(_) => return Err(error("counts", "must be an array")),
            None => return Err(error("counts", "required")),
        };
        if counts.len() > MAX_ENTRIES {
            return Err(error(
                "counts",
                &format!("at most {MAX_ENTRIES} entries per report"),
            ));
        }
        let mut entries = Vec::with_capacity(counts.len());
        for (index, entry) in counts.iter().enumerate() {
            let at = |field: &str| format!("counts[{index}].{field}");
            let Value::Object(entry) = entry else {
                return Err(error(&format!("counts[{index}]"), "must be an object"));
            };
            only(
                entry,
                &["flag", "variant", "count", "lastEvaluatedAt"],
                &at(""),
            )?;
            let count = whole(entry, "count", &at("count"))?;
            if count == 0 {
                return Err(error(&at("count"), "must be at least 1"));
            }
            let last = whole(entry, "lastEvaluatedAt", &at("lastEvaluatedAt"))?;
            let last = i64::try_from(last).unwrap_or(i64::MAX);
            if last > now.saturating_add(CLOCK_SKEW_MS) {
                return Err(error(
                    &at("lastEvaluatedAt"),
                    "is in the future (more than 5 minutes after the origin's clock)",
                ));
            }
            entries.push(Entry {
                flag: string(entry, "flag", &at("flag"))?.to_owned(),
                variant: string(entry, "variant", &at("variant"))?.to_owned(),
                count,
                last_evaluated_at: last.min(now),
            });
        }
        Ok(Self {
            environment,
            entries,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_800_000_000_000;

    fn read(body: Value) -> Result<Report, String> {
        let Value::Object(body) = body else {
            panic!("an object")
        };
        Report::from_json(&body, NOW).map_err(|e| e.to_string())
    }

    #[test]
    fn a_report_is_read_whole() {
        let report = read(json!({"environment": "prod", "counts": [
            {"flag": "a", "variant": "on", "count": 3, "lastEvaluatedAt": NOW - 5},
            {"flag": "a", "variant": "off", "count": 1, "lastEvaluatedAt": NOW + 1000},
        ]}))
        .unwrap();
        assert_eq!(report.environment, Environment::Prod);
        assert_eq!(report.entries.len(), 2);
        assert_eq!(report.entries[0].last_evaluated_at, NOW - 5);
        assert_eq!(
            report.entries[1].last_evaluated_at, NOW,
            "a clock ahead is taken as now"
        );
    }

    #[test]
    fn every_bad_field_is_named() {
        let entry = |patch: Value| {
            let mut entry = json!({"flag": "a", "variant": "on", "count": 1, "lastEvaluatedAt": 1});
            for (k, v) in patch.as_object().unwrap() {
                entry[k] = v.clone();
            }
            read(json!({"environment": "dev", "counts": [entry]})).unwrap_err()
        };
        assert_eq!(
            entry(json!({"count": 0})),
            "counts[0].count: must be at least 1"
        );
        assert_eq!(
            entry(json!({"count": 1.5})),
            "counts[0].count: must be a whole number from 0 to 2^53 - 1"
        );
        assert_eq!(
            entry(json!({"count": 9_007_199_254_740_992_u64})),
            "counts[0].count: must be a whole number from 0 to 2^53 - 1"
        );
        assert_eq!(
            entry(json!({"flag": 3})),
            "counts[0].flag: must be a string"
        );
        assert_eq!(
            entry(json!({"variant": ""})),
            "counts[0].variant: must be 1 to 256 bytes"
        );
        assert_eq!(
            entry(json!({"lastEvaluatedAt": NOW + CLOCK_SKEW_MS + 1})),
            "counts[0].lastEvaluatedAt: is in the future (more than 5 minutes after the origin's clock)"
        );
        assert_eq!(
            entry(json!({"extra": 1})),
            "counts[0].extra: unknown field (allowed: flag, variant, count, lastEvaluatedAt)"
        );
        assert!(read(json!({"environment": "qa", "counts": []}))
            .unwrap_err()
            .starts_with("environment: "));
        assert_eq!(
            read(json!({"environment": "dev"})).unwrap_err(),
            "counts: required"
        );
        let many: Vec<Value> = (0..=MAX_ENTRIES)
            .map(|_| json!({"flag": "a", "variant": "on", "count": 1, "lastEvaluatedAt": 1}))
            .collect();
        assert_eq!(
            read(json!({"environment": "dev", "counts": many})).unwrap_err(),
            "counts: at most 10000 entries per report"
        );
    }
}
