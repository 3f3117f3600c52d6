//! Uploaded images: storing an upload (checked and resized by [`crate::imaging`], kept
//! by [`crate::storage`]), attaching it to an artwork, and removing the ones nobody uses.

pub use crate::storage::{valid_key, Media, MediaRef};

use std::time::Duration;

use axum::body::Bytes;
use object_store::path::Path as StorePath;
use object_store::ObjectStore;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::clock;
use crate::db::Tx;
use crate::error::{ApiError, ApiResult};
use crate::imaging::{self, ProcessError, Processed};
use crate::state::AppState;

/// At most this many files in one upload request.
pub const MAX_FILES: usize = 10;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Upload {
    pub id: i64,
    pub image_url: String,
    pub thumbnail_url: String,
    pub width: i64,
    pub height: i64,
    pub content_type: String,
    pub bytes: i64,
}

/// A failed write to the media store is the environment's doing: 507 when it is full,
/// else 503 (an unreachable bucket); the cause is logged, never sent.
fn store_error(object: &str, error: &object_store::Error) -> ApiError {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ) {
                tracing::error!(object, error = %error, "the media store is full");
                return ApiError::StorageFull(
                    "The image store has run out of space; nothing was stored. Please try again later.".into(),
                );
            }
        }
        source = e.source();
    }
    tracing::error!(object, error = %error, "storing an image failed");
    ApiError::Unavailable("The image store is unavailable; please try again.".into())
}

/// Processes and stores one file, and records it as the member's upload.
pub async fn store_upload(state: &AppState, member_id: i64, bytes: Vec<u8>) -> ApiResult<Upload> {
    let media = &state.media;
    let limits = media.limits;
    let memory = media.reserve_memory(&bytes).await?;
    let (hash, processed) = media
        .run(move || {
            let hash: String = Sha256::digest(&bytes).iter().map(|b| format!("{b:02x}")).collect();
            let processed = imaging::process(&bytes, limits).map(|p| (hash, p));
            drop(memory);
            processed
        })
        .await?
        .map_err(|error| {
            if let ProcessError::Corrupt(cause) | ProcessError::TooLarge(cause) = &error {
                tracing::info!(cause, "an upload was refused");
            }
            ApiError::from(error)
        })?;
    let Processed { image, thumbnail } = processed;
    let key = format!("{hash}.{}", image.extension);
    let thumbnail_key = format!("{hash}_thumb.{}", thumbnail.extension);
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin().await?;
    // Claim the pair first: the row lock keeps the sweep from removing these objects
    // between writing them and recording the upload.
    sqlx::query(
        "INSERT INTO stored_objects (key, thumbnail_key, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (key) DO UPDATE SET created_at = excluded.created_at",
    )
    .bind(&key)
    .bind(&thumbnail_key)
    .bind(&now)
    .execute(&mut *tx)
    .await?;
    // Content-addressed: the same file always lands on the same keys, stored once.
    for (object, rendition) in [(&key, &image), (&thumbnail_key, &thumbnail)] {
        media
            .store
            .put(
                &StorePath::from(object.as_str()),
                Bytes::from(rendition.bytes.clone()).into(),
            )
            .await
            .map_err(|e| store_error(object, &e))?;
    }
    let id: i64 = sqlx::query(
        "INSERT INTO uploads (uploader_id, source_hash, key, thumbnail_key, content_type, width, height, bytes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (uploader_id, key) DO UPDATE SET created_at = excluded.created_at RETURNING id",
    )
    .bind(member_id)
    .bind(&hash)
    .bind(&key)
    .bind(&thumbnail_key)
    .bind(image.content_type)
    .bind(i64::from(image.width))
    .bind(i64::from(image.height))
    .bind(image.bytes.len() as i64)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    tx.commit().await?;
    tracing::info!(upload.id = id, upload.key = %key, "image uploaded");
    Ok(Upload {
        id,
        image_url: media.url(&key),
        thumbnail_url: media.url(&thumbnail_key),
        width: i64::from(image.width),
        height: i64::from(image.height),
        content_type: image.content_type.to_owned(),
        bytes: image.bytes.len() as i64,
    })
}

/// The upload an image URL refers to, if it is one of ours: only its uploader may attach
/// it (403), and a media URL that is no upload at all is refused (400).
pub async fn resolve_attachment(
    tx: &mut Tx,
    media: &Media,
    member_id: i64,
    url: &str,
    now: &str,
) -> ApiResult<Option<i64>> {
    let not_an_upload = || ApiError::field("artworks_images", format!("{url} is not an upload."));
    let (key, certain) = match media.media_ref(url) {
        MediaRef::External => return Ok(None),
        MediaRef::Ours(key) => (key, true),
        MediaRef::Alias(key) => (key, false),
        MediaRef::Malformed => return Err(not_an_upload()),
    };
    // Touching the row both claims it and keeps the sweep, which re-checks the time
    // after waiting for this lock, from removing an upload being attached.
    let mine: Option<i64> =
        sqlx::query_scalar("UPDATE uploads SET created_at = $1 WHERE key = $2 AND uploader_id = $3 RETURNING id")
            .bind(now)
            .bind(&key)
            .bind(member_id)
            .fetch_optional(&mut **tx)
            .await?;
    if mine.is_some() {
        return Ok(mine);
    }
    let someone_elses: Option<i64> = sqlx::query_scalar("SELECT id FROM uploads WHERE key = $1")
        .bind(&key)
        .fetch_optional(&mut **tx)
        .await?;
    match someone_elses {
        Some(_) => Err(ApiError::forbidden("You can only attach images you uploaded.")),
        None if certain => Err(not_an_upload()),
        // Named like our media but no upload: an image elsewhere after all.
        None => Ok(None),
    }
}

/// Removes uploads older than a day that no artwork uses, then every stored object that
/// no upload refers to any more. Returns (uploads removed, objects removed).
pub async fn sweep_uploads(state: &AppState) -> anyhow::Result<(usize, usize)> {
    let cutoff = clock::to_db(state.clock.now() - chrono::Duration::hours(24));
    let mut tx = state.db.begin().await?;
    let removed = sqlx::query(
        "DELETE FROM uploads WHERE created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM artwork_images i WHERE i.upload_id = uploads.id) \
         RETURNING key, thumbnail_key",
    )
    .bind(&cutoff)
    .fetch_all(&mut *tx)
    .await?;
    tx.commit().await?;
    let mut objects = 0;
    let mut keys: Vec<(String, String)> = removed
        .iter()
        .map(|row| Ok((row.try_get("key")?, row.try_get("thumbnail_key")?)))
        .collect::<Result<_, sqlx::Error>>()?;
    keys.sort();
    keys.dedup();
    for (key, thumbnail_key) in keys {
        // Under the pair's lock: an upload of the same file either finished before
        // (and is counted) or starts after (and stores the objects again).
        let mut tx = state.db.begin().await?;
        sqlx::query("UPDATE stored_objects SET created_at = created_at WHERE key = $1")
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        let still_used: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM uploads WHERE key = $1")
            .bind(&key)
            .fetch_one(&mut *tx)
            .await?;
        if still_used > 0 {
            continue;
        }
        for object in [&key, &thumbnail_key] {
            match state.media.store.delete(&StorePath::from(object.as_str())).await {
                Ok(()) => objects += 1,
                Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => tracing::warn!(error = %e, object = %object, "could not remove a stored image"),
            }
        }
        sqlx::query("DELETE FROM stored_objects WHERE key = $1")
            .bind(&key)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    if !removed.is_empty() {
        tracing::info!(uploads = removed.len(), objects, "unused uploads removed");
    }
    Ok((removed.len(), objects))
}

/// Runs [`sweep_uploads`] every `interval` until the process stops.
pub async fn run_upload_sweep(state: AppState, interval: Duration) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        if let Err(e) = sweep_uploads(&state).await {
            tracing::warn!(error = %e, "upload sweep failed; retrying at the next tick");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    #[test]
    fn a_full_store_is_507_and_an_unreachable_one_503() {
        let full = object_store::Error::Generic {
            store: "LocalFileSystem",
            source: Box::new(std::io::Error::from(std::io::ErrorKind::StorageFull)),
        };
        assert_eq!(store_error("k", &full).status(), StatusCode::INSUFFICIENT_STORAGE);
        let refused = object_store::Error::Generic {
            store: "S3",
            source: Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        };
        assert_eq!(store_error("k", &refused).status(), StatusCode::SERVICE_UNAVAILABLE);
    }

    #[test]
    fn only_well_formed_keys_are_looked_up() {
        let hash = "a".repeat(64);
        assert!(valid_key(&format!("{hash}.jpg")));
        assert!(valid_key(&format!("{hash}_thumb.png")));
        for bad in [
            format!("{hash}.gif"),
            format!("../{hash}.jpg"),
            format!("{}.jpg", "A".repeat(64)),
            format!("{}.jpg", "a".repeat(63)),
            "x.jpg".to_owned(),
            String::new(),
        ] {
            assert!(!valid_key(&bad), "{bad}");
        }
    }
}
