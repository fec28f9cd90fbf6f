//! The Worker's `fetch` handler: routes a request, answers it from the isolate's snapshot, and turns
//! every failure into the contract's `{"error": ...}` body with CORS headers.

use futures_util::StreamExt;
use worker::{console_error, event, Context, Env, Request, Response, ResponseBuilder};

use http_contract::{cors, header, MAX_BODY_BYTES};

use crate::api::{self, ApiError, BulkAnswer, OfrepFailure, Route};
use crate::config::Config;
use crate::{report, sync};

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    match handle(req, &env, &ctx).await {
        Ok(response) => Ok(response),
        Err(err) => respond(err.status(), err.body().into_bytes(), &[]),
    }
}

async fn handle(mut req: Request, env: &Env, ctx: &Context) -> Result<Response, ApiError> {
    let method = req.method();
    match api::route(method.as_ref(), &req.path()) {
        Route::Preflight => preflight(),
        // A deployment mistake in the vars makes every evaluation fail: health says so, by name.
        Route::Health => match Config::from_lookup(|name| lookup(env, name)) {
            Ok(config) => {
                let refresh = match crate::hub::namespace(env) {
                    Some(_) => api::Refresh::Hub {
                        check_ms: config.hub_check_ms,
                        pointer_max_age_seconds: config.pointer_max_age_seconds,
                        purge_by_tag: config.purge.is_some(),
                        leases: api::Leases::default(),
                    },
                    None => api::Refresh::Ttl {
                        ttl_seconds: config.ttl_ms / 1000,
                    },
                };
                respond(200, sync::health_body(refresh).into_bytes(), &[]).map_err(internal)
            }
            Err(err) => Err(ApiError::misconfigured(&err)),
        },
        Route::EdgePush => crate::hub::route(req, env, true).await,
        Route::HubStatus => crate::hub::route(req, env, false).await,
        Route::NotFound => Err(ApiError::not_found()),
        Route::MethodNotAllowed { allow } => {
            let err = ApiError::method_not_allowed();
            respond(err.status(), err.body().into_bytes(), &[("allow", allow)]).map_err(internal)
        }
        Route::OfrepFlag { key } => {
            let answer = ofrep(&mut req, env, ctx, Some(&key)).await;
            answer.or_else(|failure| {
                let (status, body) = failure.answer(Some(&key));
                respond(status, body, &[]).map_err(internal)
            })
        }
        Route::OfrepFlags => ofrep(&mut req, env, ctx, None).await.or_else(|failure| {
            let (status, body) = failure.answer(None);
            respond(status, body, &[]).map_err(internal)
        }),
        Route::Evaluate => {
            let body = read_json_body(&mut req).await?;
            let request = api::parse_evaluate(&body)?;
            let config = config(env)?;
            let served = sync::snapshot_for(request.environment, &config, env, ctx)
                .await
                .ok_or_else(ApiError::snapshot_unavailable)?;
            let environment = request.environment;
            let body = api::evaluate_body(&served.set, &request, |results| {
                report::count(ctx, &config, environment, &served, results)
            });
            let revision = served.revision.to_string();
            let freshness = if served.stale { "stale" } else { "fresh" };
            respond(
                200,
                body,
                &[(header::REVISION, &revision), (header::SNAPSHOT, freshness)],
            )
            .map_err(internal)
        }
    }
}

fn config(env: &Env) -> Result<Config, ApiError> {
    Config::from_lookup(|name| lookup(env, name)).map_err(|err| {
        console_error!("pennon edge: configuration: {err}");
        ApiError::internal()
    })
}

/// 415 unless declared as JSON, 413 past the limit (without reading what is far past it), else
/// the body.
async fn read_json_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    let content_type = req.headers().get("content-type").map_err(internal)?;
    api::require_json(content_type.as_deref())?;
    let declared = req.headers().get("content-length").map_err(internal)?;
    // Beyond what read_body would drain: refuse without reading (the connection closes).
    if api::declared_length_exceeds(declared.as_deref(), api::DRAIN_LIMIT_BYTES) {
        return Err(ApiError::payload_too_large());
    }
    // A body framed by a Content-Length within the limit cannot be longer than declared, so it is
    // read whole in one call: the chunked reader costs a JS promise, a future and a copy per chunk,
    // a large share of a warm request's CPU time (tests/edge/cpu.mjs). Chunked transfer, which
    // takes precedence over a Content-Length, keeps the reader that stops buffering at the limit.
    let chunked = req.headers().has("transfer-encoding").map_err(internal)?;
    let bounded = api::declared_length_within(declared.as_deref(), MAX_BODY_BYTES);
    if bounded && !chunked {
        return req.bytes().await.map_err(internal);
    }
    read_body(req).await
}

/// The two OFREP routes (`key` for the single one), in the origin's order: the environment
/// header, the content type, the body, the context, the snapshot. No token is read: the edge is
/// public, as its `/api/evaluate` is.
async fn ofrep(
    req: &mut Request,
    env: &Env,
    ctx: &Context,
    key: Option<&str>,
) -> Result<Response, OfrepFailure> {
    let named = req.headers().get(header::ENVIRONMENT).map_err(internal)?;
    let environment = api::ofrep_environment(named.as_deref())?;
    let body = read_json_body(req).await?;
    let user = api::parse_ofrep(&body)?;
    let config = config(env)?;
    let served = sync::snapshot_for(environment, &config, env, ctx)
        .await
        .ok_or_else(ApiError::snapshot_unavailable)?;
    let revision = served.revision.to_string();
    let freshness = if served.stale { "stale" } else { "fresh" };
    let snapshot = [
        (header::REVISION, revision.as_str()),
        (header::SNAPSHOT, freshness),
    ];
    let count = |results: &[evaluator::FlagResult<'_>]| {
        report::count(ctx, &config, environment, &served, results)
    };
    let response = match key {
        Some(key) => {
            let json = api::ofrep_flag_body(&served.set, environment, key, &user, count)?;
            respond(200, json, &snapshot)
        }
        None => {
            let if_none_match = req.headers().get("if-none-match").map_err(internal)?;
            match api::ofrep_bulk(
                &served.set,
                environment,
                served.revision,
                &body,
                &user,
                if_none_match.as_deref(),
                count,
            ) {
                BulkAnswer::NotModified { etag } => not_modified(&etag, &snapshot),
                BulkAnswer::Flags { etag, body } => {
                    let [revision, freshness] = snapshot;
                    respond(200, body, &[("etag", &etag), revision, freshness])
                }
            }
        }
    };
    Ok(response.map_err(internal)?)
}

/// A 304: the ETag and the CORS headers, no body.
fn not_modified(etag: &str, extra: &[(&str, &str)]) -> worker::Result<Response> {
    let mut builder = ResponseBuilder::new()
        .with_status(304)
        .with_header("etag", etag)?;
    for (name, value) in cors::HEADERS.iter().chain(extra) {
        builder = builder.with_header(name, value)?;
    }
    Ok(builder.empty())
}

/// Reads the body in chunks and stops buffering at the limit: a chunked upload without
/// `Content-Length` must not be held whole, since running out of memory would reset the isolate and
/// its snapshots. The rest of an oversized body is read and dropped (up to `api::DRAIN_LIMIT_BYTES`) so
/// that the connection it came on stays usable for the next request.
async fn read_body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    if req.inner().body().is_none() {
        return Ok(Vec::new());
    }
    let mut stream = req.stream().map_err(internal)?;
    let mut body = Vec::new();
    let mut seen = 0usize;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(internal)?;
        seen = seen.saturating_add(chunk.len());
        if seen > api::DRAIN_LIMIT_BYTES {
            break;
        }
        if seen <= MAX_BODY_BYTES {
            body.extend_from_slice(&chunk);
        }
    }
    if seen > MAX_BODY_BYTES {
        return Err(ApiError::payload_too_large());
    }
    Ok(body)
}

/// A var or a secret: `wrangler secret put` makes secrets, `--var` and `.dev.vars` make vars; both
/// arrive as strings on `env`.
pub(crate) fn lookup(env: &Env, name: &str) -> Option<String> {
    env.secret(name)
        .map(|secret| secret.to_string())
        .or_else(|_| env.var(name).map(|var| var.to_string()))
        .ok()
}

fn preflight() -> Result<Response, ApiError> {
    let mut builder = ResponseBuilder::new().with_status(204);
    for (name, value) in cors::HEADERS {
        builder = builder.with_header(name, value).map_err(internal)?;
    }
    Ok(builder.empty())
}

fn respond(status: u16, body: Vec<u8>, extra: &[(&str, &str)]) -> worker::Result<Response> {
    let mut builder = ResponseBuilder::new()
        .with_status(status)
        .with_header("content-type", "application/json")?;
    for (name, value) in cors::HEADERS.iter().chain(extra) {
        builder = builder.with_header(name, value)?;
    }
    Ok(builder.fixed(body))
}

fn internal(err: worker::Error) -> ApiError {
    console_error!("pennon edge: {err}");
    ApiError::internal()
}
