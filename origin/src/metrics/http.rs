//! Requests by route template, method and status, and their latency, counted by the server's
//! request frame (`crate::http::frame`) as each response leaves.
//!
//! The route is found by matching the path against the router's own templates (taken from the
//! OpenAPI document the router is built from, so the two cannot drift) with `matchit`, the matcher
//! axum's router uses: the label is the template (`/api/admin/flags/{id}`), never the raw path, and
//! a path no route has is counted as [`UNMATCHED`]. Counting is an index into fixed counters, with
//! no allocation and no lock.

use std::sync::OnceLock;
use std::time::Duration;

use axum::http::{Method, StatusCode};

use super::shards::ShardedCounters;

/// The route label of a path that no route matches.
pub const UNMATCHED: &str = "unmatched";

pub const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "OTHER",
];

/// Statuses 100 to 599, each counted as itself.
const STATUSES: usize = 500;

/// The latency histogram's upper bounds, in seconds: from a warm evaluation (tens of µs) to a
/// stalled store.
pub const LATENCY_BOUNDS: [f64; 14] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

/// Per (route, method): one counter per bound, one above the last, and the sum in nanoseconds.
const HISTOGRAM_SLOTS: usize = LATENCY_BOUNDS.len() + 2;

#[derive(Debug)]
struct Table {
    templates: Vec<String>,
    matcher: matchit::Router<usize>,
    requests: ShardedCounters,
    latency: ShardedCounters,
}

/// Set once, when the router is built; until then (and for a router without templates) every
/// request counts as [`UNMATCHED`].
#[derive(Debug, Default)]
pub struct HttpMetrics {
    table: OnceLock<Table>,
}

fn method_index(method: &Method) -> usize {
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::PATCH => 4,
        Method::DELETE => 5,
        Method::OPTIONS => 6,
        _ => 7,
    }
}

/// A request's route and method, as an index into the counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Series(usize);

/// One series of the request counter or the latency histogram.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestSeries<'a> {
    pub route: &'a str,
    pub method: &'static str,
    pub status: u16,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LatencySeries<'a> {
    pub route: &'a str,
    pub method: &'static str,
    /// Per bucket (not cumulative: the encoder sums them), one per [`LATENCY_BOUNDS`] bound and
    /// the last above them all, whose bound is `f64::MAX` (written `+Inf`).
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl HttpMetrics {
    /// Sets the route templates (axum's syntax, `{id}`); a template matchit refuses is left out,
    /// its requests counted as [`UNMATCHED`]. Only the first call counts.
    pub fn set_routes<'a>(&self, templates: impl IntoIterator<Item = &'a str>) {
        let mut matcher = matchit::Router::new();
        let mut kept = Vec::new();
        for template in templates {
            if matcher.insert(template, kept.len()).is_ok() {
                kept.push(template.to_owned());
            } else {
                tracing::warn!(template, "route template not counted in /metrics");
            }
        }
        let routes = kept.len() + 1;
        let _ = self.table.set(Table {
            requests: ShardedCounters::new(routes * METHODS.len() * STATUSES),
            latency: ShardedCounters::new(routes * METHODS.len() * HISTOGRAM_SLOTS),
            templates: kept,
            matcher,
        });
    }

    /// The series of a request (its route and method), found when the request arrives, where its
    /// path is at hand.
    #[inline]
    pub fn series(&self, method: &Method, path: &str) -> Series {
        let Some(table) = self.table.get() else {
            return Series(usize::MAX);
        };
        let route = match table.matcher.at(path) {
            Ok(found) => *found.value,
            Err(_) => table.templates.len(),
        };
        Series(route * METHODS.len() + method_index(method))
    }

    /// Counts one request of `series`, answered with `status` after `elapsed`.
    #[inline]
    pub fn record(&self, Series(series): Series, status: StatusCode, elapsed: Duration) {
        let Some(table) = self.table.get() else {
            return;
        };
        let status = usize::from(status.as_u16())
            .saturating_sub(100)
            .min(STATUSES - 1);
        table
            .requests
            .add(series.saturating_mul(STATUSES) + status, 1);
        let seconds = elapsed.as_secs_f64();
        let bucket = LATENCY_BOUNDS
            .iter()
            .position(|&bound| seconds <= bound)
            .unwrap_or(LATENCY_BOUNDS.len());
        let base = series.saturating_mul(HISTOGRAM_SLOTS);
        table.latency.add(base.saturating_add(bucket), 1);
        let nanos = u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX);
        table
            .latency
            .add(base.saturating_add(HISTOGRAM_SLOTS - 1), nanos);
    }

    fn route_name(table: &Table, route: usize) -> &str {
        table.templates.get(route).map_or(UNMATCHED, String::as_str)
    }

    /// Every (route, method, status) counted at least once.
    pub fn requests(&self) -> Vec<RequestSeries<'_>> {
        let Some(table) = self.table.get() else {
            return Vec::new();
        };
        let counts = table.requests.totals();
        counts
            .iter()
            .enumerate()
            .filter(|(_, &count)| count > 0)
            .map(|(slot, &count)| {
                let series = slot / STATUSES;
                RequestSeries {
                    route: Self::route_name(table, series / METHODS.len()),
                    method: METHODS[series % METHODS.len()],
                    status: u16::try_from(slot % STATUSES + 100).unwrap_or(599),
                    count,
                }
            })
            .collect()
    }

    /// The latency of every (route, method) counted at least once.
    pub fn latencies(&self) -> Vec<LatencySeries<'_>> {
        let Some(table) = self.table.get() else {
            return Vec::new();
        };
        let counts = table.latency.totals();
        counts
            .chunks(HISTOGRAM_SLOTS)
            .enumerate()
            .filter_map(|(series, slots)| {
                let (per_bucket, sum) = slots.split_at(HISTOGRAM_SLOTS - 1);
                let count: u64 = per_bucket.iter().sum();
                if count == 0 {
                    return None;
                }
                let buckets = LATENCY_BOUNDS
                    .iter()
                    .chain([&f64::MAX])
                    .copied()
                    .zip(per_bucket.iter().copied())
                    .collect();
                Some(LatencySeries {
                    route: Self::route_name(table, series / METHODS.len()),
                    method: METHODS[series % METHODS.len()],
                    buckets,
                    count,
                    sum_seconds: sum.first().copied().unwrap_or(0) as f64 / 1e9,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_template_method_and_status() {
        let metrics = HttpMetrics::default();
        metrics.set_routes(["/api/evaluate", "/api/admin/flags/{id}"]);
        let ms = Duration::from_millis(3);
        let record = |method: &Method, path: &str, status: StatusCode| {
            metrics.record(metrics.series(method, path), status, ms)
        };
        record(&Method::POST, "/api/evaluate", StatusCode::OK);
        record(&Method::POST, "/api/evaluate", StatusCode::OK);
        record(&Method::GET, "/api/admin/flags/abc", StatusCode::NOT_FOUND);
        record(&Method::GET, "/nope", StatusCode::NOT_FOUND);
        let requests = metrics.requests();
        let find = |route: &str, method: &str, status: u16| {
            requests
                .iter()
                .find(|s| s.route == route && s.method == method && s.status == status)
                .map(|s| s.count)
        };
        assert_eq!(find("/api/evaluate", "POST", 200), Some(2));
        assert_eq!(find("/api/admin/flags/{id}", "GET", 404), Some(1));
        assert_eq!(find(UNMATCHED, "GET", 404), Some(1));
        assert_eq!(requests.len(), 3);

        let latencies = metrics.latencies();
        let evaluate = latencies
            .iter()
            .find(|s| s.route == "/api/evaluate")
            .unwrap();
        assert_eq!(evaluate.count, 2);
        assert!((evaluate.sum_seconds - 0.006).abs() < 1e-9);
        // 3 ms is above 2.5 ms and within 5 ms.
        let at = |bound: f64| {
            evaluate
                .buckets
                .iter()
                .find(|(b, _)| *b == bound)
                .unwrap()
                .1
        };
        // Per bucket, not cumulative: the encoder adds them up.
        assert_eq!(
            (at(0.0025), at(0.005), at(0.01), at(f64::MAX)),
            (0, 2, 0, 0)
        );
        assert_eq!(evaluate.buckets.len(), LATENCY_BOUNDS.len() + 1);
    }
}
