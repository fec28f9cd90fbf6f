//! The per-location pointer's I/O (its decisions are `pointer`'s, pure and host-tested): reading
//! and writing it in the Cache API (one entry per environment, shared by the location's isolates),
//! and its invalidation by the hub behind `PointerPurge`: `LocalDelete` (the Cache API's delete,
//! which reaches only the location it runs in: in workerd, the only one) and `TagPurge`
//! (Cloudflare's purge by tag, every location's; production only, enabled by `PURGE_ZONE_ID`).
//! A read or a write that fails is logged and is a miss: the isolate asks its hub as without a
//! pointer.

use evaluator::Environment;
use worker::{console_warn, Cache, Fetch, Headers, Method, Request, RequestInit, ResponseBuilder};

use crate::config::PurgeConfig;
use crate::pointer::{self, Entry};

/// The location's pointer (or lease) of `environment`; None for a miss, an expired or purged entry,
/// a read that failed or a body that does not parse.
pub async fn read(environment: Environment) -> Option<Entry> {
    let found = Cache::default().get(pointer::key(environment), true).await;
    let mut response = match found {
        Ok(found) => found?,
        Err(err) => {
            console_warn!("pennon edge: pointer of {environment}: read failed: {err}");
            return None;
        }
    };
    let text = response.text().await.ok()?;
    Entry::parse(&text)
}

/// Writes the location's pointer (or lease) of `environment` for `max_age_seconds`, tagged for the
/// purge (which therefore removes a lease too).
pub async fn write(environment: Environment, entry: Entry, max_age_seconds: u64) {
    let response = ResponseBuilder::new()
        .with_header("content-type", "text/plain")
        .and_then(|b| b.with_header("cache-control", &pointer::cache_control(max_age_seconds)))
        .and_then(|b| b.with_header("cache-tag", &pointer::tag(environment)))
        .map(|b| b.fixed(entry.body().into_bytes()));
    let result = match response {
        Ok(response) => {
            Cache::default()
                .put(pointer::key(environment), response)
                .await
        }
        Err(err) => Err(err),
    };
    if let Err(err) = result {
        console_warn!("pennon edge: pointer of {environment}: write failed: {err}");
    }
}

/// How the hub invalidates the pointers of an environment when what it holds changes.
pub(crate) trait PointerPurge {
    async fn purge(&self, environment: Environment) -> Result<(), String>;
}

/// The Cache API's delete, in the location the hub runs in. In `wrangler dev` (one location) this
/// reaches every isolate; in production only the hub's own location.
pub(crate) struct LocalDelete;

impl PointerPurge for LocalDelete {
    async fn purge(&self, environment: Environment) -> Result<(), String> {
        Cache::default()
            .delete(pointer::key(environment), true)
            .await
            .map(|_| ())
            .map_err(|err| err.to_string())
    }
}

/// Cloudflare's purge by tag (`POST /zones/{zone}/purge_cache` `{"tags": [...]}`), every
/// location's pointer at once. Not reachable from `wrangler dev`; the tests send it to a
/// scripted server (`PURGE_API_URL`), which proves the request, not Cloudflare's purge.
pub(crate) struct TagPurge<'a>(pub &'a PurgeConfig);

impl PointerPurge for TagPurge<'_> {
    async fn purge(&self, environment: Environment) -> Result<(), String> {
        let PurgeConfig {
            api_url,
            zone_id,
            token,
        } = self.0;
        let request = pointer::purge_request(api_url, zone_id, environment);
        let controller = worker::AbortController::default();
        let signal = controller.signal();
        let send = async {
            let headers = Headers::new();
            headers
                .set("content-type", "application/json")
                .map_err(js)?;
            headers
                .set("authorization", &format!("Bearer {token}"))
                .map_err(js)?;
            let mut init = RequestInit::new();
            init.with_method(Method::Post)
                .with_headers(headers)
                .with_body(Some(request.body.into()));
            let request = Request::new_with_init(&request.url, &init).map_err(js)?;
            let mut response = Fetch::Request(request)
                .send_with_signal(&signal)
                .await
                .map_err(js)?;
            match response.status_code() {
                200..=299 => Ok(()),
                status => Err(format!(
                    "the purge API answered {status}: {}",
                    response.text().await.unwrap_or_default()
                )),
            }
        };
        crate::sync::within_fetch_timeout(controller, send).await
    }
}

fn js(err: worker::Error) -> String {
    err.to_string()
}
