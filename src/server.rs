//! Serving HTTP/1.1 connections with limits a public server needs, which `axum::serve`
//! does not offer: a deadline for each request's headers (a slowloris is cut off), an
//! idle timeout for kept-alive connections, a cap on open connections (beyond it the
//! server stops accepting and new clients wait in the kernel's backlog, instead of the
//! process running out of file descriptors), and a shutdown that waits a bounded time.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, Semaphore};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// The limits on connections.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// From a connection's opening, or the end of its last response, until a request's
    /// headers are complete.
    pub header_read_timeout: Duration,
    /// How long a connection may stay open with nothing read or written.
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// After the shutdown signal, how long requests under way may take to finish.
    pub shutdown_grace: Duration,
}

/// Serves `service` on `listener` until `shutdown` completes, then lets requests under
/// way finish for at most the grace period.
pub async fn serve<S>(listener: TcpListener, service: S, limits: ConnectionLimits, shutdown: impl Future<Output = ()>)
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stopping, stop) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // At the cap, stop accepting: further clients wait in the backlog.
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let (stream, remote) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(&e).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let service = service.clone().map_request(move |request: hyper::Request<Incoming>| {
            let mut request = request.map(Body::new);
            request.extensions_mut().insert(ConnectInfo(remote));
            request
        });
        let stream = Tracked::new(stream);
        let activity = stream.activity.clone();
        let connection = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        connections.spawn(drive(connection, activity, limits.idle_timeout, stop.clone(), permit));
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stopping.send(true);
    let open = connections.len();
    if open > 0 {
        tracing::info!(open, "finishing the requests under way");
    }
    let drained = async { while connections.join_next().await.is_some() {} };
    if tokio::time::timeout(limits.shutdown_grace, drained).await.is_err() {
        tracing::warn!(grace = ?limits.shutdown_grace, "connections still open after the grace period; closing them");
        connections.abort_all();
        while connections.join_next().await.is_some() {}
    }
}

/// A failed accept: a client that gave up is nothing; running out of file descriptors
/// or memory is waited out briefly rather than spun on.
async fn accept_failed(error: &io::Error) {
    use io::ErrorKind::*;
    if !matches!(
        error.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted
    ) {
        tracing::error!(error = %error, "accepting a connection failed; pausing");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

type Connection<S> = http1::Connection<TokioIo<Tracked>, S>;

/// Runs one connection: closed gracefully (the request under way finishes) when it has
/// been idle too long or the server is stopping.
async fn drive<S>(
    connection: Connection<S>,
    activity: Arc<Activity>,
    idle_timeout: Duration,
    mut stop: watch::Receiver<bool>,
    _permit: tokio::sync::OwnedSemaphorePermit,
) where
    S: hyper::service::HttpService<Incoming>,
    S::ResBody: 'static,
    <S::ResBody as hyper::body::Body>::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    loop {
        let idle_for = activity.idle_for();
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended");
                }
                return;
            }
            _ = stop.wait_for(|stopping| *stopping), if !closing => {
                connection.as_mut().graceful_shutdown();
                closing = true;
            }
            () = tokio::time::sleep(idle_timeout.saturating_sub(idle_for)) => {
                if activity.idle_for() < idle_timeout {
                    continue;
                }
                if closing {
                    // Asked to close and still nothing moves (a client that stopped
                    // reading its response): drop it, freeing its place.
                    tracing::debug!("closing a connection that stopped moving");
                    return;
                }
                // Idle: closed now, or after the request under way.
                connection.as_mut().graceful_shutdown();
                closing = true;
                activity.touch();
            }
        }
    }
}

/// When a connection last read or wrote anything.
#[derive(Debug)]
struct Activity {
    opened: Instant,
    /// Milliseconds after `opened`.
    last: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let now = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    fn idle_for(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.opened.elapsed().saturating_sub(last)
    }
}

/// A TCP stream that notes when it last carried bytes.
#[derive(Debug)]
pub struct Tracked {
    stream: TcpStream,
    activity: Arc<Activity>,
}

impl Tracked {
    fn new(stream: TcpStream) -> Self {
        Self {
            stream,
            activity: Arc::new(Activity {
                opened: Instant::now(),
                last: AtomicU64::new(0),
            }),
        }
    }
}

impl AsyncRead for Tracked {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.stream).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
