//! Artist pages: who an artist is and what they have on sale (SPEC Part D.2).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};
use sqlx::Row;

use crate::artworks::{populate, ARTWORK_COLUMNS, ARTWORK_FROM};
use crate::auth::MaybeMember;
use crate::error::{ApiError, ApiResult};
use crate::input::Id;
use crate::members::{self, UserType};
use crate::orders::rules::OrderStatus;
use crate::state::AppState;

/// An artist's public page: profile, counts, and up to 50 artworks on sale, newest first.
#[utoipa::path(get, path = "/api/artists/{id}/", tag = "artists", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "The artist's page", body = crate::openapi::ArtistPage), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn get_artist(
    State(state): State<AppState>,
    MaybeMember(_): MaybeMember,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    let artist = members::find(state.db.pool(), id)
        .await?
        .filter(|m| m.user_type == UserType::Artist)
        .ok_or_else(|| ApiError::not_found("Artist not found."))?;
    let mut conn = state.db.pool().acquire().await?;
    let counts = sqlx::query(
        "SELECT \
           (SELECT COUNT(*) FROM artworks WHERE artist_id = $1 AND archived_at IS NULL) AS artworks_count, \
           (SELECT COUNT(*) FROM artworks WHERE artist_id = $1 AND archived_at IS NULL AND is_for_sale = TRUE) AS for_sale_count, \
           (SELECT COUNT(*) FROM orders WHERE seller_id = $1 AND status IN ($2, $3, $4)) AS sold_count",
    )
    .bind(id)
    .bind(OrderStatus::ReadyToShip.as_str())
    .bind(OrderStatus::Shipped.as_str())
    .bind(OrderStatus::Completed.as_str())
    .fetch_one(&mut *conn)
    .await?;
    let rows = sqlx::query(&format!(
        "SELECT {ARTWORK_COLUMNS} {ARTWORK_FROM} WHERE a.artist_id = $1 AND a.archived_at IS NULL AND a.is_for_sale = TRUE \
         ORDER BY a.created_at DESC, a.id DESC LIMIT 50"
    ))
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let artworks = populate(&mut conn, &state.media, &rows).await?;
    Ok(Json(json!({
        "id": artist.id,
        "username": artist.username,
        "first_name": artist.first_name,
        "last_name": artist.last_name,
        "bio": artist.bio,
        "website": artist.website,
        "postcode": artist.outward_postcode(),
        "member_since": artist.created_at,
        "artworks_count": counts.try_get::<i64, _>("artworks_count")?,
        "for_sale_count": counts.try_get::<i64, _>("for_sale_count")?,
        "sold_count": counts.try_get::<i64, _>("sold_count")?,
        "artworks": artworks,
    })))
}
