//! The application: the routes of every face behind the shared layers, and serving it.

use std::convert::Infallible;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Router};
use futures::FutureExt;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::normalize_path::NormalizePathLayer;
use tracing::Instrument;

use crate::clock::Clock;
use crate::config::{Config, Environment};
use crate::db::Db;
use crate::error::ApiError;
use crate::input::JSON_LIMIT;
use crate::layers::{self, Guard};
use crate::state::AppState;
use crate::{media, members, orders, web};

/// Connects to the database and, unless disabled, migrates it.
pub async fn connect(config: Config, clock: Clock) -> anyhow::Result<AppState> {
    let db = Db::connect_with(&config.database_url, config.db_options()).await?;
    if config.run_migrations {
        db.migrate().await?;
        members::fill_username_skeletons(&db).await?;
    }
    AppState::new(db, config, clock)
}

/// Which origins may call the API from a browser, and with what.
fn cors(config: &Config) -> CorsLayer {
    match &config.cors_allowed_origins {
        None => CorsLayer::new().allow_origin(Any),
        Some(origins) => CorsLayer::new().allow_origin(AllowOrigin::list(
            origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()),
        )),
    }
    .allow_methods([
        Method::GET,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ])
    // Listed, not `*`: the Fetch standard's wildcard does not cover `Authorization`.
    .allow_headers([
        axum::http::header::AUTHORIZATION,
        axum::http::header::CONTENT_TYPE,
        axum::http::header::ACCEPT,
        axum::http::header::IF_NONE_MATCH,
        crate::idempotency::IDEMPOTENCY_KEY.clone(),
        layers::X_REQUEST_ID.clone(),
    ])
    .expose_headers([
        axum::http::HeaderName::from_static("x-total-count"),
        axum::http::header::LINK,
        layers::X_REQUEST_ID.clone(),
        axum::http::header::RETRY_AFTER,
        crate::idempotency::REPLAYED.clone(),
    ])
    .max_age(Duration::from_secs(3600))
}

/// The routes of every face, with their state, before the layers ([`app`]).
pub fn router(state: AppState) -> Router {
    let (api, _) = crate::api::routes().split_for_parts();
    api.merge(crate::web::routes())
        .fallback(|| async { ApiError::not_found("No such route.") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(Extension(state.clone()))
        .with_state(state)
}

/// The whole application: every route answers with and without a trailing slash,
/// directly (no redirect); each request has its id, span and log line, a panic's 500,
/// error pages on the browser's routes and the security headers ([`Frame`]), then CORS,
/// then the cap and the deadline ([`Guard`]). The layers wrap the router once, not each
/// route.
pub fn app(
    state: AppState,
) -> impl tower::Service<
    Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone
       + Send
       + 'static {
    let guard = Guard {
        timeout: Duration::from_millis(state.config.request_timeout_ms),
        slots: Arc::new(tokio::sync::Semaphore::new(state.config.max_concurrent_requests)),
        db: state.db.clone(),
    };
    let (cors, environment) = (cors(&state.config), state.config.environment);
    tower::ServiceBuilder::new()
        .layer(NormalizePathLayer::trim_trailing_slash())
        .layer(tower::layer::layer_fn(move |inner| Frame { inner, environment }))
        .layer(cors)
        .layer(guard)
        .service(router(state))
}

/// The outside of every request: gives it an id (the client's `X-Request-Id` when it
/// is sensible), returned in the response and carried by its span, whose last event
/// logs the status and latency; answers a handler's panic (a bug, never a client's
/// doing) like any internal error; on the browser's routes turns an error into a page
/// ([`web::as_page`]); and sets the security headers on every response.
///
/// A service rather than a middleware function: the inner service is called at once,
/// where `from_fn` clones it and boxes it again for every request.
#[derive(Debug, Clone)]
pub struct Frame<S> {
    inner: S,
    environment: Environment,
}

impl<S> tower::Service<Request> for Frame<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = layers::Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let started = Instant::now();
        let id = layers::request_id(request.headers());
        let authenticated = request.headers().contains_key(axum::http::header::AUTHORIZATION);
        let page = web::is_page(request.uri().path());
        // Method, path and request id only: never the query (it may hold tokens), bodies
        // or headers.
        let span =
            tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id);
        let answer = {
            let _entered = span.enter();
            std::panic::catch_unwind(AssertUnwindSafe(|| self.inner.call(request)))
        };
        let environment = self.environment;
        Box::pin(async move {
            let body_span = span.clone();
            let response = async move {
                let answered = match answer {
                    Ok(answer) => AssertUnwindSafe(answer).catch_unwind().await.ok(),
                    Err(_) => None,
                };
                let response = match answered {
                    Some(Ok(response)) => response,
                    None => ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response(),
                };
                let (status, latency_ms) = (response.status(), started.elapsed().as_secs_f64() * 1000.0);
                match status.is_server_error() {
                    true => tracing::error!(status = status.as_u16(), latency_ms, "response"),
                    false => tracing::info!(status = status.as_u16(), latency_ms, "response"),
                }
                response
            }
            .instrument(span)
            .await;
            let mut response = match page {
                true => web::as_page(response).await,
                false => response,
            };
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(layers::X_REQUEST_ID.clone(), value);
            }
            layers::security_headers(response.headers_mut(), authenticated, environment);
            // What a streamed body logs (a list failing half-way, the deadline) names its
            // request.
            Ok(layers::in_span(response, body_span))
        })
    }
}

/// Serves until SIGTERM or Ctrl-C; in-flight requests finish first, for at most the
/// shutdown grace period. The auto-completion sweep runs beside it.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> anyhow::Result<()> {
    serve_until(state, listener, shutdown_signal()).await
}

/// Serves until `shutdown` completes.
pub async fn serve_until(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    crate::passwords::prepare().await;
    let sweep = tokio::spawn(run_sweeps(
        state.clone(),
        Duration::from_secs(state.config.auto_complete_interval_secs),
    ));
    let upload_sweep = tokio::spawn(media::run_upload_sweep(
        state.clone(),
        Duration::from_secs(state.config.upload_sweep_interval_secs),
    ));
    let notifying = start_notifications(&state)?;
    let limits = state.config.connections;
    let live = state.live.clone();
    // Open streams end as shutdown begins, so the connections under way can drain.
    let shutdown = async move {
        shutdown.await;
        live.close();
    };
    crate::server::serve(listener, app(state), limits, shutdown).await;
    sweep.abort();
    upload_sweep.abort();
    for task in notifying {
        task.abort();
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

/// Starts what live notifications need: the fan-out to this instance's streams and, when
/// `SMTP_URL` is set, the email worker (the server says at start-up whether email is on).
pub fn start_notifications(state: &AppState) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
    let mut tasks = vec![tokio::spawn(crate::notifications::run_fanout(state.clone()))];
    match &state.config.smtp_url {
        Some(url) => {
            let mailer = crate::notifications::email::Mailer::new(url, &state.config.smtp_from)?;
            tracing::info!(from = %state.config.smtp_from, "notification emails are on");
            let interval = Duration::from_millis(state.config.email_interval_ms);
            tasks.push(tokio::spawn(crate::notifications::email::run(
                state.clone(),
                mailer,
                interval,
            )));
        }
        None => tracing::info!("notification emails are off: SMTP_URL is not set"),
    }
    Ok(tasks)
}

/// Every `interval` until the process stops: completes overdue orders and forgets
/// expired rate-limit counters, idempotency keys and web sessions. A failed round is retried at the
/// next.
pub async fn run_sweeps(state: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = orders::complete_overdue(&state).await {
            tracing::warn!(error = %e, "auto-completion sweep failed; retrying at the next tick");
        }
        if let Err(e) = state.limits.purge(state.clock.now()).await {
            tracing::warn!(error = %e, "purging rate-limit counters failed; retrying at the next tick");
        }
        if let Err(e) = crate::idempotency::purge_expired(&state).await {
            tracing::warn!(error = %e, "purging idempotency keys failed; retrying at the next tick");
        }
        if let Err(e) = crate::members::sessions::purge(&state.db, state.clock.now()).await {
            tracing::warn!(error = %e, "purging ended web sessions failed; retrying at the next tick");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panicking_handler_answers_like_any_internal_error() {
        async fn boom() -> &'static str {
            panic!("a bug")
        }
        let app = Frame {
            inner: Router::new().route("/api/boom", get(boom)).route("/boom", get(boom)),
            environment: Environment::Dev,
        };
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let api = app.clone().oneshot(get("/api/boom")).await.unwrap();
        assert_eq!(api.status(), 500);
        assert_eq!(api.headers()["content-type"], "application/problem+json");
        assert_eq!(api.headers()["x-content-type-options"], "nosniff");
        assert_eq!(api.headers()["x-request-id"].len(), 32);
        let body = axum::body::to_bytes(api.into_body(), 4096).await.unwrap();
        assert!(
            !String::from_utf8_lossy(&body).contains("a bug"),
            "the cause is never sent"
        );
        let page = app.oneshot(get("/boom")).await.unwrap();
        assert_eq!(page.status(), 500);
        assert!(page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
    }
}
