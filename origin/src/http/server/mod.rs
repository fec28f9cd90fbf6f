//! The HTTP/1.1 server: accepts connections up to `MAX_CONNECTIONS`, serves each with hyper under
//! the header, body and idle timeouts, and on shutdown stops accepting and lets in-flight requests
//! finish.
//!
//! At the cap the accept loop waits for a slot, as nginx, HAProxy and Go's `LimitListener` do: new
//! connections wait in the kernel's listen backlog (their handshake completes, their requests are
//! read once a slot frees) instead of being accepted and dropped.

mod body;
mod conn_io;
mod hyper_errors;

use std::convert::Infallible;
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, Response};
use axum::Router;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch, OwnedSemaphorePermit, Semaphore};
use tower_service::Service as _;

use self::body::TimedBody;
use self::conn_io::{Activity, ConnIo, InFlight};
use crate::config::HttpLimits;
use crate::http::frame::Frame as RequestFrame;
use crate::http::rate_limit::ClientAddr;
use crate::metrics::HttpMetrics;

pub use self::body::BodyError;
use self::hyper_errors::MAX_HEAD_BYTES;

/// Serves `router` on `listener` until `shutdown` completes, then stops accepting, closes idle
/// connections and waits for the requests in flight to be answered.
///
/// With `client_addresses`, each request carries its peer's address ([`ClientAddr`]) for the rate
/// limits that count by it; without, nothing is added per request.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    client_addresses: bool,
    metrics: Arc<HttpMetrics>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (stop, stopping) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    let mut full = false;
    loop {
        let permit = match Arc::clone(&slots).try_acquire_owned() {
            Ok(permit) => {
                full = false;
                permit
            }
            Err(_) => {
                if !full {
                    full = true;
                    tracing::warn!(
                        max_connections = limits.max_connections,
                        "connection limit reached (MAX_CONNECTIONS); new connections wait until one closes"
                    );
                }
                tokio::select! {
                    permit = Arc::clone(&slots).acquire_owned() => match permit {
                        Ok(permit) => permit,
                        Err(_) => break, // never closed
                    },
                    () = &mut shutdown => break,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => (stream, client_addresses.then(|| ClientAddr(peer.ip()))),
                Err(err) => {
                    tokio::select! {
                        () = accept_error(err) => continue,
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        };
        tokio::spawn(connection(
            stream,
            peer,
            router.clone(),
            Arc::clone(&metrics),
            limits,
            stopping.clone(),
            permit,
        ));
    }
    drop(listener);
    tracing::debug!("not accepting connections any more; finishing the requests in flight");
    let _ = stop.send(true);
    // Every connection holds a slot until it is closed: all slots back means all closed.
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let _ = slots.acquire_many(all).await;
}

/// As hyper and axum do: errors of one connection (reset before it was accepted) are skipped; any
/// other (`EMFILE`: out of file descriptors) is logged and retried after a second, rather than
/// spinning.
async fn accept_error(err: std::io::Error) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(
        err.kind(),
        ConnectionAborted | ConnectionRefused | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%err, "accept error; retrying in 1 s");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

async fn connection(
    stream: TcpStream,
    peer: Option<ClientAddr>,
    router: Router,
    metrics: Arc<HttpMetrics>,
    limits: HttpLimits,
    mut stopping: watch::Receiver<bool>,
    _slot: OwnedSemaphorePermit,
) {
    // Responses go out in one write each; without Nagle's algorithm nothing waits for an ACK.
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%err, "cannot set TCP_NODELAY");
    }
    let activity = Arc::new(Activity::default());
    let (handback, handed_back) = oneshot::channel();
    let io = ConnIo::new(
        stream,
        Arc::clone(&activity),
        limits.header_timeout,
        limits.idle_timeout,
        handback,
    );
    let service = ConnService {
        router,
        metrics: Arc::new(ConnMetrics(metrics)),
        peer,
        activity,
        body_timeout: limits.body_timeout,
    };
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .keep_alive(true)
        // The header and idle timeouts are `ConnIo`'s: hyper's would count the idle wait too.
        .header_read_timeout(None)
        .max_buf_size(MAX_HEAD_BYTES)
        // `hyper_errors` relies on hyper writing a response body as a buffer of its own.
        .writev(true);
    {
        let mut conn = pin!(builder.serve_connection(TokioIo::new(io), service));
        let mut stop_requested = false;
        loop {
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(%err, "connection ended with an error");
                    }
                    break;
                }
                changed = stopping.wait_for(|&stop| stop), if !stop_requested => {
                    stop_requested = true;
                    if changed.is_ok() {
                        // Closes the connection now if idle, else after the response in flight.
                        conn.as_mut().graceful_shutdown();
                    }
                }
            }
        }
        // Dropping the connection drops `ConnIo`, which hands the socket back.
    }
    if let Ok(stream) = handed_back.await {
        linger(stream).await;
    }
}

/// How long a closed connection still takes what the client sends (at most).
const LINGER: Duration = Duration::from_secs(2);

/// Closes a connection hyper is done with as nginx's `lingering_close` does: end the sending side
/// (after everything written), then read and drop what the client still sends until it closes
/// too, for at most [`LINGER`]. Closing a socket with unread input resets the connection, and a
/// reset can destroy a response (a 408 or 413, say) the client has not read yet.
async fn linger(mut stream: TcpStream) {
    // Fails when hyper already shut it down (or the client reset it); the read then ends at once.
    let _ = stream.shutdown().await;
    let drain = async {
        let mut scratch = vec![0u8; 4096];
        while let Ok(1..) = stream.read(&mut scratch).await {}
    };
    let _ = tokio::time::timeout(LINGER, drain).await;
}

/// The router, with each request's body under the body timeout and counted in the connection's
/// [`Activity`] until its response is written.
#[derive(Clone, Debug)]
struct ConnService {
    router: Router,
    metrics: Arc<ConnMetrics>,
    peer: Option<ClientAddr>,
    activity: Arc<Activity>,
    body_timeout: Duration,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<CountedBody>;
    type Error = Infallible;
    type Future = Answer;

    fn call(&self, request: Request<Incoming>) -> Answer {
        let in_flight = self.activity.start();
        let timeout = self.body_timeout;
        let mut request = request.map(|incoming| Body::new(TimedBody::new(incoming, timeout)));
        if let Some(peer) = self.peer {
            request.extensions_mut().insert(peer);
        }
        let frame = RequestFrame::open(&mut request, &self.metrics.0);
        // `Router` is always ready (its `poll_ready` is `Ready(Ok(()))`); cloning it is an `Arc`.
        let future = {
            let _entered = frame.span().enter();
            self.router.clone().call(request)
        };
        Answer {
            future,
            metrics: Arc::clone(&self.metrics),
            frame: Some(frame),
            in_flight: Some(in_flight),
        }
    }
}

/// The origin's request counts, held once per connection: each request's future holds a clone
/// for its response, and a count shared with this connection only (whose requests come one after
/// another) is not a cache line every thread writes on every request, as the origin-wide `Arc`
/// would be.
#[derive(Debug)]
struct ConnMetrics(Arc<HttpMetrics>);

/// The router's response future, polled in the request's span; the response is finished by its
/// [`RequestFrame`], and the request's [`InFlight`] handed on to the response body.
struct Answer {
    future: <Router as tower_service::Service<Request<Body>>>::Future,
    metrics: Arc<ConnMetrics>,
    frame: Option<RequestFrame>,
    in_flight: Option<InFlight>,
}

impl Future for Answer {
    type Output = Result<Response<CountedBody>, Infallible>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let polled = match &this.frame {
            Some(frame) => {
                let _entered = frame.span().enter();
                Pin::new(&mut this.future).poll(cx)
            }
            None => Pin::new(&mut this.future).poll(cx),
        };
        let mut response = match polled {
            Poll::Ready(Ok(response)) => response,
            Poll::Ready(Err(never)) => match never {},
            Poll::Pending => return Poll::Pending,
        };
        if let Some(frame) = this.frame.take() {
            frame.close(&mut response, &this.metrics.0);
        }
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(response.map(|inner| CountedBody {
            inner,
            _in_flight: in_flight,
        })))
    }
}

/// A response body that ends its request's [`InFlight`] when hyper drops it (written or not).
struct CountedBody {
    inner: Body,
    _in_flight: Option<InFlight>,
}

impl http_body::Body for CountedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
