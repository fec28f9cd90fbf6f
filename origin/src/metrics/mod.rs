//! `GET /metrics`: what an operator scrapes, in the OpenMetrics text format that
//! `prometheus-client` writes (never formatted by hand).
//!
//! Each [`App`](crate::app::App) has a registry of its own (tests start many origins in one
//! process, so nothing is global). Nothing is pushed into the registry as it happens: the hot
//! path adds to counters of its own (sharded by thread: [`shards`]), and one collector
//! ([`OriginCollector`]) reads them, with the gauges (pools, breaker, streams), when scraped.
//!
//! - [`http`]: requests by route template, method and status, and their latency;
//! - [`evaluations`]: evaluations by environment, flag, variant and reason, kept with each
//!   compiled set;
//! - the read path, change messages, pools and breaker are read from their owners at scrape time.

mod evaluations;
mod http;
mod propagation;
mod shards;

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use evaluator::Environment;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeMetric as _, MetricEncoder, NoLabelSet,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

pub use self::evaluations::{EvaluationCounts, EvaluationTotals, SeriesKey};
pub use self::http::{HttpMetrics, Series, UNMATCHED};
pub use self::propagation::{LagSeries, PropagationLag};
pub use self::shards::ShardedCounters;
use crate::cache::RedisCache;
use crate::flagset::FlagSets;
use crate::invalidation::Channel;
use crate::store::FlagStore;
use crate::stream::Streams;
use crate::usage::Usage;

/// The content type of what [`Metrics::render`] writes.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Change messages received, per channel.
#[derive(Debug, Default)]
pub struct ChangeMessages {
    redis: AtomicU64,
    postgres: AtomicU64,
}

impl ChangeMessages {
    pub fn received(&self, channel: Channel) {
        let counter = match channel {
            Channel::Redis => &self.redis,
            Channel::Postgres => &self.postgres,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn get(&self, channel: Channel) -> u64 {
        match channel {
            Channel::Redis => self.redis.load(Ordering::Relaxed),
            Channel::Postgres => self.postgres.load(Ordering::Relaxed),
        }
    }
}

/// Where the collector reads from.
#[derive(Debug, Clone)]
pub struct Sources {
    pub http: Arc<HttpMetrics>,
    pub flags: Arc<FlagSets>,
    pub store: Arc<dyn FlagStore>,
    pub redis: Option<RedisCache>,
    pub streams: Arc<Streams>,
    pub changes: Arc<ChangeMessages>,
    /// The channels this origin listens on.
    pub channels: Vec<Channel>,
    pub usage: Arc<Usage>,
    /// `EDGE_PUSH_URL`: the pushes to the edge, by outcome; `None` when not pushing.
    pub pushes: Option<Arc<crate::push::PushCounts>>,
}

/// One origin's registry.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
}

impl Metrics {
    pub fn new(sources: Sources) -> Self {
        let mut registry = Registry::with_prefix("pennon");
        registry.register_collector(Box::new(OriginCollector(sources)));
        Self { registry }
    }

    /// The whole registry as text.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut text = String::with_capacity(16 * 1024);
        prometheus_client::encoding::text::encode(&mut text, &self.registry)?;
        Ok(text)
    }
}

/// Every family of `/metrics`, read from its owner when scraped.
#[derive(Debug)]
struct OriginCollector(Sources);

type Labels<'a, const N: usize> = [(&'static str, &'a str); N];

fn counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (Vec<(&'static str, String)>, u64)>,
) -> Result<(), std::fmt::Error> {
    family(
        encoder,
        name,
        help,
        MetricType::Counter,
        series,
        |value, metric| ConstCounter::new(value).encode(metric),
    )
}

fn gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    series: impl IntoIterator<Item = (Vec<(&'static str, String)>, i64)>,
) -> Result<(), std::fmt::Error> {
    family(
        encoder,
        name,
        help,
        MetricType::Gauge,
        series,
        |value, metric| ConstGauge::new(value).encode(metric),
    )
}

/// A family of `kind` with one series per item, each value written by `encode`.
fn family<V>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    kind: MetricType,
    series: impl IntoIterator<Item = (Vec<(&'static str, String)>, V)>,
    encode: impl Fn(V, MetricEncoder<'_>) -> Result<(), std::fmt::Error>,
) -> Result<(), std::fmt::Error> {
    let mut series = series.into_iter().peekable();
    // A family with no series yet is left out: it says nothing, and some parsers refuse one.
    if series.peek().is_none() {
        return Ok(());
    }
    let mut family = encoder.encode_descriptor(name, help, None, kind)?;
    for (labels, value) in series {
        encode(value, family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A counter of one series without labels (as [`single_gauge`]).
fn single_counter(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: u64,
) -> Result<(), std::fmt::Error> {
    ConstCounter::new(value).encode(encoder.encode_descriptor(
        name,
        help,
        None,
        MetricType::Counter,
    )?)
}

/// A gauge of one series without labels (written without `{}`, which some parsers refuse).
fn single_gauge(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: i64,
) -> Result<(), std::fmt::Error> {
    ConstGauge::new(value).encode(encoder.encode_descriptor(name, help, None, MetricType::Gauge)?)
}

fn per_environment(value: impl Fn(Environment) -> u64) -> Vec<(Vec<(&'static str, String)>, u64)> {
    Environment::ALL
        .into_iter()
        .map(|environment| {
            (
                vec![("environment", environment.as_str().to_owned())],
                value(environment),
            )
        })
        .collect()
}

impl Collector for OriginCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sources = &self.0;
        {
            let version: Labels<1> = [("version", env!("CARGO_PKG_VERSION"))];
            let mut family = encoder.encode_descriptor(
                "build",
                "The origin's version",
                None,
                MetricType::Info,
            )?;
            family.encode_info(&version)?;
        }

        counter(
            &mut encoder,
            "http_requests",
            "HTTP requests answered, by route template, method and status",
            sources.http.requests().into_iter().map(|series| {
                let mut status = String::with_capacity(3);
                let _ = write!(status, "{}", series.status);
                (
                    vec![
                        ("route", series.route.to_owned()),
                        ("method", series.method.to_owned()),
                        ("status", status),
                    ],
                    series.count,
                )
            }),
        )?;
        let latencies = sources.http.latencies();
        if !latencies.is_empty() {
            // The unit is in the name, without a `# UNIT` line: some OpenMetrics parsers refuse
            // one on a histogram.
            let mut family = encoder.encode_descriptor(
                "http_request_duration_seconds",
                "Time from a request's head to its response, by route template and method",
                None,
                MetricType::Histogram,
            )?;
            for series in latencies {
                let labels: Labels<2> = [("route", series.route), ("method", series.method)];
                family
                    .encode_family(&labels)?
                    .encode_histogram::<NoLabelSet>(
                        series.sum_seconds,
                        series.count,
                        &series.buckets,
                        None,
                    )?;
            }
        }

        let mut evaluations = Vec::new();
        for environment in Environment::ALL {
            for (key, count) in sources.flags.evaluation_totals(environment) {
                evaluations.push((
                    vec![
                        ("environment", environment.as_str().to_owned()),
                        ("flag", key.flag),
                        ("variant", key.variant),
                        ("reason", key.reason.to_owned()),
                    ],
                    count,
                ));
            }
        }
        counter(
            &mut encoder,
            "evaluations",
            "Flags decided, by environment, flag, variant and reason (only those decided at least once)",
            evaluations,
        )?;

        let flags = &sources.flags;
        counter(
            &mut encoder,
            "flagset_in_process_hits",
            "Requests answered from the in-process flag set",
            per_environment(|e| flags.read_path_totals(e).in_process_hits),
        )?;
        counter(
            &mut encoder,
            "flagset_shared_cache_hits",
            "Flag set loads answered by the shared cache (Redis or memory)",
            per_environment(|e| flags.read_path_totals(e).shared_cache_hits),
        )?;
        counter(
            &mut encoder,
            "flagset_shared_cache_misses",
            "Flag set loads the shared cache had nothing for",
            per_environment(|e| flags.read_path_totals(e).shared_cache_misses),
        )?;
        counter(
            &mut encoder,
            "flagset_store_loads",
            "Flag sets read from the store",
            per_environment(|e| flags.read_path_totals(e).store_loads),
        )?;
        counter(
            &mut encoder,
            "flagset_store_load_errors",
            "Flag set reads from the store that failed",
            per_environment(|e| flags.read_path_totals(e).store_load_failures),
        )?;
        if let Some(redis) = &sources.redis {
            single_gauge(
                &mut encoder,
                "redis_circuit_open",
                "1 while the Redis circuit breaker is open (Redis failed and has not answered a probe since)",
                i64::from(redis.is_open()),
            )?;
        }
        counter(
            &mut encoder,
            "change_messages_received",
            "Change messages received, per channel this origin listens on",
            sources.channels.iter().map(|&channel| {
                (
                    vec![("channel", channel.as_str().to_owned())],
                    sources.changes.get(channel),
                )
            }),
        )?;
        if let Some(pushes) = &sources.pushes {
            counter(
                &mut encoder,
                "edge_pushes",
                "Snapshots pushed to the edge worker (EDGE_PUSH_URL), by outcome",
                [
                    ("sent", pushes.sent.load(Ordering::Relaxed)),
                    ("failed", pushes.failed.load(Ordering::Relaxed)),
                ]
                .map(|(outcome, value)| (vec![("outcome", outcome.to_owned())], value)),
            )?;
        }
        let lags = sources.flags.propagation_lag().series();
        if !lags.is_empty() {
            let mut family = encoder.encode_descriptor(
                "change_propagation_seconds",
                "From a write's commit on any origin (its clock) to this origin serving it, for changes heard in a change message while holding the environment",
                None,
                MetricType::Histogram,
            )?;
            for series in lags {
                let labels: Labels<1> = [("environment", series.environment.as_str())];
                family
                    .encode_family(&labels)?
                    .encode_histogram::<NoLabelSet>(
                        series.sum_seconds,
                        series.count,
                        &series.buckets,
                        None,
                    )?;
            }
        }
        single_gauge(
            &mut encoder,
            "change_streams_open",
            "Change streams (GET /api/stream) open now",
            i64::try_from(sources.streams.open()).unwrap_or(i64::MAX),
        )?;
        let usage = sources.usage.totals();
        counter(
            &mut encoder,
            "usage_batches",
            "Flag usage batches this origin wrote to the store, by result (a failed batch is kept for the next)",
            [
                (vec![("result", "written".to_owned())], usage.batches_written),
                (vec![("result", "failed".to_owned())], usage.batches_failed),
            ],
        )?;
        single_gauge(
            &mut encoder,
            "usage_pending_series",
            "Flag usage series (flag, variant, hour) held for the next batch",
            i64::try_from(usage.pending_series).unwrap_or(i64::MAX),
        )?;
        single_counter(
            &mut encoder,
            "usage_lost_evaluations",
            "Evaluations left out of flag usage because too much was held for a store that did not take it",
            usage.lost_evaluations,
        )?;
        let pools = sources.store.pool_usage();
        gauge(
            &mut encoder,
            "store_pool_connections",
            "The store pool's connections, open now",
            pools
                .iter()
                .map(|pool| (vec![("pool", pool.name.to_owned())], i64::from(pool.size))),
        )?;
        gauge(
            &mut encoder,
            "store_pool_idle_connections",
            "The store pool's connections open and idle now",
            pools.iter().map(|pool| {
                (
                    vec![("pool", pool.name.to_owned())],
                    i64::try_from(pool.idle).unwrap_or(i64::MAX),
                )
            }),
        )?;
        Ok(())
    }
}
