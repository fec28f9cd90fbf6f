//! Traces over OTLP: the requests' `tracing` spans exported to an OpenTelemetry collector when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set, with the feature-flag semantic conventions on the
//! evaluations ([`flags`]).
//!
//! Unset, the binary installs the subscriber it always had (the log lines on stderr) and no other
//! layer, and [`is_on`] is false: the evaluation routes compute no attribute.
//!
//! Set, the OpenTelemetry layer joins the log layer, each with its own filter, so the log lines
//! are what `RUST_LOG` says as before: the spans and events at `info` and above are exported, of
//! every target but OpenTelemetry's own (its internal logs, such as a failed export, go to the log
//! only). The SDK's batch processor exports from a thread of its own, over OTLP/HTTP protobuf, and
//! reads the standard variables (`OTEL_BSP_*`, `OTEL_TRACES_SAMPLER`, `OTEL_SPAN_*_LIMIT`,
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, `OTEL_EXPORTER_OTLP_HEADERS`, `…_TIMEOUT`,
//! `OTEL_RESOURCE_ATTRIBUTES`); [`Exporter::shutdown`] exports what is left.
//!
//! The switch ([`is_on`]) is process-wide because the subscriber it describes is: `tracing` has
//! one global dispatcher, installed once by the binary.

pub mod flags;

use std::sync::atomic::{AtomicBool, Ordering};

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::{Protocol, WithExportConfig as _};
use opentelemetry_sdk::trace::SdkTracerProvider;
use opentelemetry_sdk::Resource;
use tracing::level_filters::LevelFilter;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, Layer as _};

/// The base URL of the collector (`/v1/traces` is appended): the switch of traces. The exporter's
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, a full URL, takes its place when both are set, but alone
/// turns nothing on.
pub const ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The `service.name` of every span.
pub const SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
pub const DEFAULT_SERVICE_NAME: &str = "pennon-origin";

/// Whether spans are exported: set once, when the subscriber is installed with an [`Exporter`].
static ON: AtomicBool = AtomicBool::new(false);

/// Whether this process exports its spans; false unless [`install_subscriber`] was given an
/// [`Exporter`]. One relaxed load: what the evaluation routes check before they compute an
/// attribute.
#[inline]
pub fn is_on() -> bool {
    ON.load(Ordering::Relaxed)
}

#[derive(Debug, thiserror::Error)]
#[error("OTLP traces: {0}")]
pub struct ExporterError(#[from] opentelemetry_otlp::ExporterBuildError);

/// The OpenTelemetry pipeline: the tracer provider and its batch processor.
#[derive(Debug)]
pub struct Exporter {
    provider: SdkTracerProvider,
}

impl Exporter {
    /// The pipeline the variables describe; `None` when [`ENDPOINT`] is unset (empty counts as
    /// unset). The exporter reads the endpoint and its other `OTEL_EXPORTER_OTLP_*`
    /// variables itself, from the process environment.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Self>, ExporterError> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        if get(ENDPOINT).is_none() {
            return Ok(None);
        }
        let service = get(SERVICE_NAME).unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .build()?;
        let resource = Resource::builder()
            .with_service_name(service)
            .with_attribute(opentelemetry::KeyValue::new(
                "service.version",
                env!("CARGO_PKG_VERSION"),
            ))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok(Some(Self { provider }))
    }

    /// Exports the spans still queued and stops the batch processor; blocks until the collector
    /// answered or the export timed out.
    pub fn shutdown(self) {
        if let Err(err) = self.provider.shutdown() {
            tracing::warn!(%err, "OTLP traces: not every span was exported at shutdown");
        }
    }
}

/// The response's status on its request's span (`http.response.status_code`), and a server error
/// (5xx) as the span's error status.
pub fn record_response(span: &tracing::Span, status: axum::http::StatusCode) {
    span.set_attribute("http.response.status_code", i64::from(status.as_u16()));
    if status.is_server_error() {
        span.set_status(opentelemetry::trace::Status::error(""));
    }
}

/// Installs the process's `tracing` subscriber: the log lines on stderr that `filter` (`RUST_LOG`)
/// selects, and with an `exporter` the OpenTelemetry layer beside it.
pub fn install_subscriber(filter: EnvFilter, exporter: Option<&Exporter>) {
    let Some(exporter) = exporter else {
        // Exactly the subscriber the origin had before traces: no other layer, no other filter.
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
        return;
    };
    let tracer = exporter.provider.tracer("origin");
    let exported = Targets::new()
        .with_default(LevelFilter::INFO)
        .with_target("opentelemetry", LevelFilter::OFF);
    let logs = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter);
    let otel = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(exported);
    tracing_subscriber::registry().with(logs).with(otel).init();
    ON.store(true, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_endpoint_no_exporter() {
        for endpoint in [None, Some(""), Some("  ")] {
            let exporter = Exporter::from_lookup(|name| match name {
                ENDPOINT => endpoint.map(str::to_owned),
                // Alone, neither the other endpoint nor a service name turns traces on.
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" => Some("http://127.0.0.1:1/v1/traces".into()),
                SERVICE_NAME => Some("x".into()),
                _ => None,
            });
            assert!(matches!(exporter, Ok(None)), "{endpoint:?}");
        }
        assert!(!is_on());
    }
}
