//! Artworks: the catalogue, and its artists' listing, editing and withdrawal. All of
//! the artworks' SQL is here and in the modules below.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{AnyConnection, PgConnection, Row};

use crate::clock;
use crate::db::{Bind, Binds, Columns, FromColumns, Reads, Tx};
use crate::error::{ApiError, ApiResult};
use crate::input::{boolean, http_url, integer, measure, money, parsed, text, Fields, Parser};
use crate::media::{self, Media};
use crate::members::Member;
use crate::money::{Measure, Money};
use crate::orders::{self, rules::OrderStatus};
use crate::pg_reads::PgReaders;
use crate::sqlite_reads;
use crate::state::AppState;

pub mod artists;
pub mod browse;
pub mod images;
pub mod quote;
mod row;
pub mod search;

pub(crate) use row::{write_artwork, ArtworkRow};

pub const MAX_IMAGES: usize = 10;
const MAX_PRICE: Money = Money::from_hundredths(9_999_999);
const MAX_MEASURE: Measure = Measure::from_hundredths(999_999);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Medium {
    Painting,
    Sculpture,
    DigitalArt,
    Photography,
    MixedMedia,
    Printmaking,
    Ceramics,
    Textile,
}

impl Medium {
    pub const ALL: [Medium; 8] = [
        Self::Painting,
        Self::Sculpture,
        Self::DigitalArt,
        Self::Photography,
        Self::MixedMedia,
        Self::Printmaking,
        Self::Ceramics,
        Self::Textile,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Painting => "painting",
            Self::Sculpture => "sculpture",
            Self::DigitalArt => "digital_art",
            Self::Photography => "photography",
            Self::MixedMedia => "mixed_media",
            Self::Printmaking => "printmaking",
            Self::Ceramics => "ceramics",
            Self::Textile => "textile",
        }
    }

    /// The medium as a person reads it.
    pub fn label(self) -> &'static str {
        match self {
            Self::Painting => "Painting",
            Self::Sculpture => "Sculpture",
            Self::DigitalArt => "Digital art",
            Self::Photography => "Photography",
            Self::MixedMedia => "Mixed media",
            Self::Printmaking => "Printmaking",
            Self::Ceramics => "Ceramics",
            Self::Textile => "Textile",
        }
    }

    pub fn parse(input: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == input)
            .ok_or_else(|| format!("\"{input}\" is not a valid choice."))
    }
}

/// The public face of an artist inside an artwork: never the address, and only the
/// outward code of the postcode (enough for a shipping estimate).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ArtistSummary {
    pub id: i64,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub bio: String,
    pub website: String,
    pub postcode: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ImageArtwork {
    pub title: String,
    pub artist: i64,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Image {
    pub id: i64,
    pub image_url: String,
    /// For uploaded images; null for external URLs.
    pub thumbnail_url: Option<String>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub artwork: ImageArtwork,
}

/// The "populated artwork" of the contract.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Artwork {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub year: i64,
    #[schema(value_type = f64)]
    pub price: Money,
    pub quantity_for_sale: i64,
    pub is_for_sale: bool,
    pub medium: Medium,
    pub material: String,
    #[schema(value_type = f64)]
    pub width: Measure,
    #[schema(value_type = f64)]
    pub depth: Measure,
    #[schema(value_type = f64)]
    pub height: Measure,
    #[schema(value_type = f64)]
    pub weight: Measure,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "clock::serialize_stored")]
    pub created_at: DateTime<Utc>,
    #[schema(value_type = String, format = DateTime)]
    #[serde(serialize_with = "clock::serialize_stored")]
    pub updated_at: DateTime<Utc>,
    pub artist: ArtistSummary,
    pub artworks_images: Vec<Image>,
    #[serde(skip)]
    pub listed: bool,
}

/// Columns of an artwork (`a`) and its artist (`m`).
pub const ARTWORK_COLUMNS: &str = "a.id, a.title, a.description, a.year, a.price_pence, a.quantity_for_sale, \
     a.listed, a.is_for_sale, a.medium, a.material, a.width_hundredths, a.depth_hundredths, a.height_hundredths, \
     a.weight_hundredths, a.created_at, a.updated_at, a.artist_id, m.username, m.first_name, m.last_name, m.bio, \
     m.website, m.postcode, a.images";

/// How many columns [`ARTWORK_COLUMNS`] has: a query's own columns follow from here.
pub(crate) const ARTWORK_WIDTH: usize = 24;

/// An artwork joined with its artist.
pub const ARTWORK_FROM: &str = "FROM artworks a JOIN members m ON m.id = a.artist_id";

/// An artwork from a row whose first columns are [`ARTWORK_COLUMNS`], read by either
/// driver, with its images (the row carries them: `artworks.images`, which triggers keep)
/// and their URLs made by `media`.
pub(crate) fn artwork_from_row<R: Columns>(row: &R, media: &Media) -> Result<Artwork, R::Error> {
    ArtworkRow::read(row, media).map(|artwork| artwork.owned())
}

/// What a read of artworks takes from each row after its [`ARTWORK_COLUMNS`]: any
/// reader of columns ([`FromColumns`]) that can cross to the blocking pool.
pub(crate) trait Tail: FromColumns + 'static {}

impl<T: FromColumns + 'static> Tail for T {}

/// On the hot reads' connections ([`Reads`]): the artworks `sql` reads (rows that start
/// with [`ARTWORK_COLUMNS`], each carrying its images) and what `T` reads from each row.
pub(crate) async fn read<T: Tail>(state: &AppState, sql: String, binds: Binds) -> ApiResult<(Vec<Artwork>, Vec<T>)> {
    match state.db.reads() {
        Reads::Sqlite(readers) => {
            let media = state.media.clone();
            Ok(readers
                .run_blocking(move |conn| read_sqlite(conn, &media, &sql, &binds))
                .await?)
        }
        Reads::Postgres(readers) => Ok(read_pooled(readers, &state.media, &sql, &binds).await?),
    }
}

/// [`read_pg`] on one of `readers`, again on another if it had broken while idle
/// ([`PgReaders::read`]).
async fn read_pooled<T: Tail>(
    readers: &PgReaders,
    media: &Media,
    sql: &str,
    binds: &Binds,
) -> Result<(Vec<Artwork>, Vec<T>), sqlx::Error> {
    readers.read(|conn, _| Box::pin(read_pg(conn, media, sql, binds))).await
}

/// [`read`] on one of SQLite's readers.
pub(crate) fn read_sqlite<T: Tail>(
    conn: &rusqlite::Connection,
    media: &Media,
    sql: &str,
    binds: &Binds,
) -> anyhow::Result<(Vec<Artwork>, Vec<T>)> {
    let mut tails = Vec::new();
    let artworks = sqlite_reads::rows(conn, sql, binds, |row| {
        tails.push(T::read(row)?);
        artwork_from_row(row, media)
    })?;
    Ok((artworks, tails))
}

/// [`read`] on a connection of PostgreSQL's typed pool.
pub(crate) async fn read_pg<T: Tail>(
    conn: &mut PgConnection,
    media: &Media,
    sql: &str,
    binds: &Binds,
) -> Result<(Vec<Artwork>, Vec<T>), sqlx::Error> {
    let rows = binds.apply(sqlx::query(sql)).fetch_all(&mut *conn).await?;
    let tails = rows.iter().map(T::read).collect::<Result<Vec<_>, _>>()?;
    let artworks = rows
        .iter()
        .map(|row| artwork_from_row(row, media))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((artworks, tails))
}

/// One visible (not withdrawn) artwork, populated, read in a transaction (what it
/// wrote); reads outside one use [`read`] or [`find`].
pub async fn find_visible(conn: &mut AnyConnection, media: &Media, id: i64) -> Result<Option<Artwork>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {ARTWORK_COLUMNS} {ARTWORK_FROM} WHERE a.id = $1 AND a.archived_at IS NULL"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|row| artwork_from_row(&row, media)).transpose()
}

fn not_found() -> ApiError {
    ApiError::not_found("Artwork not found.")
}

/// One visible artwork as the API's JSON; 404 when there is none.
pub async fn find_json(state: &AppState, id: i64) -> ApiResult<String> {
    let artwork = find(state, id).await?;
    serde_json::to_string(&artwork).map_err(|e| ApiError::Internal(e.into()))
}

/// One visible artwork, populated; 404 when there is none. One query (the row carries
/// the images), on SQLite on the request's thread.
pub async fn find(state: &AppState, id: i64) -> ApiResult<Artwork> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {ARTWORK_COLUMNS} {ARTWORK_FROM} WHERE a.id = $1 AND a.archived_at IS NULL"));
    let binds = Binds::from([Bind::Int(id)]);
    let (found, _) = match state.db.reads() {
        Reads::Sqlite(readers) => {
            readers
                .run(|conn| read_sqlite::<()>(conn, &state.media, &SQL, &binds))
                .await?
        }
        Reads::Postgres(readers) => read_pooled::<()>(readers, &state.media, &SQL, &binds).await?,
    };
    found.into_iter().next().ok_or_else(not_found)
}

/// An image URL the client gives: http(s), at most 500 characters. The server never
/// fetches it.
pub fn image_url() -> Parser<String> {
    parsed(parse_image_url)
}

pub fn parse_image_url(input: &str) -> Result<String, String> {
    http_url(input, 500, "Enter a valid http(s) URL.")
}

/// `artworks_images`: up to ten URL strings, or image objects sent back as received.
fn image_list() -> Parser<Vec<String>> {
    Box::new(|value| {
        let Value::Array(items) = value else {
            return Err("Expected a list of image URLs.".into());
        };
        if items.len() > MAX_IMAGES {
            return Err(format!("An artwork has at most {MAX_IMAGES} images."));
        }
        items
            .iter()
            .map(|item| {
                let url = match item {
                    Value::String(s) => s.as_str(),
                    Value::Object(o) => o
                        .get("image_url")
                        .and_then(Value::as_str)
                        .ok_or("Each image needs an image_url.")?,
                    _ => return Err("Expected a list of image URLs.".to_owned()),
                };
                parse_image_url(url.trim())
            })
            .collect()
    })
}

/// An artwork as an artist sends it; every field is optional on update.
#[derive(utoipa::ToSchema)]
pub struct ArtworkInput {
    #[schema(required = true, value_type = String)]
    pub title: Option<String>,
    #[schema(required = true, value_type = String)]
    pub description: Option<String>,
    #[schema(required = true, value_type = i64)]
    pub year: Option<i64>,
    #[schema(required = true, value_type = f64)]
    pub price: Option<Money>,
    #[schema(required = true, value_type = i64)]
    pub quantity_for_sale: Option<i64>,
    pub is_for_sale: Option<bool>,
    #[schema(required = true, value_type = Medium)]
    pub medium: Option<Medium>,
    #[schema(required = true, value_type = String)]
    pub material: Option<String>,
    #[schema(required = true, value_type = f64)]
    pub width: Option<Measure>,
    #[schema(required = true, value_type = f64)]
    pub depth: Option<Measure>,
    #[schema(required = true, value_type = f64)]
    pub height: Option<Measure>,
    #[schema(required = true, value_type = f64)]
    pub weight: Option<Measure>,
    /// Up to ten http(s) image URLs (or uploads' `image_url`).
    pub artworks_images: Option<Vec<String>>,
}

impl ArtworkInput {
    /// Reads the body; `id`, `artist`, timestamps and unknown keys are ignored.
    pub fn read(body: &serde_json::Map<String, Value>, now: DateTime<Utc>, partial: bool) -> ApiResult<Self> {
        let mut f = Fields::new(body);
        fn field<T>(f: &mut Fields<'_>, partial: bool, key: &str, parser: Parser<T>) -> Option<T> {
            if partial {
                f.optional(key, parser)
            } else {
                f.required(key, parser)
            }
        }
        let input = Self {
            title: field(&mut f, partial, "title", text(1..=100)),
            description: field(&mut f, partial, "description", text(1..=300)),
            year: field(&mut f, partial, "year", integer(1000..=i64::from(now.year()) + 1)),
            price: field(&mut f, partial, "price", money(MAX_PRICE)),
            quantity_for_sale: field(&mut f, partial, "quantity_for_sale", integer(0..=100_000)),
            is_for_sale: f.optional("is_for_sale", boolean()),
            medium: field(&mut f, partial, "medium", parsed(Medium::parse)),
            material: field(&mut f, partial, "material", text(1..=50)),
            width: field(&mut f, partial, "width", measure(MAX_MEASURE)),
            depth: field(&mut f, partial, "depth", measure(MAX_MEASURE)),
            height: field(&mut f, partial, "height", measure(MAX_MEASURE)),
            weight: field(&mut f, partial, "weight", measure(MAX_MEASURE)),
            artworks_images: f.optional("artworks_images", image_list()),
        };
        f.finish()?;
        Ok(input)
    }
}

/// Replaces an artwork's images with `urls`, in order. A URL of one of our uploads is
/// attached to it, which only its uploader may do.
async fn replace_images(
    tx: &mut Tx,
    media: &Media,
    member: &Member,
    artwork_id: i64,
    urls: &[String],
    now: &str,
) -> ApiResult<()> {
    sqlx::query("DELETE FROM artwork_images WHERE artwork_id = $1")
        .bind(artwork_id)
        .execute(&mut **tx)
        .await?;
    for (position, url) in urls.iter().enumerate() {
        let upload = media::resolve_attachment(tx, media, member.id, url, now).await?;
        sqlx::query(
            "INSERT INTO artwork_images (artwork_id, image_url, position, created_at, upload_id) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(artwork_id)
        .bind(url)
        .bind(position as i64)
        .bind(now)
        .bind(upload)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Lists a new artwork for an artist; every field is required but `is_for_sale` and
/// the images.
pub async fn create(state: &AppState, artist: &Member, input: ArtworkInput) -> ApiResult<Artwork> {
    let (Some(title), Some(description), Some(year), Some(price), Some(quantity), Some(medium), Some(material)) = (
        input.title,
        input.description,
        input.year,
        input.price,
        input.quantity_for_sale,
        input.medium,
        input.material,
    ) else {
        return Err(ApiError::BadRequest("Missing fields.".into()));
    };
    let (Some(width), Some(depth), Some(height), Some(weight)) = (input.width, input.depth, input.height, input.weight)
    else {
        return Err(ApiError::BadRequest("Missing fields.".into()));
    };
    let listed = input.is_for_sale.unwrap_or(true);
    let stamp = clock::to_db(state.clock.now());
    let mut tx = state.db.begin().await?;
    let id: i64 = sqlx::query(
        "INSERT INTO artworks (artist_id, title, description, year, price_pence, quantity_for_sale, listed, is_for_sale, \
         medium, material, width_hundredths, depth_hundredths, height_hundredths, weight_hundredths, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
    )
    .bind(artist.id)
    .bind(&title)
    .bind(&description)
    .bind(year)
    .bind(price.hundredths())
    .bind(quantity)
    .bind(listed)
    .bind(listed && quantity > 0)
    .bind(medium.as_str())
    .bind(&material)
    .bind(width.hundredths())
    .bind(depth.hundredths())
    .bind(height.hundredths())
    .bind(weight.hundredths())
    .bind(&stamp)
    .fetch_one(&mut *tx)
    .await?
    .try_get("id")?;
    replace_images(
        &mut tx,
        &state.media,
        artist,
        id,
        &input.artworks_images.unwrap_or_default(),
        &stamp,
    )
    .await?;
    let artwork = find_visible(&mut tx, &state.media, id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    state.catalogue.invalidate();
    tracing::info!(artwork.id = id, artist.id = artist.id, "artwork created");
    Ok(artwork)
}

/// Locks a visible artwork for its artist to change, then reads it: 404 if absent, 403
/// for anyone else. Locking before reading (as payment does) means nothing read here can
/// change before this transaction writes: an edit cannot undo a sale's stock change.
pub async fn lock_own_artwork(tx: &mut Tx, media: &Media, member: &Member, id: i64, now: &str) -> ApiResult<Artwork> {
    let locked = sqlx::query("UPDATE artworks SET updated_at = $1 WHERE id = $2 AND archived_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(not_found());
    }
    let artwork = find_visible(tx, media, id).await?.ok_or_else(not_found)?;
    if artwork.artist.id != member.id {
        return Err(ApiError::forbidden("You can only change your own artworks."));
    }
    Ok(artwork)
}

/// Updates some or all of an artwork's fields (PUT and PATCH alike); a non-empty
/// `artworks_images` list replaces the images.
pub async fn update(state: &AppState, member: &Member, id: i64, form: &Map<String, Value>) -> ApiResult<Artwork> {
    let now = state.clock.now();
    let stamp = clock::to_db(now);
    let mut tx = state.db.begin().await?;
    let current = lock_own_artwork(&mut tx, &state.media, member, id, &stamp).await?;
    let input = ArtworkInput::read(form, now, true)?;
    let quantity = input.quantity_for_sale.unwrap_or(current.quantity_for_sale);
    let listed = input.is_for_sale.unwrap_or(current.listed);
    sqlx::query(
        "UPDATE artworks SET title = $1, description = $2, year = $3, price_pence = $4, quantity_for_sale = $5, \
         listed = $6, is_for_sale = $7, medium = $8, material = $9, width_hundredths = $10, depth_hundredths = $11, \
         height_hundredths = $12, weight_hundredths = $13, updated_at = $14 WHERE id = $15",
    )
    .bind(input.title.unwrap_or(current.title))
    .bind(input.description.unwrap_or(current.description))
    .bind(input.year.unwrap_or(current.year))
    .bind(input.price.unwrap_or(current.price).hundredths())
    .bind(quantity)
    .bind(listed)
    .bind(listed && quantity > 0)
    .bind(input.medium.unwrap_or(current.medium).as_str())
    .bind(input.material.unwrap_or(current.material))
    .bind(input.width.unwrap_or(current.width).hundredths())
    .bind(input.depth.unwrap_or(current.depth).hundredths())
    .bind(input.height.unwrap_or(current.height).hundredths())
    .bind(input.weight.unwrap_or(current.weight).hundredths())
    .bind(&stamp)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if let Some(images) = input.artworks_images.filter(|list| !list.is_empty()) {
        replace_images(&mut tx, &state.media, member, id, &images, &stamp).await?;
    }
    let artwork = find_visible(&mut tx, &state.media, id).await?.ok_or_else(not_found)?;
    tx.commit().await?;
    state.catalogue.invalidate();
    Ok(artwork)
}

/// Withdraws an artwork. Without orders it is erased; with orders it is archived
/// (hidden, kept for its orders), its open orders cancelled and their buyers notified.
/// Refused while an order is paid and not yet delivered.
pub async fn withdraw(state: &AppState, member: &Member, id: i64) -> ApiResult<()> {
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin_notifying().await?;
    lock_own_artwork(&mut tx, &state.media, member, id, &now).await?;
    sqlx::query("UPDATE artworks SET archived_at = $1, listed = FALSE, is_for_sale = FALSE, updated_at = $1 WHERE id = $2 AND archived_at IS NULL")
        .bind(&now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let counts = sqlx::query(
        "SELECT COUNT(*) AS total, \
         COALESCE(SUM(CASE WHEN status IN ($2, $3) THEN 1 ELSE 0 END), 0) AS in_transit \
         FROM orders WHERE artwork_id = $1",
    )
    .bind(id)
    .bind(OrderStatus::ReadyToShip.as_str())
    .bind(OrderStatus::Shipped.as_str())
    .fetch_one(&mut *tx)
    .await?;
    let total: i64 = counts.try_get("total")?;
    let in_transit: i64 = counts.try_get("in_transit")?;
    if in_transit > 0 {
        return Err(ApiError::conflict(
            "This artwork has an order being delivered; it can be withdrawn once that order is completed.",
        ));
    }
    if total == 0 {
        sqlx::query("DELETE FROM artworks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
    } else {
        sqlx::query("DELETE FROM gallery_artworks WHERE artwork_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        orders::cancel_open_orders(&mut tx, id, "artwork withdrawn", &now).await?;
    }
    tx.commit().await?;
    // Streams on this instance hear of it at once (others at their next look).
    state.live.poke();
    state.catalogue.invalidate();
    tracing::info!(artwork.id = id, archived = total > 0, "artwork withdrawn");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_width_counts_the_artwork_columns() {
        assert_eq!(ARTWORK_COLUMNS.split(',').count(), ARTWORK_WIDTH);
    }
}
