//! The request body as the handlers read it: hyper's body with a deadline, and the failures of
//! reading it as an error type that `error.rs` maps to a status and an `{"error"}` message.

use std::future::Future as _;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use tokio::time::{Instant, Sleep};

/// Why a request body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The whole body did not arrive within `BODY_TIMEOUT_SECONDS` of the end of the header fields.
    #[error("body: not received within {} s", .0.as_secs())]
    TimedOut(Duration),
    /// The connection ended before the body did (a `content-length` larger than what was sent).
    #[error("body: incomplete, the connection ended before the whole body was received")]
    Incomplete(#[source] hyper::Error),
    /// Not valid HTTP/1.1 framing: a bad chunk size line, chunk end or trailer.
    #[error("body: malformed chunked encoding")]
    Malformed(#[source] hyper::Error),
}

impl BodyError {
    fn from_hyper(err: hyper::Error) -> Self {
        // hyper reports framing errors as an `io::Error` behind its own; an early end of the
        // connection is `UnexpectedEof`, everything else is a malformed chunked body.
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>() {
                if io.kind() == std::io::ErrorKind::UnexpectedEof {
                    return Self::Incomplete(err);
                }
            }
            source = cause.source();
        }
        if err.is_incomplete_message() {
            Self::Incomplete(err)
        } else {
            Self::Malformed(err)
        }
    }

    /// The `BodyError` behind an error of the body extractors, if that is what failed.
    pub fn find<'e>(err: &'e (dyn std::error::Error + 'static)) -> Option<&'e Self> {
        let mut current = Some(err);
        while let Some(err) = current {
            if let Some(found) = err.downcast_ref::<Self>() {
                return Some(found);
            }
            current = err.source();
        }
        None
    }
}

/// hyper's request body, failing with [`BodyError::TimedOut`] once `timeout` has passed since the
/// request's header fields were read. The timer is armed only when the body is not all there yet,
/// so a body that came with its header fields (the usual evaluate request) costs no timer.
#[derive(Debug)]
pub struct TimedBody {
    inner: Incoming,
    deadline: Instant,
    timeout: Duration,
    timer: Option<Pin<Box<Sleep>>>,
}

impl TimedBody {
    pub fn new(inner: Incoming, timeout: Duration) -> Self {
        Self {
            inner,
            deadline: Instant::now() + timeout,
            timeout,
            timer: None,
        }
    }
}

impl Body for TimedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => Poll::Ready(frame.map(|f| f.map_err(BodyError::from_hyper))),
            Poll::Pending => {
                let deadline = this.deadline;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
                ready!(timer.as_mut().poll(cx));
                Poll::Ready(Some(Err(BodyError::TimedOut(this.timeout))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
