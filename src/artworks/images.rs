//! An artwork's images: added (a URL, or one of the artist's uploads) and removed by
//! the artwork's artist.

use serde_json::{Map, Value};
use sqlx::Row;

use super::{find_visible, image_url, lock_own_artwork, Image, MAX_IMAGES};
use crate::clock;
use crate::error::{ApiError, ApiResult};
use crate::input::Fields;
use crate::media;
use crate::members::Member;
use crate::state::AppState;

/// Adds an image URL to the caller's own artwork (at most ten images).
pub async fn add(state: &AppState, member: &Member, id: i64, form: &Map<String, Value>) -> ApiResult<Image> {
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin().await?;
    // Locked: concurrent additions count one at a time.
    lock_own_artwork(&mut tx, &state.media, member, id, &now).await?;
    let ImageUrl { image_url: url } = ImageUrl::read(form)?;
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
    let artwork = find_visible(&mut tx, &state.media, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Artwork not found."))?;
    tx.commit().await?;
    state.catalogue.invalidate();
    artwork
        .artworks_images
        .into_iter()
        .find(|image| image.id == image_id)
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("image {image_id} vanished")))
}

/// Removes an image from the caller's own artwork.
pub async fn remove(state: &AppState, member: &Member, id: i64) -> ApiResult<()> {
    let mut tx = state.db.begin().await?;
    let row = sqlx::query(
        "SELECT a.id AS artwork_id, a.artist_id FROM artwork_images i JOIN artworks a ON a.id = i.artwork_id \
         WHERE i.id = $1 AND a.archived_at IS NULL",
    )
    .bind(id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or_else(|| ApiError::not_found("Image not found."))?;
    let (artwork_id, artist_id): (i64, i64) = (row.try_get("artwork_id")?, row.try_get("artist_id")?);
    if artist_id != member.id {
        return Err(ApiError::forbidden(
            "You can only remove images from your own artworks.",
        ));
    }
    // The artwork first, as every change to its images takes it: changes to one
    // artwork's images take turns, in one order (no deadlock with an edit).
    let locked = sqlx::query("UPDATE artworks SET updated_at = $1 WHERE id = $2 AND archived_at IS NULL")
        .bind(crate::clock::to_db(state.clock.now()))
        .bind(artwork_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(ApiError::not_found("Image not found."));
    }
    sqlx::query("DELETE FROM artwork_images WHERE id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    state.catalogue.invalidate();
    Ok(())
}

/// An image for an artwork: an http(s) URL, or the URL of one of the artist's uploads.
#[derive(utoipa::ToSchema)]
pub struct ImageUrl {
    image_url: String,
}

impl ImageUrl {
    fn read(form: &Map<String, Value>) -> ApiResult<Self> {
        let mut f = Fields::new(form);
        match f.required("image_url", image_url()) {
            Some(image_url) => Ok(Self { image_url }),
            None => Err(ApiError::invalid(f.errors)),
        }
    }
}
