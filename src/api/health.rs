//! Health checks for load balancers and orchestrators.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct Health {
    status: &'static str,
}

/// What readiness found.
#[derive(Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`, or `degraded` when the disk is full.
    status: &'static str,
    database: &'static str,
    migrations: &'static str,
    storage: &'static str,
}

/// How long readiness may take to answer.
const READY_WITHIN: std::time::Duration = std::time::Duration::from_millis(800);

/// The process is up and answering.
#[utoipa::path(get, path = "/health/live", tag = "health", responses((status = 200, description = "Up", body = Health)))]
pub(crate) async fn live() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready for traffic: the database answers and every migration is applied. A full disk
/// shows as `"status": "degraded"`: reads work, writes are refused until space is freed.
#[utoipa::path(get, path = "/health/ready", tag = "health", responses((status = 200, description = "Ready", body = Readiness), (status = 503, description = "Not ready", body = crate::error::Problem, content_type = "application/problem+json")))]
pub(crate) async fn ready(State(state): State<AppState>) -> ApiResult<Json<Readiness>> {
    // A balancer asks often and waits little: an outage is reported at once.
    let check = async {
        let reachable = state.db.ping().await;
        (reachable, reachable && state.db.is_migrated().await)
    };
    let Ok((reachable, migrated)) = tokio::time::timeout(READY_WITHIN, check).await else {
        return Err(ApiError::Unavailable("The database did not answer in time.".into()));
    };
    if !reachable {
        return Err(ApiError::Unavailable("The database is not reachable.".into()));
    }
    if !migrated {
        return Err(ApiError::Unavailable(
            "The database migrations have not all been applied.".into(),
        ));
    }
    // A full disk refuses writes, but reads still work: degraded, not out of service
    // (taking every instance out would stop the reads too).
    let (status, storage) = if state.db.storage_full() {
        ("degraded", "full: writes are refused until space is freed")
    } else {
        ("ready", "ok")
    };
    Ok(Json(Readiness {
        status,
        database: "ok",
        migrations: "applied",
        storage,
    }))
}
