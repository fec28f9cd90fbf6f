//! Reports the isolate's evaluation counts to the origin's `POST /api/usage`: drives the `usage`
//! state machine with the Workers runtime's clock, `fetch`, timers and `waitUntil`. A request
//! never waits on a report: sends and wake-ups run in `ctx.wait_until`, after the response.
//! A batch that fails (the origin down or slow, a non-2xx) is dropped with one warning: its
//! counts are lost, never an evaluation, and nothing is retried or kept.

use std::cell::RefCell;
use std::time::Duration;

use evaluator::{Environment, FlagResult};
use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::JsValue;
use worker::{
    console_warn, AbortController, AbortSignal, Context, Date, Delay, Fetch, Headers, Method,
    Request, RequestInit,
};

use crate::config::Config;
use crate::sync::Served;
use crate::usage::{Batch, Poll, UsageBook, DEFAULT_REPORT_SECONDS};

thread_local! {
    // One isolate runs one thread: the counts live as long as the isolate does.
    static USAGE: RefCell<UsageBook> = RefCell::new(UsageBook::new(DEFAULT_REPORT_SECONDS * 1000));
}

/// Counts one request's results (from `served`, for `environment`) and starts, off the request's
/// path, whatever is due: a report, or a wake-up that sends one later.
pub fn count(
    ctx: &Context,
    config: &Config,
    environment: Environment,
    served: &Served,
    results: &[FlagResult<'_>],
) {
    if config.usage_report_ms == 0 {
        return;
    }
    let poll = USAGE.with_borrow_mut(|book| {
        book.set_interval_ms(config.usage_report_ms);
        book.record(environment, &served.set, results, served.now_ms);
        book.poll(served.now_ms)
    });
    match poll {
        Poll::Idle => {}
        Poll::Send(batches) => ctx.wait_until(send_all(config.clone(), batches)),
        Poll::Arm { delay_ms } => ctx.wait_until(wake_after(config.clone(), delay_ms)),
    }
}

/// Sleeps until the counts are due and sends them; armed again when newer counts are not due yet.
async fn wake_after(config: Config, mut delay_ms: u64) {
    loop {
        Delay::from(Duration::from_millis(delay_ms)).await;
        match USAGE.with_borrow_mut(|book| book.wake(Date::now().as_millis())) {
            Poll::Idle => return,
            Poll::Send(batches) => return send_all(config, batches).await,
            Poll::Arm { delay_ms: next } => delay_ms = next,
        }
    }
}

async fn send_all(config: Config, batches: Vec<Batch>) {
    for batch in batches {
        if batch.dropped > 0 {
            console_warn!(
                "pennon edge: usage of {}: {} evaluations not counted (more than {} series pending)",
                batch.environment,
                batch.dropped,
                crate::usage::MAX_SERIES
            );
        }
        if batch.series == 0 {
            continue;
        }
        if let Err(reason) = send(&config, &batch).await {
            console_warn!(
                "pennon edge: usage report of {} ({} series) dropped: {reason}",
                batch.environment,
                batch.series
            );
        }
    }
}

/// One `POST /api/usage`, given up after the snapshot fetch's time-out.
async fn send(config: &Config, batch: &Batch) -> Result<(), String> {
    let controller = AbortController::default();
    let request = post(config, batch, controller.signal());
    let result = crate::sync::within_fetch_timeout(controller, request).await;
    result
}

async fn post(config: &Config, batch: &Batch, signal: AbortSignal) -> Result<(), String> {
    let Some(token) = &config.edge_token else {
        return Err("EDGE_TOKEN is not set".to_owned());
    };
    let headers = Headers::new();
    headers
        .set("content-type", "application/json")
        .map_err(js)?;
    headers
        .set(http_contract::header::EDGE_TOKEN, token.expose())
        .map_err(js)?;
    let mut init = RequestInit::new();
    let body = JsValue::from(Uint8Array::from(batch.body.as_slice()));
    init.with_method(Method::Post)
        .with_headers(headers)
        .with_body(Some(body));
    let request = Request::new_with_init(&config.origin.usage_url(), &init).map_err(js)?;
    let mut response = Fetch::Request(request)
        .send_with_signal(&signal)
        .await
        .map_err(js)?;
    let status = response.status_code();
    // Read to the end, so that the connection is released.
    let text = response.text().await.map_err(js)?;
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("the origin answered {status}: {}", clip(&text)))
    }
}

/// At most 200 characters of an error body, for the log.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(200) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn js(err: worker::Error) -> String {
    err.to_string()
}
