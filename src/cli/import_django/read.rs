//! Reading the first version's database: one read-only, repeatable-read transaction, so
//! the rows are one moment's; nothing is ever written there.

use anyhow::Context;
use sqlx::postgres::PgRow;
use sqlx::{Connection, PgConnection, Row};

use super::plan::{Source, SourceArtwork, SourceGalleryArtwork, SourceImage, SourceMember, SourceOrder};

/// A timestamptz as our stored form: UTC, microseconds, `Z`.
fn stored(column: &str) -> String {
    format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS {column}")
}

/// Reads every table the import needs from the first version's database at `url`.
pub async fn read(url: &str) -> anyhow::Result<Source> {
    let mut conn = PgConnection::connect(url)
        .await
        .context("connecting to the first version's database (--from)")?;
    sqlx::query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        .execute(&mut conn)
        .await?;
    let members = fetch(
        &mut conn,
        "members_member",
        &format!(
            "id, password, {}, is_superuser, is_staff, is_active, username, email, first_name, last_name, \
             user_type, bio, website, address, postcode, {}",
            stored("last_login"),
            stored("date_joined")
        ),
        |r| {
            Ok(SourceMember {
                id: r.try_get("id")?,
                password: r.try_get("password")?,
                last_login: r.try_get("last_login")?,
                is_superuser: r.try_get("is_superuser")?,
                is_staff: r.try_get("is_staff")?,
                is_active: r.try_get("is_active")?,
                username: r.try_get("username")?,
                email: r.try_get("email")?,
                first_name: r.try_get("first_name")?,
                last_name: r.try_get("last_name")?,
                user_type: r.try_get("user_type")?,
                bio: r.try_get("bio")?,
                website: r.try_get("website")?,
                address: r.try_get("address")?,
                postcode: r.try_get("postcode")?,
                date_joined: r.try_get("date_joined")?,
            })
        },
    )
    .await?;
    let artworks = fetch(
        &mut conn,
        "artworks_artwork",
        "id, artist_id, title, description, year::bigint AS year, price::text AS price, \
         quantity_for_sale::bigint AS quantity_for_sale, is_for_sale, medium, material, width::text AS width, \
         depth::text AS depth, height::text AS height, weight::text AS weight",
        |r| {
            Ok(SourceArtwork {
                id: r.try_get("id")?,
                artist_id: r.try_get("artist_id")?,
                title: r.try_get("title")?,
                description: r.try_get("description")?,
                year: r.try_get("year")?,
                price: r.try_get("price")?,
                quantity_for_sale: r.try_get("quantity_for_sale")?,
                is_for_sale: r.try_get("is_for_sale")?,
                medium: r.try_get("medium")?,
                material: r.try_get("material")?,
                width: r.try_get("width")?,
                depth: r.try_get("depth")?,
                height: r.try_get("height")?,
                weight: r.try_get("weight")?,
            })
        },
    )
    .await?;
    let images = fetch(
        &mut conn,
        "artwork_images_artworkimage",
        "id, artwork_id, image_url",
        |r| {
            Ok(SourceImage {
                id: r.try_get("id")?,
                artwork_id: r.try_get("artwork_id")?,
                image_url: r.try_get("image_url")?,
            })
        },
    )
    .await?;
    let galleries = fetch(&mut conn, "galleries_gallery", "id, curator_id", |r: &PgRow| {
        Ok((r.try_get::<i64, _>("id")?, r.try_get::<i64, _>("curator_id")?))
    })
    .await?;
    let gallery_artworks = fetch(&mut conn, "galleries_galleryartwork", "gallery_id, artwork_id", |r| {
        Ok(SourceGalleryArtwork {
            gallery_id: r.try_get("gallery_id")?,
            artwork_id: r.try_get("artwork_id")?,
        })
    })
    .await?;
    let orders = fetch(
        &mut conn,
        "orders_order",
        &format!(
            "id, price::text AS price, {}, status, artwork_id, buyer_id, seller_id, viewed_by_buyer, viewed_by_seller",
            stored("created_at")
        ),
        |r| {
            Ok(SourceOrder {
                id: r.try_get("id")?,
                price: r.try_get("price")?,
                created_at: r.try_get("created_at")?,
                status: r.try_get("status")?,
                artwork_id: r.try_get("artwork_id")?,
                buyer_id: r.try_get("buyer_id")?,
                seller_id: r.try_get("seller_id")?,
                viewed_by_buyer: r.try_get("viewed_by_buyer")?,
                viewed_by_seller: r.try_get("viewed_by_seller")?,
            })
        },
    )
    .await?;
    sqlx::query("COMMIT").execute(&mut conn).await?;
    Ok(Source {
        members,
        artworks,
        images,
        galleries,
        gallery_artworks,
        orders,
    })
}

/// Every row of `table`, in id order, read as `columns` and mapped by `map`.
async fn fetch<T>(
    conn: &mut PgConnection,
    table: &str,
    columns: &str,
    map: impl Fn(&PgRow) -> Result<T, sqlx::Error>,
) -> anyhow::Result<Vec<T>> {
    let rows = sqlx::query(&format!("SELECT {columns} FROM {table} ORDER BY id"))
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("reading {table}"))?;
    rows.iter()
        .map(|row| map(row).with_context(|| format!("reading a row of {table}")))
        .collect()
}
