//! Health checks for load balancers and orchestrators.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::app::AppState;
use crate::error::{ApiError, ApiResult};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
}

/// The process is up and answering.
async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready for traffic: the database answers and every migration is applied.
async fn ready(State(state): State<AppState>) -> ApiResult<(StatusCode, Json<Value>)> {
    let reachable = sqlx::query("SELECT 1").fetch_one(state.db.pool()).await.is_ok();
    if !reachable {
        return Err(ApiError::Unavailable("The database is not reachable.".into()));
    }
    if !state.db.is_migrated().await {
        return Err(ApiError::Unavailable(
            "The database migrations have not all been applied.".into(),
        ));
    }
    Ok((
        StatusCode::OK,
        Json(json!({"status": "ready", "database": "ok", "migrations": "applied"})),
    ))
}
