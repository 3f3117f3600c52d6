//! Galleries: each collector's curated set of artworks (a wishlist). A collector's
//! gallery is made with them, in [`crate::members::create`]'s transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::artworks::{self, Artwork, ARTWORK_COLUMNS, ARTWORK_FROM, ARTWORK_WIDTH};
use crate::clock;
use crate::db::{timestamp, Bind, Binds, Columns, Db, FromColumns};
use crate::error::{ApiError, ApiResult};
use crate::paging::{Cursor, Direction, Page};
use crate::state::AppState;

/// An artwork in a gallery, with when it was added.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GalleryEntry {
    /// The artwork's id: an artwork is in a gallery at most once.
    id: i64,
    gallery: i64,
    pub artwork: Artwork,
    #[schema(value_type = String, format = DateTime)]
    added_at: DateTime<Utc>,
}

/// A gallery as staff see it in the list of all.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GallerySummary {
    pub id: i64,
    pub curator: i64,
    pub curator_username: String,
    pub artworks_count: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: DateTime<Utc>,
}

fn gallery_not_found() -> ApiError {
    ApiError::not_found("Gallery not found.")
}

/// The gallery `gallery_id` if it is the member's own (`members_gallery`), or 404 when it
/// is someone else's or does not exist.
pub fn own(members_gallery: Option<i64>, gallery_id: i64) -> ApiResult<i64> {
    match members_gallery {
        Some(own) if own == gallery_id => Ok(own),
        _ => Err(gallery_not_found()),
    }
}

/// How many visible artworks a gallery holds.
pub async fn count(db: &Db, gallery_id: i64) -> ApiResult<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM gallery_artworks ga JOIN artworks a ON a.id = ga.artwork_id \
         WHERE ga.gallery_id = $1 AND a.archived_at IS NULL",
    )
    .bind(gallery_id)
    .fetch_one(db.pool())
    .await?
    .try_get(0)?)
}

/// When a gallery's artwork was added, as stored: the column after its
/// [`ARTWORK_COLUMNS`].
struct AddedAt(String);

impl FromColumns for AddedAt {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        row.text(ARTWORK_WIDTH).map(AddedAt)
    }
}

/// A gallery's visible artworks, oldest addition first, with when each was added: one
/// page, or the chunk after `cursor` with the cursor of the next.
pub async fn entries(
    state: &AppState,
    gallery_id: i64,
    page: Option<Page>,
    cursor: Cursor,
) -> ApiResult<(Vec<GalleryEntry>, Option<Cursor>)> {
    let mut binds = Binds::default();
    let gallery = binds.push(Bind::Int(gallery_id));
    let mut condition = format!("ga.gallery_id = {gallery} AND a.archived_at IS NULL");
    if let Some(after) = cursor.condition("ga.added_at", "a.id", Direction::Asc, &mut binds) {
        condition = format!("{condition} AND {after}");
    }
    let window = match page {
        Some(page) => page.window(&mut binds),
        None => cursor.limit(&mut binds),
    };
    let sql = format!(
        "SELECT {ARTWORK_COLUMNS}, ga.added_at {ARTWORK_FROM} JOIN gallery_artworks ga ON ga.artwork_id = a.id \
         WHERE {condition} ORDER BY ga.added_at, a.id {window}"
    );
    let (artworks, added) = artworks::read::<AddedAt>(state, sql, binds).await?;
    let last = added.last().zip(artworks.last());
    let last = last.map(|(AddedAt(at), artwork)| (Bind::Text(at.clone()), artwork.id));
    let next = cursor.after(artworks.len(), last).filter(|_| page.is_none());
    let entries = artworks
        .into_iter()
        .zip(added)
        .map(|(artwork, AddedAt(added_at))| {
            Ok(GalleryEntry {
                id: artwork.id,
                gallery: gallery_id,
                added_at: clock::from_db(&added_at).map_err(|e| ApiError::Internal(e.into()))?,
                artwork,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((entries, next))
}

/// Adds a visible artwork to a gallery; returns whether it was added (false: it was
/// there already). The primary key (gallery, artwork) settles concurrent adds: one row.
pub async fn add(state: &AppState, gallery_id: i64, artwork_id: i64) -> ApiResult<bool> {
    let not_found = || ApiError::not_found("Artwork not found.");
    let mut tx = state.db.begin().await?;
    let visible = sqlx::query("SELECT id FROM artworks WHERE id = $1 AND archived_at IS NULL")
        .bind(artwork_id)
        .fetch_optional(&mut *tx)
        .await?;
    if visible.is_none() {
        return Err(not_found());
    }
    let added = sqlx::query(
        "INSERT INTO gallery_artworks (gallery_id, artwork_id, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT (gallery_id, artwork_id) DO NOTHING",
    )
    .bind(gallery_id)
    .bind(artwork_id)
    .bind(clock::to_db(state.clock.now()))
    .execute(&mut *tx)
    .await
    .map_err(|e| match e {
        // The artwork was erased between the check and the insert.
        sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => not_found(),
        other => other.into(),
    })?
    .rows_affected();
    tx.commit().await?;
    Ok(added == 1)
}

/// Removes an artwork from a gallery; 404 when it is not there.
pub async fn remove(db: &Db, gallery_id: i64, artwork_id: i64) -> ApiResult<()> {
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM gallery_artworks WHERE gallery_id = $1 AND artwork_id = $2")
        .bind(gallery_id)
        .bind(artwork_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    if removed == 0 {
        return Err(ApiError::not_found("Artwork is not in the gallery."));
    }
    Ok(())
}

/// A page of every gallery (or only those holding a visible artwork), with the total.
pub async fn summaries(db: &Db, page: Page, only_with_works: bool) -> ApiResult<(i64, Vec<GallerySummary>)> {
    let holding = if only_with_works {
        "WHERE EXISTS (SELECT 1 FROM gallery_artworks ga JOIN artworks a ON a.id = ga.artwork_id \
         WHERE ga.gallery_id = g.id AND a.archived_at IS NULL)"
    } else {
        ""
    };
    let total: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM galleries g {holding}"))
        .fetch_one(db.pool())
        .await?
        .try_get(0)?;
    let rows = sqlx::query(&format!(
        "SELECT g.id, g.curator_id, g.created_at, m.username, \
         (SELECT COUNT(*) FROM gallery_artworks ga JOIN artworks a ON a.id = ga.artwork_id \
          WHERE ga.gallery_id = g.id AND a.archived_at IS NULL) AS artworks_count \
         FROM galleries g JOIN members m ON m.id = g.curator_id {holding} ORDER BY g.id LIMIT $1 OFFSET $2"
    ))
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(db.pool())
    .await?;
    let galleries = rows
        .iter()
        .map(|row| {
            Ok(GallerySummary {
                id: row.try_get("id")?,
                curator: row.try_get("curator_id")?,
                curator_username: row.try_get("username")?,
                artworks_count: row.try_get("artworks_count")?,
                created_at: timestamp(row, "created_at")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok((total, galleries))
}

/// Whether a gallery holds an artwork.
pub async fn holds(db: &Db, gallery_id: i64, artwork_id: i64) -> ApiResult<bool> {
    let row = sqlx::query("SELECT 1 FROM gallery_artworks WHERE gallery_id = $1 AND artwork_id = $2")
        .bind(gallery_id)
        .bind(artwork_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(row.is_some())
}
