//! A connection's socket as hyper sees it. Two jobs hyper cannot be configured to do:
//!
//! - **Deadlines on waiting for a request.** hyper's own `header_read_timeout` starts when hyper
//!   starts waiting for a request head, which on a keep-alive connection is as soon as the previous
//!   response is written: it cannot tell an idle connection (allowed `IDLE_TIMEOUT_SECONDS`) from
//!   one trickling its header fields (allowed `HEADER_TIMEOUT_SECONDS`). Here the phase is known:
//!   a fresh connection has the header timeout from its start; after a response it is idle until
//!   the next request's first byte, then has the header timeout from that byte; while a request is
//!   being answered neither applies (its body has a deadline of its own, see `body.rs`). A read
//!   waiting past the deadline fails, and hyper closes the connection. The service tells this
//!   wrapper when requests start and end ([`Activity`]).
//! - **JSON bodies on hyper's own error responses.** On a request head it cannot parse, hyper
//!   answers by itself, without a body (400 bad request line or header byte, 414 URI too long, 431
//!   header fields too large), then closes. Those bytes are recognised on the way out and replaced
//!   by the same status with a `{"error"}` body.

use std::future::Future as _;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::time::{Instant, Sleep};

use super::hyper_errors;

/// Requests of one connection that its service has started and finished answering, counted by the
/// service (`server::ConnService`) and read by the socket wrapper: equal counts mean no request
/// is being answered. A request is finished when hyper drops its response body, which it does
/// once the body is written (or abandoned).
#[derive(Debug, Default)]
pub struct Activity {
    started: AtomicU64,
    finished: AtomicU64,
}

impl Activity {
    /// Counts a request as started; the guard counts it as finished when dropped.
    pub fn start(self: &Arc<Self>) -> InFlight {
        self.started.fetch_add(1, Ordering::Relaxed);
        InFlight(Arc::clone(self))
    }
}

/// One request being answered; see [`Activity`].
#[derive(Debug)]
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.finished.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// Reading a request head; `started` says whether any byte of it has arrived.
    Head { started: bool },
    /// After a response, waiting for the next request's first byte.
    Idle,
}

#[derive(Debug)]
pub struct ConnIo {
    /// `None` only once dropped (handed back).
    stream: Option<TcpStream>,
    /// Where the socket goes when hyper drops this wrapper: the server closes it (see `linger`).
    handback: Option<oneshot::Sender<TcpStream>>,
    activity: Arc<Activity>,
    header_timeout: Duration,
    idle_timeout: Duration,
    phase: Phase,
    deadline: Instant,
    /// Armed lazily, and only moved earlier: a timer that fires before a later deadline is simply
    /// re-armed, so a busy keep-alive connection does not touch the timer wheel on every request.
    timer: Option<Pin<Box<Sleep>>>,
    /// `activity.finished` when this wrapper last looked: a change means a response was written.
    seen_finished: u64,
    /// A replacement for one of hyper's error responses, still to be written.
    replacement: Vec<u8>,
}

impl ConnIo {
    pub fn new(
        stream: TcpStream,
        activity: Arc<Activity>,
        header_timeout: Duration,
        idle_timeout: Duration,
        handback: oneshot::Sender<TcpStream>,
    ) -> Self {
        Self {
            stream: Some(stream),
            handback: Some(handback),
            activity,
            header_timeout,
            idle_timeout,
            phase: Phase::Head { started: false },
            deadline: Instant::now() + header_timeout,
            timer: None,
            seen_finished: 0,
            replacement: Vec::new(),
        }
    }

    /// Brings the phase up to date with the service's counts; false while a request is being
    /// answered (hyper reads its body, or watches for a close), when no deadline of ours applies.
    fn waiting_for_request(&mut self) -> bool {
        let finished = self.activity.finished.load(Ordering::Relaxed);
        if self.activity.started.load(Ordering::Relaxed) != finished {
            return false;
        }
        if finished != self.seen_finished {
            self.seen_finished = finished;
            self.phase = Phase::Idle;
            self.deadline = Instant::now() + self.idle_timeout;
        }
        true
    }

    /// Ready once the deadline has passed; otherwise the task is woken when it does.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let deadline = self.deadline;
        let timer = self
            .timer
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() > deadline {
            timer.as_mut().reset(deadline);
        }
        loop {
            ready!(timer.as_mut().poll(cx));
            if timer.deadline() >= deadline {
                return Poll::Ready(());
            }
            // Fired for an earlier phase's deadline; this one is later.
            timer.as_mut().reset(deadline);
        }
    }

    /// Pending until the deadline passes, then the error that makes hyper close the connection.
    fn poll_deadline(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_timer(cx));
        let what = match self.phase {
            Phase::Head { started: true } => {
                self.answer_request_timeout();
                "request header fields not received in time"
            }
            Phase::Head { started: false } => "no request received in time",
            Phase::Idle => "idle keep-alive connection",
        };
        Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, what)))
    }

    /// Best effort, without waiting: a client that started a request is told why it is closed.
    /// It has read nothing yet, so the whole answer fits in the socket's send buffer.
    fn answer_request_timeout(&mut self) {
        let answer = hyper_errors::request_timeout(self.header_timeout);
        if let Some(stream) = &self.stream {
            let _ = stream.try_write(&answer);
        }
    }

    /// Writes what is left of a replacement; ready when nothing is.
    fn poll_replacement(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while !self.replacement.is_empty() {
            let n = ready!(socket(&mut self.stream)?.poll_write(cx, &self.replacement))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.replacement.drain(..n);
        }
        Poll::Ready(Ok(()))
    }

    /// `bufs` written, except that one of hyper's error responses at their end is replaced: the
    /// bytes before it are written first; once they all are, it counts as written and its
    /// replacement goes out instead.
    fn poll_write_replacing(
        &mut self,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_replacement(cx))?;
        let Some((last, slice)) = bufs.iter().enumerate().rev().find(|(_, b)| !b.is_empty()) else {
            return socket(&mut self.stream)?.poll_write_vectored(cx, bufs);
        };
        let Some(found) = hyper_errors::find(slice) else {
            return socket(&mut self.stream)?.poll_write_vectored(cx, bufs);
        };
        let before: Vec<io::IoSlice<'_>> = bufs[..last]
            .iter()
            .map(|b| io::IoSlice::new(b))
            .chain(std::iter::once(io::IoSlice::new(&slice[..found.start])))
            .filter(|b| !b.is_empty())
            .collect();
        let before_len: usize = before.iter().map(|b| b.len()).sum();
        if before_len > 0 {
            let n = ready!(socket(&mut self.stream)?.poll_write_vectored(cx, &before))?;
            if n < before_len {
                return Poll::Ready(Ok(n));
            }
        }
        self.replacement = found.replacement;
        // Written now if the socket takes it; otherwise by the flush hyper does next.
        if let Poll::Ready(Err(err)) = self.poll_replacement(cx) {
            return Poll::Ready(Err(err));
        }
        Poll::Ready(Ok(before_len + (slice.len() - found.start)))
    }
}

/// The socket, until it is handed back.
fn socket(stream: &mut Option<TcpStream>) -> io::Result<Pin<&mut TcpStream>> {
    stream
        .as_mut()
        .map(Pin::new)
        .ok_or_else(|| io::ErrorKind::NotConnected.into())
}

impl Drop for ConnIo {
    fn drop(&mut self) {
        if let (Some(stream), Some(handback)) = (self.stream.take(), self.handback.take()) {
            let _ = handback.send(stream);
        }
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if !this.waiting_for_request() {
            return socket(&mut this.stream)?.poll_read(cx, buf);
        }
        let filled = buf.filled().len();
        match socket(&mut this.stream)?.poll_read(cx, buf) {
            Poll::Ready(Ok(())) => {
                if buf.filled().len() > filled {
                    match this.phase {
                        Phase::Idle => {
                            this.phase = Phase::Head { started: true };
                            this.deadline = Instant::now() + this.header_timeout;
                        }
                        Phase::Head { .. } => this.phase = Phase::Head { started: true },
                    }
                }
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(err)) => Poll::Ready(Err(err)),
            Poll::Pending => this.poll_deadline(cx),
        }
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_replacing(cx, &[io::IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_replacing(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        ready!(this.poll_replacement(cx))?;
        ready!(socket(&mut this.stream)?.poll_flush(cx))?;
        // After a response hyper waits for the next request without reading until the socket is
        // readable, so the idle deadline is armed here, where the response's last bytes go out.
        if this.waiting_for_request() && this.poll_timer(cx).is_ready() {
            // Already past: have hyper read again, and the read fail.
            cx.waker().wake_by_ref();
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_replacement(cx))?;
        socket(&mut self.stream)?.poll_shutdown(cx)
    }
}
