//! What wraps every request: an id that follows it through the logs, a deadline, a cap
//! on how many run at once, and the security headers on every response. Two services
//! in all (`app::Frame` outside, [`Guarding`] inside the CORS layer), around the router
//! rather than each route: with one middleware function per concern (seven layers, each
//! cloning what it wraps and boxing a future for every request) the layers cost a third
//! of an artwork's detail (BENCHMARKS.md).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes, HttpBody};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::config::Environment;
use crate::db::{Db, Fault};
use crate::error::ApiError;

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What the services around the router ([`Guarding`], `app::Frame`) answer with.
pub type Answer = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

fn acceptable_id(value: &HeaderValue) -> Option<String> {
    let text = value.to_str().ok()?;
    let ok = !text.is_empty() && text.len() <= 128 && text.bytes().all(|b| b.is_ascii_graphic());
    ok.then(|| text.to_owned())
}

fn new_id() -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes: [u8; 16] = rand::random();
    let mut id = String::with_capacity(32);
    for b in bytes {
        id.push(char::from(HEX[usize::from(b >> 4)]));
        id.push(char::from(HEX[usize::from(b & 15)]));
    }
    id
}

/// The request's id: the client's `X-Request-Id` when it is sensible, else a new one.
pub fn request_id(headers: &HeaderMap) -> String {
    headers
        .get(&X_REQUEST_ID)
        .and_then(acceptable_id)
        .unwrap_or_else(new_id)
}

/// Limits on every request: how long it may take and how many may run at once; and the
/// database handle, told when storage is full.
#[derive(Debug, Clone)]
pub struct Guard {
    pub timeout: Duration,
    pub slots: Arc<Semaphore>,
    pub db: Db,
}

impl<S> tower::Layer<S> for Guard {
    type Service = Guarding<S>;

    fn layer(&self, inner: S) -> Guarding<S> {
        Guarding {
            inner,
            guard: self.clone(),
        }
    }
}

/// A service behind the [`Guard`]: refuses work beyond the cap (503, at once, rather
/// than queueing without bound) and ends a request that outlives the deadline (503 as
/// well: try again). A streamed body keeps its slot and its deadline until its last
/// byte: a client reading slowly holds a slot like any other request, and no longer
/// than the deadline. Tells the database handle when an answer says storage is full,
/// so that readiness reports it until writes succeed again.
///
/// Written as a service rather than a middleware function: the inner service is called
/// at once, where `from_fn` clones it and boxes it again for every request.
#[derive(Debug, Clone)]
pub struct Guarding<S> {
    inner: S,
    guard: Guard,
}

impl<S> tower::Service<Request> for Guarding<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let Ok(slot) = self.guard.slots.clone().try_acquire_owned() else {
            let busy = ApiError::Unavailable("The server is busy; please try again.".into()).into_response();
            return Box::pin(std::future::ready(Ok(busy)));
        };
        let write = request.method() != axum::http::Method::GET;
        let answer = self.inner.call(request);
        let (timeout, db) = (self.guard.timeout, self.guard.db.clone());
        Box::pin(async move {
            let mut deadline = Box::pin(tokio::time::sleep(timeout));
            let Ok(response) = tokio::select! {
                response = answer => response,
                () = deadline.as_mut() => {
                    return Ok(ApiError::Unavailable("The request took too long and was stopped.".into()).into_response())
                }
            };
            Ok(guarded(response, slot, deadline, write, &db))
        })
    }
}

/// `response`, whose body keeps `slot` and ends at `deadline`; tells `db` what the
/// response says about storage.
fn guarded(
    response: Response,
    slot: OwnedSemaphorePermit,
    deadline: Pin<Box<tokio::time::Sleep>>,
    write: bool,
    db: &Db,
) -> Response {
    if response.extensions().get::<Fault>() == Some(&Fault::StorageFull) {
        db.note_storage_full();
    } else if write && response.status().is_success() {
        db.clear_storage_full();
    }
    // An event stream is long-lived by design: it has caps of its own (see `live`), and
    // neither holds a request slot nor meets the request deadline.
    let streaming = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return response;
    }
    response.map(|inner| {
        Body::new(Guarded {
            inner,
            _slot: slot,
            deadline,
        })
    })
}

/// A response body that holds its request's slot and ends at its deadline.
struct Guarded {
    inner: Body,
    _slot: OwnedSemaphorePermit,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if self.deadline.as_mut().poll(cx).is_ready() {
            tracing::warn!("a response was still streaming at the request deadline; cut off");
            return Poll::Ready(Some(Err(axum::Error::new(
                "the response outlived the request deadline",
            ))));
        }
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// `response`, whose body is polled in `span` when it is streamed (of no known length).
pub fn in_span(response: Response, span: tracing::Span) -> Response {
    if response.body().size_hint().exact().is_some() || span.is_disabled() {
        return response;
    }
    response.map(|inner| Body::new(InSpan { inner, span }))
}

/// A response body polled inside its request's span.
struct InSpan {
    inner: Body,
    span: tracing::Span,
}

impl HttpBody for InSpan {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let this = self.get_mut();
        let _entered = this.span.enter();
        Pin::new(&mut this.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Security headers on every response: no sniffing, no framing, no referrer leaks, a
/// CSP that lets a JSON response run nothing (a page sets its own), HSTS in production,
/// and `no-store` on anything answered to a token.
pub fn security_headers(headers: &mut HeaderMap, authenticated: bool, environment: Environment) {
    // What a member sees with their token (emails, addresses) is theirs alone: no
    // shared or browser cache may keep it.
    if authenticated {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'; base-uri 'none'"),
        );
    }
    if environment == Environment::Prod {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// Log lines, kept.
    #[derive(Clone, Default)]
    struct Logs(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Logs {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Logs {
        type Writer = Logs;
        fn make_writer(&'a self) -> Logs {
            self.clone()
        }
    }

    #[tokio::test]
    async fn a_streamed_body_logs_in_its_requests_span() {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(logs.clone())
            .with_ansi(false)
            .finish();
        let _default = tracing::subscriber::set_default(subscriber);
        let body = |said: &'static str| {
            Body::from_stream(futures::stream::poll_fn(move |_| {
                tracing::warn!("{said}");
                Poll::Ready(None::<Result<Bytes, std::io::Error>>)
            }))
        };
        let streamed = in_span(
            Response::new(body("streamed")),
            tracing::info_span!("request", request_id = %"r-42"),
        );
        let read = axum::body::to_bytes(streamed.into_body(), 1024).await;
        assert!(read.is_ok());
        let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        let line = text.lines().find(|l| l.contains("streamed")).unwrap_or_default();
        assert!(line.contains("request{request_id=r-42}"), "{text}");
    }
}
