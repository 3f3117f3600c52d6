//! Safe retries: `Idempotency-Key` on order creation and payment (Stripe's semantics).
//! The same key from the same member with the same request within 24 hours replays the
//! first response without acting again; the same key with another request is a 422;
//! while the first is still running, a 409.

use axum::body::{to_bytes, Body, Bytes};
use axum::extract::{FromRequestParts, Request};
use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::auth::MaybeMember;
use crate::clock;
use crate::error::{unique_violation, ApiError};
use crate::input::JSON_LIMIT;
use crate::state::AppState;

pub static IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
pub static REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");

const KEPT: chrono::Duration = chrono::Duration::hours(24);

fn problem(status: StatusCode, detail: &str) -> Response {
    match status {
        StatusCode::UNPROCESSABLE_ENTITY => ApiError::Unprocessable(detail.to_owned()).into_response(),
        StatusCode::CONFLICT => ApiError::conflict(detail).into_response(),
        _ => ApiError::BadRequest(detail.to_owned()).into_response(),
    }
}

/// Wraps a route so that a request carrying `Idempotency-Key` acts at most once.
/// The state comes from the request's extensions (put there by [`crate::app::router`]),
/// so the route list is built without it.
pub async fn idempotent(Extension(state): Extension<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let member = match MaybeMember::from_request_parts(&mut parts, &state).await {
        Ok(MaybeMember(member)) => member,
        Err(error) => return error.into_response(),
    };
    let request = Request::from_parts(parts, body);
    let (Some(member), Some(raw_key)) = (member, request.headers().get(&IDEMPOTENCY_KEY).cloned()) else {
        return next.run(request).await;
    };
    let key = match raw_key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => k.to_owned(),
        _ => {
            return problem(
                StatusCode::BAD_REQUEST,
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
        }
    };
    match run_once(&state, member.id, &key, request, next).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// What is known of a key before acting.
enum Seen {
    /// Never used, expired, or abandoned by a request that did not finish: claim it.
    Free,
    /// Answered before: replay (or refuse, if the request differs).
    Answered(Response),
    /// Another request with this key is running now.
    Running,
    Mismatch,
}

async fn run_once(
    state: &AppState,
    member_id: i64,
    key: &str,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, JSON_LIMIT)
        .await
        .map_err(|_| ApiError::PayloadTooLarge("The body is too large.".into()))?;
    let hash = request_hash(&parts, &bytes);
    // A replay is only a read: it never waits behind the SQLite writer.
    match look_up(state, member_id, key, &hash).await? {
        Seen::Answered(response) => return Ok(response),
        Seen::Running => return Ok(problem(StatusCode::CONFLICT, RUNNING)),
        Seen::Mismatch => return Ok(problem(StatusCode::UNPROCESSABLE_ENTITY, MISMATCH)),
        Seen::Free => {}
    }
    let Some(mut claim) = Claim::take(state, member_id, key, &hash).await? else {
        // Someone claimed it in between: answer as they would be seen.
        return Ok(match look_up(state, member_id, key, &hash).await? {
            Seen::Answered(response) => response,
            Seen::Mismatch => problem(StatusCode::UNPROCESSABLE_ENTITY, MISMATCH),
            Seen::Running | Seen::Free => problem(StatusCode::CONFLICT, RUNNING),
        });
    };
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, 4 * JSON_LIMIT).await.unwrap_or_else(|_| Bytes::new());
    // A server error did nothing: the claim is released (on drop) so a retry acts.
    if !parts.status.is_server_error() {
        claim.answer(&parts, &body).await?;
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

const RUNNING: &str = "A request with this Idempotency-Key is still being processed.";
const MISMATCH: &str = "This Idempotency-Key was used for a different request.";

fn request_hash(parts: &axum::http::request::Parts, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str().as_bytes());
    hasher.update(b" ");
    hasher.update(parts.uri.path().trim_end_matches('/').as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads what is stored for a key, on the read pool.
async fn look_up(state: &AppState, member_id: i64, key: &str, hash: &str) -> Result<Seen, ApiError> {
    let row = sqlx::query(
        "SELECT request_hash, status_code, content_type, response_body, created_at, locked_until \
         FROM idempotency_keys WHERE member_id = $1 AND key = $2",
    )
    .bind(member_id)
    .bind(key)
    .fetch_optional(state.db.pool())
    .await?;
    let Some(row) = row else { return Ok(Seen::Free) };
    let now = clock::to_db(state.clock.now());
    if row.try_get::<String, _>("created_at")? < clock::to_db(state.clock.now() - KEPT) {
        return Ok(Seen::Free);
    }
    if row.try_get::<String, _>("request_hash")? != hash {
        return Ok(Seen::Mismatch);
    }
    let Some(status) = row.try_get::<Option<i64>, _>("status_code")? else {
        let leased = row
            .try_get::<Option<String>, _>("locked_until")?
            .is_some_and(|until| until > now);
        return Ok(if leased { Seen::Running } else { Seen::Free });
    };
    let status = u16::try_from(status)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::OK);
    let content_type: Option<String> = row.try_get("content_type")?;
    let body: Option<String> = row.try_get("response_body")?;
    let mut response = (status, body.unwrap_or_default()).into_response();
    if let Some(value) = content_type.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response
        .headers_mut()
        .insert(REPLAYED.clone(), HeaderValue::from_static("true"));
    Ok(Seen::Answered(response))
}

/// A request's hold on its key. It lasts as long as the request may (a lease, so a
/// crash frees it too), and is released when dropped unanswered: a request that ended
/// without an answer (a dropped connection, the deadline, a database error) is taken
/// to have done nothing, and a retry may act. If it had in fact committed (its answer
/// lost after the commit), the retry meets the domain's own guards (one open order per
/// buyer and artwork, payment only from `accepted`) and gets a 409, never a duplicate.
pub struct Claim {
    db: crate::db::Db,
    member_id: i64,
    key: String,
    /// The lease's end as stored: it tells this claim from a later one on the same key
    /// (taken after this one's lease ran out), which release and answer leave alone.
    lease: String,
    answered: bool,
}

impl Claim {
    /// Claims a free, expired or abandoned key; `None` if another request holds it.
    pub async fn take(state: &AppState, member_id: i64, key: &str, hash: &str) -> Result<Option<Self>, ApiError> {
        let now = state.clock.now();
        let lease = chrono::Duration::milliseconds(state.config.request_timeout_ms as i64) + LEASE_MARGIN;
        let mut tx = state.db.begin().await?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE member_id = $1 AND key = $2 AND (created_at < $3 \
             OR (status_code IS NULL AND (locked_until IS NULL OR locked_until < $4)))",
        )
        .bind(member_id)
        .bind(key)
        .bind(clock::to_db(now - KEPT))
        .bind(clock::to_db(now))
        .execute(&mut *tx)
        .await?;
        let lease = clock::to_db(now + lease);
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (member_id, key, request_hash, created_at, locked_until) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (member_id, key) DO NOTHING",
        )
        .bind(member_id)
        .bind(key)
        .bind(hash)
        .bind(clock::to_db(now))
        .bind(&lease)
        .execute(&mut *tx)
        .await;
        let claimed = match claimed {
            Ok(result) => result.rows_affected() == 1,
            Err(e) if unique_violation(&e).is_some() => false,
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        Ok(claimed.then(|| Self {
            db: state.db.clone(),
            member_id,
            key: key.to_owned(),
            lease,
            answered: false,
        }))
    }

    /// Keeps the answer for replays.
    pub async fn answer(&mut self, parts: &axum::http::response::Parts, body: &[u8]) -> Result<(), ApiError> {
        let content_type = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let mut tx = self.db.begin().await?;
        let kept = sqlx::query(
            "UPDATE idempotency_keys SET status_code = $1, content_type = $2, response_body = $3, locked_until = NULL \
             WHERE member_id = $4 AND key = $5 AND status_code IS NULL AND locked_until = $6",
        )
        .bind(i64::from(parts.status.as_u16()))
        .bind(content_type)
        .bind(String::from_utf8_lossy(body).into_owned())
        .bind(self.member_id)
        .bind(&self.key)
        .bind(&self.lease)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        if kept == 0 {
            tracing::warn!("a request outlived its idempotency lease; its answer is not kept for replays");
        }
        self.answered = true;
        Ok(())
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.answered {
            return;
        }
        let (db, member_id) = (self.db.clone(), self.member_id);
        let (key, lease) = (std::mem::take(&mut self.key), std::mem::take(&mut self.lease));
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return; // The lease frees it.
        };
        runtime.spawn(async move {
            let released = async {
                let mut tx = db.begin().await?;
                sqlx::query(
                    "DELETE FROM idempotency_keys \
                     WHERE member_id = $1 AND key = $2 AND status_code IS NULL AND locked_until = $3",
                )
                .bind(member_id)
                .bind(&key)
                .bind(&lease)
                .execute(&mut *tx)
                .await?;
                tx.commit().await
            };
            if let Err(e) = released.await {
                tracing::warn!(error = %e, "releasing an unanswered idempotency key failed; its lease will free it");
            }
        });
    }
}

/// How much longer than the request deadline a claim is held.
const LEASE_MARGIN: chrono::Duration = chrono::Duration::seconds(5);

/// Forgets keys older than 24 hours.
pub async fn purge_expired(state: &AppState) -> Result<u64, sqlx::Error> {
    let cutoff = clock::to_db(state.clock.now() - KEPT);
    let mut tx = state.db.begin().await?;
    let removed = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(removed)
}
