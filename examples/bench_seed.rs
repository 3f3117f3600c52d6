//! Fills a migrated database with the benchmark catalogue: 200 artists, 10,000 artworks
//! (BENCH_ARTWORKS to change) with 3 images each, 1,000 collectors with galleries, and
//! 3,000 orders in every state. Every member's password is `bench-lantern-harbour-42`.
//!
//! Usage: DATABASE_URL=… [BENCH_ARTWORKS=50000] cargo run --release --example bench_seed

use anyhow::Context;
use openstudio::clock;
use openstudio::db::{Bind, Binds, Db, Tx};
use openstudio::money::{Measure, Money};
use openstudio::shipping::{quote, Parcel};

const ARTISTS: usize = 200;
const COLLECTORS: usize = 1000;
const ORDERS: usize = 3000;
const WORDS: &[&str] = &[
    "harbour", "dawn", "forest", "river", "portrait", "city", "garden", "storm", "quiet", "blue", "red", "golden",
    "winter", "summer", "night", "morning", "sea", "mountain", "still", "life", "study", "figure", "light", "shadow",
];
const MEDIA: &[&str] = &[
    "painting",
    "sculpture",
    "digital_art",
    "photography",
    "mixed_media",
    "printmaking",
    "ceramics",
    "textile",
];
const POSTCODES: &[&str] = &[
    "SW1A 1AA", "N1 9GU", "EH1 1YZ", "M1 1AE", "B33 8TH", "CF10 1AA", "BS1 4DJ", "G1 1XQ",
];
const STATUSES: &[&str] = &[
    "pending",
    "accepted",
    "ready to ship",
    "shipped",
    "completed",
    "cancelled",
];

/// A small deterministic generator, so every run seeds the same catalogue.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() as usize) % items.len()]
    }
}

/// Inserts `rows` (each a list of values) into `table (columns)` in batches.
async fn insert_rows(tx: &mut Tx, table: &str, columns: &str, rows: Vec<Vec<Bind>>) -> anyhow::Result<()> {
    for batch in rows.chunks(200) {
        let mut binds = Binds::default();
        let values: Vec<String> = batch
            .iter()
            .map(|row| {
                format!(
                    "({})",
                    row.iter().map(|v| binds.push(v.clone())).collect::<Vec<_>>().join(", ")
                )
            })
            .collect();
        let sql = format!("INSERT INTO {table} ({columns}) VALUES {}", values.join(", "));
        binds
            .apply(sqlx::query(&sql))
            .execute(&mut **tx)
            .await
            .with_context(|| format!("inserting into {table}"))?;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL").context("DATABASE_URL is required")?;
    let artwork_count: usize = match std::env::var("BENCH_ARTWORKS") {
        Ok(n) => n.parse().context("BENCH_ARTWORKS is a number of artworks")?,
        Err(_) => 10_000,
    };
    let db = Db::connect(&url, 2).await?;
    db.migrate().await?;
    let hash = openstudio::passwords::hash_password("bench-lantern-harbour-42".into())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = chrono::Utc::now();
    let mut rng = Lcg(42);
    let mut tx = db.begin().await?;
    let text = |s: &str| Bind::Text(s.to_owned());

    let mut members = Vec::new();
    for i in 0..ARTISTS + COLLECTORS {
        let (kind, name) = if i < ARTISTS {
            ("artist", format!("artist{i}"))
        } else {
            ("collector", format!("collector{i}"))
        };
        let at = clock::to_db(now - chrono::Duration::days(400) + chrono::Duration::seconds(i as i64));
        members.push(vec![
            text(&format!("{name}@bench.example")),
            text(&format!("{name}@bench.example")),
            text(&name),
            text(&name),
            text(rng.pick(&["Ada", "Frida", "Hokusai", "Vincent", "Georgia", "Yayoi"])),
            text(rng.pick(&["Lovelace", "Kahlo", "Katsushika", "Gogh", "O'Keeffe", "Kusama"])),
            text(kind),
            text("1 Bench Street"),
            text(rng.pick(POSTCODES)),
            text(&hash),
            text(&at),
            text(&at),
        ]);
    }
    insert_rows(
        &mut tx,
        "members",
        "email, email_lower, username, username_lower, first_name, last_name, user_type, address, postcode, password_hash, created_at, updated_at",
        members,
    )
    .await?;
    // Ids are 1..=ARTISTS for artists, then the collectors, on a fresh database.
    let galleries = (ARTISTS + 1..=ARTISTS + COLLECTORS)
        .map(|id| vec![Bind::Int(id as i64), text(&clock::to_db(now))])
        .collect();
    insert_rows(&mut tx, "galleries", "curator_id, created_at", galleries).await?;

    let mut artworks = Vec::new();
    let mut images = Vec::new();
    let mut parcels = Vec::new();
    for n in 0..artwork_count {
        let artist = (n % ARTISTS) as i64 + 1;
        let title = format!("{} {} {}", rng.pick(WORDS), rng.pick(WORDS), n);
        let price = (rng.next() % 500_000) as i64 + 1000;
        let quantity = (rng.next() % 5) as i64;
        let dims: Vec<i64> = (0..4).map(|_| (rng.next() % 10_000) as i64 + 100).collect();
        let at = clock::to_db(now - chrono::Duration::minutes((artwork_count - n) as i64));
        artworks.push(vec![
            Bind::Int(artist),
            text(&title),
            text(&format!(
                "A {} {} in {} light.",
                rng.pick(WORDS),
                rng.pick(WORDS),
                rng.pick(WORDS)
            )),
            Bind::Int(1900 + (rng.next() % 126) as i64),
            Bind::Int(price),
            Bind::Int(quantity),
            Bind::Bool(true),
            Bind::Bool(quantity > 0),
            text(rng.pick(MEDIA)),
            text(rng.pick(&["oil on canvas", "bronze", "paper", "clay", "linen"])),
            Bind::Int(dims[0]),
            Bind::Int(dims[1]),
            Bind::Int(dims[2]),
            Bind::Int(dims[3]),
            text(&at),
            text(&at),
        ]);
        parcels.push((artist, price, dims));
        for position in 0..3 {
            images.push(vec![
                Bind::Int(n as i64 + 1),
                text(&format!("https://images.bench.example/{n}/{position}.jpg")),
                Bind::Int(position),
                text(&at),
            ]);
        }
    }
    insert_rows(
        &mut tx,
        "artworks",
        "artist_id, title, description, year, price_pence, quantity_for_sale, listed, is_for_sale, medium, material, \
         width_hundredths, depth_hundredths, height_hundredths, weight_hundredths, created_at, updated_at",
        artworks,
    )
    .await?;
    insert_rows(
        &mut tx,
        "artwork_images",
        "artwork_id, image_url, position, created_at",
        images,
    )
    .await?;

    let mut orders = Vec::new();
    for n in 0..ORDERS {
        // Artist 1 sells a good share, so the seller list has full pages; buyer and
        // artwork pairs never repeat, so the one-open-order index holds.
        let artwork = if n % 5 == 0 { (n / 5) * ARTISTS } else { n * 3 + 1 } % artwork_count;
        let (artist, price, dims) = &parcels[artwork];
        // The first collector (collector200) buys a twentieth, so the buyer's list has
        // full pages too.
        let buyer = if n % 20 == 1 {
            ARTISTS + 1
        } else {
            ARTISTS + 1 + n % COLLECTORS
        };
        let parcel = Parcel {
            price: Money::from_hundredths(*price),
            width: Measure::from_hundredths(dims[0]),
            depth: Measure::from_hundredths(dims[1]),
            height: Measure::from_hundredths(dims[2]),
            weight: Measure::from_hundredths(dims[3]),
        };
        let total = quote(parcel, "SW1A 1AA", "EH1 1YZ").total_price;
        let status = STATUSES[n % STATUSES.len()];
        let at = clock::to_db(now - chrono::Duration::minutes((ORDERS - n) as i64));
        orders.push(vec![
            Bind::Int(buyer as i64),
            Bind::Int(*artist),
            Bind::Int(artwork as i64 + 1),
            Bind::Int(total.hundredths()),
            text(status),
            Bind::Bool(n % 3 != 0),
            Bind::Bool(n % 2 == 0),
            text(&at),
            text(&at),
        ]);
    }
    insert_rows(
        &mut tx,
        "orders",
        "buyer_id, seller_id, artwork_id, price_pence, status, viewed_by_buyer, viewed_by_seller, created_at, updated_at",
        orders,
    )
    .await?;
    tx.commit().await?;
    // Fresh statistics, so the planner sees the catalogue as it is.
    let analyze = match db.backend() {
        openstudio::db::Backend::Sqlite => "ANALYZE",
        openstudio::db::Backend::Postgres => "VACUUM ANALYZE",
    };
    sqlx::query(analyze).execute(db.pool()).await.context("analyzing")?;
    println!(
        "seeded {ARTISTS} artists, {} artworks, {} images, {COLLECTORS} collectors, {ORDERS} orders",
        artwork_count,
        artwork_count * 3
    );
    Ok(())
}
