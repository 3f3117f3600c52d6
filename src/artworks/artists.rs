//! Artist pages: who an artist is and what they have on sale (SPEC Part D.2).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::{read, Artwork, ARTWORK_COLUMNS, ARTWORK_FROM};
use crate::db::{Bind, Binds};
use crate::error::{ApiError, ApiResult};
use crate::members::{self, UserType};
use crate::orders::rules::OrderStatus;
use crate::state::AppState;

/// An artist's public page.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ArtistPage {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub bio: String,
    pub website: String,
    /// The outward code only.
    pub postcode: String,
    #[schema(value_type = String, format = DateTime)]
    pub member_since: DateTime<Utc>,
    pub artworks_count: i64,
    pub for_sale_count: i64,
    pub sold_count: i64,
    pub artworks: Vec<Artwork>,
}

/// An artist's public page: profile, counts, and up to 50 artworks on sale, newest first.
pub async fn page(state: &AppState, id: i64) -> ApiResult<ArtistPage> {
    let artist = members::find(&state.db, id)
        .await?
        .filter(|m| m.user_type == UserType::Artist)
        .ok_or_else(|| ApiError::not_found("Artist not found."))?;
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
    .fetch_one(state.db.pool())
    .await?;
    let sql = format!(
        "SELECT {ARTWORK_COLUMNS} {ARTWORK_FROM} WHERE a.artist_id = $1 AND a.archived_at IS NULL AND a.is_for_sale = TRUE \
         ORDER BY a.created_at DESC, a.id DESC LIMIT 50"
    );
    let (artworks, _) = read::<()>(state, sql, Binds::from([Bind::Int(id)])).await?;
    Ok(ArtistPage {
        id: artist.id,
        postcode: artist.outward_postcode().to_owned(),
        username: artist.username,
        first_name: artist.first_name,
        last_name: artist.last_name,
        bio: artist.bio,
        website: artist.website,
        member_since: artist.created_at,
        artworks_count: counts.try_get("artworks_count")?,
        for_sale_count: counts.try_get("for_sale_count")?,
        sold_count: counts.try_get("sold_count")?,
        artworks,
    })
}

/// An artist as the front page introduces them.
pub struct Featured {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub bio: String,
    pub for_sale: i64,
}

/// Up to `limit` artists with works on sale, those who listed most recently first.
pub async fn featured(state: &AppState, limit: i64) -> ApiResult<Vec<Featured>> {
    let rows = sqlx::query(
        "SELECT m.id, m.first_name, m.last_name, m.bio, COUNT(*) AS for_sale, MAX(a.created_at) AS latest \
         FROM members m JOIN artworks a ON a.artist_id = m.id \
         WHERE a.archived_at IS NULL AND a.is_for_sale = TRUE \
         GROUP BY m.id, m.first_name, m.last_name, m.bio ORDER BY latest DESC, m.id LIMIT $1",
    )
    .bind(limit)
    .fetch_all(state.db.pool())
    .await?;
    let featured = rows
        .iter()
        .map(|row| {
            Ok(Featured {
                id: row.try_get("id")?,
                first_name: row.try_get("first_name")?,
                last_name: row.try_get("last_name")?,
                bio: row.try_get("bio")?,
                for_sale: row.try_get("for_sale")?,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(featured)
}
