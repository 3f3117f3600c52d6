//! Artwork images given as URLs: listed by anyone, added and removed by the artwork's artist.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use sqlx::Row;

use crate::artworks::{self, image_url, Image, MAX_IMAGES};
use crate::auth::{CurrentMember, MaybeMember};
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::input::{Fields, Id, JsonBody};
use crate::media;
use crate::state::AppState;

/// The images of an artwork, in order.
#[utoipa::path(get, path = "/api/images/artwork/{id}/images/", tag = "images", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "The artwork's images", body = Vec<Image>), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn list_images(
    State(state): State<AppState>,
    MaybeMember(_): MaybeMember,
    Id(id): Id,
) -> ApiResult<Json<Vec<Image>>> {
    let mut conn = state.db.pool().acquire().await?;
    let artwork = artworks::find_visible(&mut conn, &state.media, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Artwork not found."))?;
    Ok(Json(artwork.artworks_images))
}

/// Adds an image URL to the caller's own artwork (at most ten images).
#[utoipa::path(post, path = "/api/images/artwork/{id}/images/", tag = "images", params(("id" = i64, Path, description = "Id")), request_body(content = crate::openapi::ImageUrl, content_type = "application/json"), responses((status = 201, description = "Added", body = Image), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn add_image(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Image>)> {
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin().await?;
    // Locked: concurrent additions count one at a time.
    artworks::lock_own_artwork(&mut tx, &state.media, &member, id, &now).await?;
    let mut f = Fields::new(&body);
    let Some(url) = f.required("image_url", image_url()) else {
        return Err(ApiError::invalid(f.errors));
    };
    let row = sqlx::query(
        "SELECT COUNT(*) AS n, COALESCE(MAX(position), -1) AS last FROM artwork_images WHERE artwork_id = $1",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    let (count, last): (i64, i64) = (row.try_get("n")?, row.try_get("last")?);
    if count >= MAX_IMAGES as i64 {
        return Err(ApiError::field(
            "image_url",
            format!("An artwork has at most {MAX_IMAGES} images."),
        ));
    }
    let upload = media::resolve_attachment(&mut tx, &state.media, member.id, &url, &now).await?;
    let image_id: i64 = sqlx::query(
        "INSERT INTO artwork_images (artwork_id, image_url, position, created_at, upload_id) \
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(id)
    .bind(&url)
    .bind(last + 1)
    .bind(&now)
    .bind(upload)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    let artwork = artworks::find_visible(&mut tx, &state.media, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Artwork not found."))?;
    tx.commit().await?;
    state.catalogue.invalidate();
    let image = artwork
        .artworks_images
        .into_iter()
        .find(|image| image.id == image_id)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("image {image_id} vanished")))?;
    Ok((StatusCode::CREATED, Json(image)))
}

/// Removes an image from the caller's own artwork.
#[utoipa::path(delete, path = "/api/images/image/{id}/", tag = "images", params(("id" = i64, Path, description = "Id")), responses((status = 204, description = "Removed"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn delete_image(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    let mut tx = state.db.begin().await?;
    let row = sqlx::query(
        "SELECT a.artist_id FROM artwork_images i JOIN artworks a ON a.id = i.artwork_id \
         WHERE i.id = $1 AND a.archived_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::not_found("Image not found."))?;
    let artist_id: i64 = row.try_get("artist_id")?;
    if artist_id != member.id {
        return Err(ApiError::forbidden(
            "You can only remove images from your own artworks.",
        ));
    }
    sqlx::query("DELETE FROM artwork_images WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.catalogue.invalidate();
    Ok(StatusCode::NO_CONTENT)
}
