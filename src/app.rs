//! Application state, the router, and serving it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, Method};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use tower::Layer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};
use tower_http::normalize_path::NormalizePathLayer;
use tower_http::trace::TraceLayer;

use crate::auth::{Keys, MaybeMember};
use crate::cache::PageCache;
use crate::clock::Clock;
use crate::config::Config;
use crate::db::Db;
use crate::error::ApiError;
use crate::health;
use crate::input::JSON_LIMIT;
use crate::layers::{self, Guard, RequestId};
use crate::limits::{AuthLimits, Counters, TrustedProxies};
use crate::media::{self, Media};
use crate::{artists, artworks, galleries, images, members, orders};

/// What every handler can reach. Cloned for every request, so behind one reference
/// count: a clone is one atomic increment, not one for each part.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct Shared {
    pub db: Db,
    pub config: Arc<Config>,
    pub clock: Clock,
    pub keys: Arc<Keys>,
    /// Public catalogue pages; invalidate after committing a change they show.
    pub catalogue: Arc<PageCache>,
    /// Uploaded images: storage and URLs.
    pub media: Arc<Media>,
    /// Rate limits on login and registration.
    pub limits: Arc<AuthLimits>,
}

impl axum::extract::FromRef<AppState> for TrustedProxies {
    fn from_ref(state: &AppState) -> Self {
        state.config.trusted_proxies.clone()
    }
}

impl AppState {
    pub fn new(db: Db, config: Config, clock: Clock) -> anyhow::Result<Self> {
        let keys = Arc::new(Keys::new(&config.secret_key));
        let catalogue = Arc::new(PageCache::new(Duration::from_millis(config.catalogue_cache_ms)));
        let media = Arc::new(Media::from_config(&config)?);
        let limits = Arc::new(AuthLimits::new(
            Counters::for_db(&db),
            config.auth_requests_per_ip_per_minute,
            config.login_failures_per_account,
            config.login_failures_per_account_ceiling,
        ));
        Ok(Self(Arc::new(Shared {
            db,
            config: Arc::new(config),
            clock,
            keys,
            catalogue,
            media,
            limits,
        })))
    }

    /// Connects to the database and, unless disabled, migrates it.
    pub async fn connect(config: Config, clock: Clock) -> anyhow::Result<Self> {
        let db = Db::connect_with(&config.database_url, config.db_options()).await?;
        if config.run_migrations {
            db.migrate().await?;
            members::fill_username_skeletons(&db).await?;
        }
        Self::new(db, config, clock)
    }
}

/// The API router, before path normalisation.
pub fn router(state: AppState) -> Router {
    let cors = match &state.config.cors_allowed_origins {
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
    .max_age(Duration::from_secs(3600));

    let guard = Guard {
        timeout: Duration::from_millis(state.config.request_timeout_ms),
        slots: Arc::new(tokio::sync::Semaphore::new(state.config.max_concurrent_requests)),
    };
    Router::new()
        .route("/api", get(api_root))
        .route("/api/openapi.json", get(openapi_document))
        .merge(members::routes())
        .merge(artists::routes())
        .merge(artworks::routes())
        .merge(images::routes())
        .merge(galleries::routes())
        .merge(orders::routes(&state))
        .merge(media::routes(&state))
        .merge(health::routes())
        .merge(crate::docs::routes())
        .fallback(|| async { ApiError::not_found("No such route.") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .layer(middleware::from_fn_with_state(state.db.clone(), layers::note_faults))
        .layer(middleware::from_fn_with_state(guard, layers::guard))
        .layer(cors)
        .layer(middleware::from_fn_with_state(
            state.config.environment,
            layers::security_headers,
        ))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    // Method, path and request id only: never the query (it may hold
                    // tokens), bodies or headers.
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .map(|id| id.0.as_str())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                .on_request(())
                .on_response(
                    |res: &axum::response::Response, latency: Duration, _span: &tracing::Span| {
                        tracing::info!(
                            status = res.status().as_u16(),
                            latency_ms = latency.as_secs_f64() * 1000.0,
                            "response"
                        );
                    },
                ),
        )
        .layer(middleware::from_fn(layers::request_id))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            // A bug, never a client's doing: answer like any internal error.
            ApiError::Internal(anyhow::anyhow!("a request handler panicked")).into_response()
        }))
        .with_state(state)
}

/// The whole application: every route answers with and without a trailing slash,
/// directly (no redirect).
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
    NormalizePathLayer::trim_trailing_slash().layer(router(state))
}

/// The API's front door.
#[utoipa::path(get, path = "/api", tag = "root", responses((status = 200, description = "The API's front door", body = crate::openapi::ApiRoot), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn api_root(MaybeMember(_): MaybeMember) -> Json<Value> {
    Json(json!({
        "message": "Welcome to OpenStudio API",
        "endpoints": {
            "register": "/api/members/register/",
            "login": "/api/members/login/",
            "current_member": "/api/members/user/",
            "change_password": "/api/members/password/",
            "artworks": "/api/artworks/",
            "artwork": "/api/artworks/{id}/",
            "shipping_quote": "/api/artworks/{id}/shipping-quote/?postcode=",
            "artist": "/api/artists/{id}/",
            "upload_images": "/api/images/upload/",
            "artwork_images": "/api/images/artwork/{id}/images/",
            "my_gallery": "/api/galleries/my-gallery/",
            "gallery_artworks": "/api/galleries/{id}/artworks/",
            "curate": "/api/galleries/{id}/curate/",
            "create_order": "/api/orders/create/",
            "purchases": "/api/orders/purchase-requests/",
            "sales": "/api/orders/seller/",
            "order": "/api/orders/order-details/{id}",
            "order_events": "/api/orders/{id}/events/",
            "unviewed_orders": "/api/orders/unviewed-orders/",
        }
    }))
}

/// This API's OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/openapi.json", tag = "root", responses((status = 200, description = "This document")))]
pub(crate) async fn openapi_document() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
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
    crate::auth::prepare().await;
    let sweep = tokio::spawn(orders::run_auto_completion(
        state.clone(),
        Duration::from_secs(state.config.auto_complete_interval_secs),
    ));
    let upload_sweep = tokio::spawn(media::run_upload_sweep(
        state.clone(),
        Duration::from_secs(state.config.upload_sweep_interval_secs),
    ));
    let limits = state.config.connections;
    crate::server::serve(listener, app(state), limits, shutdown).await;
    sweep.abort();
    upload_sweep.abort();
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
