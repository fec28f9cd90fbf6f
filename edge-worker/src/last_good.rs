//! The last snapshot this location's isolates got from the hub, kept in the Cache API (one copy per
//! location, shared by its isolates): what a cold isolate installs when the hub does not answer,
//! before it tries the origin. Bytes and signature as the hub sent them, so the copy is verified
//! and compiled again as any other (`sync::install_from_hub`); a copy is served marked stale.
//! A write that fails is only logged: the copy is a fallback, never the source of truth.

use evaluator::Environment;
use worker::{console_warn, Cache, ResponseBuilder};

/// The header beside the body that names its version, read before the body is compiled.
const VERSION: &str = http_contract::header::REVISION;

/// The Cache API holds it for a week at most (a signed copy is refused once its signature expires).
const MAX_AGE_SECONDS: u32 = 7 * 24 * 60 * 60;

fn key(environment: Environment) -> String {
    format!("https://pennon-edge.internal/last-snapshot/{environment}")
}

/// Keeps `body` (of `version`) and its signature as the location's last good snapshot of
/// `environment`.
pub async fn remember(
    environment: Environment,
    version: u64,
    body: &[u8],
    signature: Option<&str>,
) {
    let response = (|| {
        let mut builder = ResponseBuilder::new()
            .with_header("content-type", "application/json")?
            .with_header(VERSION, &version.to_string())?
            .with_header("cache-control", &format!("max-age={MAX_AGE_SECONDS}"))?;
        if let Some(signature) = signature {
            builder = builder.with_header(http_contract::signature::HEADER, signature)?;
        }
        Ok::<_, worker::Error>(builder.fixed(body.to_vec()))
    })();
    let result = match response {
        Ok(response) => Cache::default().put(key(environment), response).await,
        Err(err) => Err(err),
    };
    if let Err(err) = result {
        console_warn!("pennon edge: last snapshot of {environment} not kept in the cache: {err}");
    }
}

/// A copy as kept: the body, its signature, and its version as written beside it (`None` for a
/// copy written before the version was; the body's own revision is what installs).
pub struct Copy {
    pub body: Vec<u8>,
    pub signature: Option<String>,
    pub version: Option<u64>,
}

/// The location's last good snapshot of `environment`.
pub async fn recall(environment: Environment) -> Option<Copy> {
    let mut response = Cache::default()
        .get(key(environment), true)
        .await
        .map_err(|err| console_warn!("pennon edge: cache read failed: {err}"))
        .ok()??;
    let signature = response
        .headers()
        .get(http_contract::signature::HEADER)
        .ok()
        .flatten();
    let version = response
        .headers()
        .get(VERSION)
        .ok()
        .flatten()
        .and_then(|version| version.parse().ok());
    let body = response.bytes().await.ok()?;
    Some(Copy {
        body,
        signature,
        version,
    })
}
