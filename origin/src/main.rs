//! `origin`: reads the configuration, starts the service, prints where it listens.

use std::io::Write as _;
use std::process::ExitCode;

use origin::traces::{self, Exporter};
use origin::{shutdown_signal, App, Config};
use tracing_subscriber::EnvFilter;

/// Every request allocates and frees many small buffers (the body, the parsed user, the results,
/// the response, hyper's and axum's own) on two or more worker threads: mimalloc's per-thread free
/// lists take a good part of that cost off glibc's malloc (scripts/load-test, docs/origin.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The arguments, then every variable with its default (`Config::usage`, from the one table of
/// variables, so it cannot leave one out).
fn usage() -> String {
    format!(
        "usage: origin [--seed-demo] [--help]\n\n{}",
        Config::usage()
    )
}

#[tokio::main]
async fn main() -> ExitCode {
    // A missing .env is the normal case; a broken one is worth saying.
    if let Err(err) = dotenvy::dotenv() {
        if !err.not_found() {
            eprintln!("origin: .env: {err}");
            return ExitCode::from(2);
        }
    }
    // Spans go to an OTLP collector only when OTEL_EXPORTER_OTLP_ENDPOINT is set (docs/metrics.md).
    let exporter = match Exporter::from_lookup(|name| std::env::var(name).ok()) {
        Ok(exporter) => exporter,
        Err(err) => {
            eprintln!("origin: configuration: {err}");
            return ExitCode::from(2);
        }
    };
    // Logs go to stderr: stdout carries only the "listening" line that scripts wait for.
    traces::install_subscriber(
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        exporter.as_ref(),
    );

    let mut config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("origin: configuration: {err}");
            return ExitCode::from(2);
        }
    };
    for warning in Config::warnings(|name| std::env::var(name).ok()) {
        tracing::warn!("{warning}");
    }
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--seed-demo" => config.seed_demo = true,
            "-h" | "--help" => {
                print!("{}", usage());
                return ExitCode::SUCCESS;
            }
            other => {
                eprint!("origin: unknown argument {other:?}\n{}", usage());
                return ExitCode::from(2);
            }
        }
    }

    let app = match App::build(config).await {
        Ok(app) => app,
        Err(err) => {
            eprintln!("origin: {err}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(token) = app.generated_admin_token() {
        eprintln!(
            "origin: ADMIN_TOKEN is not set; the admin token for this run is: {}",
            token.expose()
        );
    }
    println!("pennon origin listening on http://{}", app.local_addr());
    // Scripts read this line through a pipe, where stdout is block-buffered.
    let _ = std::io::stdout().flush();

    let served = app.run_until(shutdown_signal()).await;
    if let Some(exporter) = exporter {
        // The last batch, exported from a thread that may block (its HTTP client does).
        let _ = tokio::task::spawn_blocking(move || exporter.shutdown()).await;
    }
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("origin: server error: {err}");
            ExitCode::FAILURE
        }
    }
}
