//! The dashboard and the alert rules in `docs/` parse, and use only metrics `docs/metrics.md`
//! lists (and `metrics.rs` checks the origin serves every one of those).

use std::collections::BTreeSet;

use serde_json::Value;

use crate::metrics::documented_metrics;

/// Every `pennon_...` name in a PromQL expression, a histogram's series by its family's name.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(start) = rest.find("pennon_") {
        let tail = &rest[start..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        let name = &tail[..end];
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| name.strip_suffix(suffix))
            .filter(|family| family.ends_with("_seconds"))
            .unwrap_or(name);
        names.insert(family.to_owned());
        rest = &tail[end..];
    }
    names
}

fn assert_documented(what: &str, names: &BTreeSet<String>) {
    let documented = documented_metrics();
    assert!(!names.is_empty(), "{what} uses no metric");
    for name in names {
        assert!(
            documented.contains(name),
            "{what} uses {name}, which docs/metrics.md does not list"
        );
    }
}

#[test]
fn the_dashboard_is_grafana_json_over_documented_metrics() {
    let dashboard: Value = serde_json::from_str(include_str!("../../../docs/grafana/pennon.json"))
        .expect("docs/grafana/pennon.json is JSON");
    let panels = dashboard["panels"].as_array().expect("panels");
    assert!(panels.len() >= 7);
    let mut used = BTreeSet::new();
    for panel in panels {
        let title = panel["title"].as_str().expect("a title");
        let targets = panel["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "{title} has no query");
        for target in targets {
            let expr = target["expr"].as_str().expect("expr");
            let names = metric_names(expr);
            assert_documented(&format!("panel {title}"), &names);
            used.extend(names);
        }
    }
    // What the dashboard is for: requests, latency, evaluations, the caches, the breaker.
    for name in [
        "pennon_http_requests_total",
        "pennon_http_request_duration_seconds",
        "pennon_evaluations_total",
        "pennon_flagset_in_process_hits_total",
        "pennon_redis_circuit_open",
        "pennon_change_messages_received_total",
        "pennon_change_propagation_seconds",
    ] {
        assert!(used.contains(name), "no panel shows {name}");
    }
}

#[test]
fn the_alert_rules_are_prometheus_rules_over_documented_metrics() {
    let rules: serde_yaml::Value =
        serde_yaml::from_str(include_str!("../../../docs/prometheus/alerts.yml"))
            .expect("docs/prometheus/alerts.yml is YAML");
    let groups = rules["groups"].as_sequence().expect("groups");
    let mut alerts = BTreeSet::new();
    for group in groups {
        assert!(group["name"].as_str().is_some());
        for rule in group["rules"].as_sequence().expect("rules") {
            let alert = rule["alert"].as_str().expect("an alert name");
            let expr = rule["expr"].as_str().expect("an expr");
            assert!(rule["annotations"]["summary"].as_str().is_some(), "{alert}");
            assert_documented(&format!("alert {alert}"), &metric_names(expr));
            alerts.insert(alert.to_owned());
        }
    }
    for alert in [
        "PennonHighErrorRate",
        "PennonSlowEvaluations",
        "PennonRedisBreakerOpen",
        "PennonSlowPropagation",
    ] {
        assert!(alerts.contains(alert), "{alert} missing");
    }
}

#[test]
fn names_are_read_out_of_expressions() {
    let names = metric_names(
        "histogram_quantile(0.99, sum by (le) (rate(pennon_http_request_duration_seconds_bucket[5m]))) / pennon_x_total",
    );
    let expected: BTreeSet<String> = ["pennon_http_request_duration_seconds", "pennon_x_total"]
        .map(String::from)
        .into();
    assert_eq!(names, expected);
}
