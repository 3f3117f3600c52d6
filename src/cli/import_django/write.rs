//! Writing a plan into this server's database: one transaction, so a failure writes
//! nothing; only into a database with no members, artworks or orders.

use anyhow::{bail, Context};
use sqlx::Row;

use super::plan::Plan;
use super::Progress;
use crate::db::{Backend, Db};
use crate::members::username_skeleton;

/// How many rows each table of ours received.
#[derive(Debug, Default)]
pub struct Written(pub Vec<(&'static str, usize)>);

/// Refuses a database that already holds members, artworks or orders, saying which.
pub async fn check_empty(db: &Db) -> anyhow::Result<()> {
    for table in ["members", "artworks", "orders"] {
        let count: i64 = sqlx::query(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(db.pool())
            .await?
            .try_get(0)?;
        if count > 0 {
            bail!(
                "this server's database already holds {count} {table}: the import writes only into an empty \
                 database (a new DATABASE_URL), so that every id stays the first version's; nothing was written"
            );
        }
    }
    Ok(())
}

/// Writes `plan`, keeping every id; then moves PostgreSQL's id sequences past them
/// (SQLite's follow on by themselves).
pub async fn write(db: &Db, plan: &Plan, now: &str, progress: &Progress) -> anyhow::Result<Written> {
    check_empty(db).await?;
    let mut tx = db.begin().await?;
    // Again inside the transaction: an instance that registered someone meanwhile wins.
    let count: i64 = sqlx::query("SELECT COUNT(*) FROM members")
        .fetch_one(&mut *tx)
        .await?
        .try_get(0)?;
    if count > 0 {
        bail!("a member registered while the import ran; nothing was written");
    }
    let mut written = Written::default();
    let bar = progress.table("writing", "members", plan.members.len());
    for m in &plan.members {
        bar.step();
        sqlx::query(
            "INSERT INTO members (id, email, email_lower, username, username_lower, username_skeleton, first_name, \
             last_name, user_type, address, postcode, bio, website, password_hash, is_staff, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)",
        )
        .bind(m.id)
        .bind(&m.email)
        .bind(m.email.to_lowercase())
        .bind(&m.username)
        .bind(m.username.to_lowercase())
        .bind(username_skeleton(&m.username))
        .bind(&m.first_name)
        .bind(&m.last_name)
        .bind(m.user_type)
        .bind(&m.address)
        .bind(&m.postcode)
        .bind(&m.bio)
        .bind(&m.website)
        .bind(&m.password_hash)
        .bind(m.is_staff)
        .bind(&m.created_at)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing member {}", m.id))?;
    }
    bar.finish(plan.members.len());
    written.0.push(("members", plan.members.len()));
    let bar = progress.table("writing", "galleries", plan.galleries.len());
    for &(id, curator) in &plan.galleries {
        bar.step();
        sqlx::query("INSERT INTO galleries (id, curator_id, created_at) VALUES ($1, $2, $3)")
            .bind(id)
            .bind(curator)
            .bind(now)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("writing gallery {id}"))?;
    }
    bar.finish(plan.galleries.len());
    written.0.push(("galleries", plan.galleries.len()));
    let bar = progress.table("writing", "artworks", plan.artworks.len());
    for a in &plan.artworks {
        bar.step();
        sqlx::query(
            "INSERT INTO artworks (id, artist_id, title, description, year, price_pence, quantity_for_sale, listed, \
             is_for_sale, medium, material, width_hundredths, depth_hundredths, height_hundredths, weight_hundredths, \
             created_at, updated_at, archived_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17)",
        )
        .bind(a.id)
        .bind(a.artist_id)
        .bind(&a.title)
        .bind(&a.description)
        .bind(a.year)
        .bind(a.price_pence)
        .bind(a.quantity_for_sale)
        .bind(a.listed)
        .bind(a.is_for_sale)
        .bind(a.medium.as_str())
        .bind(&a.material)
        .bind(a.measures[0])
        .bind(a.measures[1])
        .bind(a.measures[2])
        .bind(a.measures[3])
        .bind(&a.created_at)
        .bind(a.archived.then_some(now))
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing artwork {}", a.id))?;
    }
    bar.finish(plan.artworks.len());
    written.0.push(("artworks", plan.artworks.len()));
    let bar = progress.table("writing", "artwork images", plan.images.len());
    for i in &plan.images {
        bar.step();
        sqlx::query(
            "INSERT INTO artwork_images (id, artwork_id, image_url, position, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(i.id)
        .bind(i.artwork_id)
        .bind(&i.image_url)
        .bind(i.position)
        .bind(now)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing image {}", i.id))?;
    }
    bar.finish(plan.images.len());
    written.0.push(("artwork images", plan.images.len()));
    let bar = progress.table("writing", "gallery artworks", plan.gallery_artworks.len());
    for &(gallery, artwork) in &plan.gallery_artworks {
        bar.step();
        sqlx::query("INSERT INTO gallery_artworks (gallery_id, artwork_id, added_at) VALUES ($1, $2, $3)")
            .bind(gallery)
            .bind(artwork)
            .bind(now)
            .execute(&mut *tx)
            .await
            .with_context(|| format!("writing artwork {artwork} into gallery {gallery}"))?;
    }
    bar.finish(plan.gallery_artworks.len());
    written.0.push(("gallery artworks", plan.gallery_artworks.len()));
    let bar = progress.table("writing", "orders", plan.orders.len());
    for o in &plan.orders {
        bar.step();
        let (address, postcode) = o.delivery.clone().unzip();
        sqlx::query(
            "INSERT INTO orders (id, buyer_id, seller_id, artwork_id, price_pence, status, viewed_by_buyer, \
             viewed_by_seller, shipped_at, created_at, updated_at, delivery_address, delivery_postcode, closed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12, $13)",
        )
        .bind(o.id)
        .bind(o.buyer_id)
        .bind(o.seller_id)
        .bind(o.artwork_id)
        .bind(o.price_pence)
        .bind(o.status.as_str())
        .bind(o.viewed_by_buyer)
        .bind(o.viewed_by_seller)
        .bind(o.shipped_at.as_deref())
        .bind(&o.created_at)
        .bind(address)
        .bind(postcode)
        .bind(o.closed_at.as_deref())
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing order {}", o.id))?;
        sqlx::query(
            "INSERT INTO order_events (order_id, from_status, to_status, actor, actor_id, reason, at) \
             VALUES ($1, NULL, $2, 'system', NULL, $3, $4)",
        )
        .bind(o.id)
        .bind(o.status.as_str())
        .bind(&o.reason)
        .bind(&o.created_at)
        .execute(&mut *tx)
        .await
        .with_context(|| format!("writing order {}'s timeline", o.id))?;
    }
    bar.finish(plan.orders.len());
    written.0.push(("orders", plan.orders.len()));
    written.0.push(("order events", plan.orders.len()));
    if db.backend() == Backend::Postgres {
        for table in [
            "members",
            "galleries",
            "artworks",
            "artwork_images",
            "orders",
            "order_events",
        ] {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
            ))
            .execute(&mut *tx)
            .await
            .with_context(|| format!("moving {table}'s ids on"))?;
        }
    }
    tx.commit().await.context("committing the import")?;
    Ok(written)
}
