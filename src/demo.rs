//! `openstudio seed-demo`: a small, believable marketplace for a newcomer to look at.
//! Artists, collectors, artworks with images made here and served by the server itself,
//! gallery favourites, and orders in every state. Its members use the reserved domain
//! `demo.openstudio.example`, which is how it recognises its own data.

use anyhow::{bail, Context};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};
use sqlx::Row;

use crate::clock;
use crate::media;
use crate::members::{self, NewMember, UserType};
use crate::money::{Measure, Money};
use crate::orders::rules::{Actor, OrderStatus};
use crate::orders::{record_event, Step};
use crate::passwords;
use crate::postcode::Postcode;
use crate::shipping::{quote, Parcel};
use crate::state::AppState;

pub const DOMAIN: &str = "demo.openstudio.example";
pub const PASSWORD: &str = "openstudio-demo-gallery-42";

struct Person {
    username: &'static str,
    first: &'static str,
    last: &'static str,
    postcode: &'static str,
    bio: &'static str,
}

const ARTISTS: [Person; 4] = [
    Person {
        username: "marta.ink",
        first: "Marta",
        last: "Okafor",
        postcode: "E2 7DJ",
        bio: "Printmaker working in linocut and ink, Hackney.",
    },
    Person {
        username: "tomsclay",
        first: "Tom",
        last: "Fenwick",
        postcode: "LS6 2AB",
        bio: "Wood-fired stoneware from a shared kiln in Leeds.",
    },
    Person {
        username: "isla.paints",
        first: "Isla",
        last: "MacLeod",
        postcode: "EH6 6QR",
        bio: "Oil painter of northern coasts and harbours.",
    },
    Person {
        username: "ravi.lens",
        first: "Ravi",
        last: "Chandra",
        postcode: "BS1 5TY",
        bio: "Photographer of cities after dark.",
    },
];

const COLLECTORS: [Person; 3] = [
    Person {
        username: "june.collects",
        first: "June",
        last: "Whitaker",
        postcode: "SW4 0LA",
        bio: "",
    },
    Person {
        username: "owen.gallery",
        first: "Owen",
        last: "Price",
        postcode: "CF10 1EP",
        bio: "",
    },
    Person {
        username: "amara.h",
        first: "Amara",
        last: "Hughes",
        postcode: "M4 1HN",
        bio: "",
    },
];

/// (artist index, title, description, medium, material, price in pence, quantity, size in cm ×100, weight ×100)
type Work = (
    usize,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    i64,
    i64,
    [i64; 3],
    i64,
);

const WORKS: [Work; 10] = [
    (
        0,
        "Heron at Low Tide",
        "Three-colour linocut on Japanese paper, edition of 20.",
        "printmaking",
        "linocut on paper",
        18000,
        6,
        [4200, 200, 3000],
        60,
    ),
    (
        0,
        "Canal, Early",
        "Reduction linocut of the Regent's Canal at dawn.",
        "printmaking",
        "linocut on paper",
        22500,
        3,
        [5000, 200, 4000],
        70,
    ),
    (
        1,
        "Ash-glazed Moon Jar",
        "Wood-fired stoneware with a natural ash glaze.",
        "ceramics",
        "stoneware",
        64000,
        1,
        [3200, 3200, 3400],
        450,
    ),
    (
        1,
        "Tea Bowls, Set of Four",
        "Hand-thrown bowls in a tenmoku glaze.",
        "ceramics",
        "stoneware",
        16000,
        4,
        [1200, 1200, 900],
        180,
    ),
    (
        2,
        "Harbour Lights, Leith",
        "Oil on linen; the harbour an hour after sunset.",
        "painting",
        "oil on linen",
        125050,
        1,
        [8000, 400, 6000],
        320,
    ),
    (
        2,
        "North Sea, February",
        "Oil on board, painted from the shore at Dunbar.",
        "painting",
        "oil on board",
        78000,
        2,
        [6000, 300, 4500],
        210,
    ),
    (
        2,
        "Gulls Over the Forth",
        "Small study in oil, framed in oak.",
        "painting",
        "oil on board",
        32000,
        1,
        [3000, 300, 2500],
        110,
    ),
    (
        3,
        "Temple Meads, 2 a.m.",
        "Archival pigment print, edition of 15.",
        "photography",
        "pigment print",
        27500,
        8,
        [6000, 200, 4000],
        90,
    ),
    (
        3,
        "Neon Rain",
        "Archival pigment print of Stokes Croft in the rain.",
        "photography",
        "pigment print",
        24000,
        5,
        [5000, 200, 5000],
        80,
    ),
    (
        3,
        "Bridge Study",
        "Digital composite printed on aluminium.",
        "digital_art",
        "print on aluminium",
        41000,
        2,
        [7000, 300, 5000],
        260,
    ),
];

/// A picture for each work: a soft gradient with a band, in the work's own colours.
fn picture(seed: usize) -> anyhow::Result<Vec<u8>> {
    let palette = [
        [28, 64, 92],
        [196, 112, 64],
        [40, 120, 96],
        [120, 60, 140],
        [210, 180, 90],
    ];
    let a = palette[seed % palette.len()];
    let b = palette[(seed + 2) % palette.len()];
    let (width, height) = (480u32, 360u32);
    let img = RgbImage::from_fn(width, height, |x, y| {
        let t = y as f32 / height as f32;
        let band = ((x as f32 / width as f32 * 6.0 + seed as f32).sin() * 0.5 + 0.5) * 0.25;
        let mix = |i: usize| (f32::from(a[i] as u8) * (1.0 - t) + f32::from(b[i] as u8) * t) * (0.85 + band);
        Rgb([
            mix(0).min(255.0) as u8,
            mix(1).min(255.0) as u8,
            mix(2).min(255.0) as u8,
        ])
    });
    let mut bytes = Vec::new();
    DynamicImage::ImageRgb8(img)
        .write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png)
        .context("drawing a demo picture")?;
    Ok(bytes)
}

/// What seed-demo found, and did.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Seeded { artworks: usize, orders: usize },
    AlreadyThere,
}

/// Fills the database with the demo marketplace. Refuses when the database holds
/// artworks or orders it did not make, unless `force`.
pub async fn seed(state: &AppState, force: bool) -> anyhow::Result<Outcome> {
    let pool = state.db.pool();
    let pattern = format!("%@{DOMAIN}");
    let demo_members: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM members WHERE email_lower LIKE $1")
        .bind(&pattern)
        .fetch_one(pool)
        .await?;
    let foreign: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM artworks a JOIN members m ON m.id = a.artist_id WHERE m.email_lower NOT LIKE $1) \
         + (SELECT COUNT(*) FROM orders o JOIN members b ON b.id = o.buyer_id WHERE b.email_lower NOT LIKE $1)",
    )
    .bind(&pattern)
    .fetch_one(pool)
    .await?;
    if foreign > 0 && !force {
        bail!(
            "this database holds {foreign} artworks or orders that seed-demo did not make; \
             refusing to mix demo data into it (use --force to add the demo anyway)"
        );
    }
    if demo_members > 0 {
        return Ok(Outcome::AlreadyThere);
    }

    let hash = passwords::hash_password(PASSWORD.to_owned())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = state.clock.now();
    let at = |days_ago: i64| clock::to_db(now - chrono::Duration::days(days_ago));
    let insert_member = async |person: &Person, user_type: UserType, days_ago: i64| -> anyhow::Result<i64> {
        let member = NewMember {
            email: format!("{}@{DOMAIN}", person.username),
            username: person.username.to_owned(),
            first_name: person.first.to_owned(),
            last_name: person.last.to_owned(),
            user_type,
            address: format!("{} Demo Street", 10 + days_ago),
            postcode: Postcode::parse(person.postcode).map_err(anyhow::Error::msg)?,
            bio: person.bio.to_owned(),
            website: String::new(),
            is_staff: false,
        };
        Ok(members::create(&state.db, now - chrono::Duration::days(days_ago), &member, &hash).await?)
    };
    let mut artists = Vec::new();
    for (n, person) in ARTISTS.iter().enumerate() {
        artists.push(insert_member(person, UserType::Artist, 300 - n as i64 * 20).await?);
    }
    let mut collectors = Vec::new();
    for (n, person) in COLLECTORS.iter().enumerate() {
        collectors.push(insert_member(person, UserType::Collector, 200 - n as i64 * 30).await?);
    }
    let mut galleries = Vec::new();
    for collector in &collectors {
        let member = members::find(state.db.pool(), *collector).await?;
        galleries.extend(member.and_then(|m| m.gallery_id));
    }

    let mut artworks = Vec::new();
    for (n, (artist, title, description, medium, material, price, quantity, size, weight)) in WORKS.iter().enumerate() {
        let upload = media::store_upload(state, artists[*artist], picture(n)?)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut tx = state.db.begin().await?;
        let created = at(120 - n as i64 * 9);
        let id: i64 = sqlx::query(
            "INSERT INTO artworks (artist_id, title, description, year, price_pence, quantity_for_sale, listed, is_for_sale, \
             medium, material, width_hundredths, depth_hundredths, height_hundredths, weight_hundredths, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8, $9, $10, $11, $12, $13, $14, $14) RETURNING id",
        )
        .bind(artists[*artist])
        .bind(*title)
        .bind(*description)
        .bind(2019 + (n as i64 % 7))
        .bind(*price)
        .bind(*quantity)
        .bind(*quantity > 0)
        .bind(*medium)
        .bind(*material)
        .bind(size[0])
        .bind(size[1])
        .bind(size[2])
        .bind(*weight)
        .bind(&created)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        sqlx::query(
            "INSERT INTO artwork_images (artwork_id, image_url, position, created_at, upload_id) VALUES ($1, $2, 0, $3, $4)",
        )
        .bind(id)
        .bind(&upload.image_url)
        .bind(&created)
        .bind(upload.id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        artworks.push(id);
    }

    // Favourites, and one order in each state of the workflow.
    let mut tx = state.db.begin().await?;
    for (g, gallery) in galleries.iter().enumerate() {
        for artwork in artworks.iter().skip(g * 2).take(3) {
            sqlx::query("INSERT INTO gallery_artworks (gallery_id, artwork_id, added_at) VALUES ($1, $2, $3)")
                .bind(gallery)
                .bind(artwork)
                .bind(at(30 - g as i64))
                .execute(&mut *tx)
                .await?;
        }
    }
    use OrderStatus::*;
    let journeys: [&[OrderStatus]; 6] = [
        &[Pending],
        &[Pending, Accepted],
        &[Pending, Accepted, ReadyToShip],
        &[Pending, Accepted, ReadyToShip, Shipped],
        &[Pending, Accepted, ReadyToShip, Shipped, Completed],
        &[Pending, Cancelled],
    ];
    for (n, journey) in journeys.iter().enumerate() {
        let (artist, _, _, _, _, price, _, size, weight) = WORKS[n + 2];
        let artwork = artworks[n + 2];
        let seller = artists[artist];
        let buyer = collectors[n % collectors.len()];
        let parcel = Parcel {
            price: Money::from_hundredths(price),
            width: Measure::from_hundredths(size[0]),
            depth: Measure::from_hundredths(size[1]),
            height: Measure::from_hundredths(size[2]),
            weight: Measure::from_hundredths(weight),
        };
        let total = quote(
            parcel,
            ARTISTS[artist].postcode,
            COLLECTORS[n % collectors.len()].postcode,
        )
        .total_price;
        let last = journey.last().copied().unwrap_or(Pending);
        let started = 20 - n as i64 * 2;
        let shipped_at = journey.contains(&Shipped).then(|| at(started - 3));
        let id: i64 = sqlx::query(
            "INSERT INTO orders (buyer_id, seller_id, artwork_id, price_pence, status, viewed_by_buyer, viewed_by_seller, \
             shipped_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(buyer)
        .bind(seller)
        .bind(artwork)
        .bind(total.hundredths())
        .bind(last.as_str())
        .bind(n % 2 == 0)
        .bind(n % 3 == 0)
        .bind(shipped_at)
        .bind(at(started))
        .bind(at(started - journey.len() as i64 + 1))
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let mut from = None;
        for (step, to) in journey.iter().enumerate() {
            let actor = match to {
                Accepted | Shipped | Cancelled => Actor::Seller,
                _ => Actor::Buyer,
            };
            let actor_id = if actor == Actor::Seller { seller } else { buyer };
            let step_at = at(started - step as i64);
            record_event(
                &mut tx,
                Step {
                    order_id: id,
                    from,
                    to: *to,
                    actor,
                    actor_id: Some(actor_id),
                    reason: None,
                },
                &step_at,
            )
            .await?;
            from = Some(*to);
        }
        if journey.contains(&ReadyToShip) {
            // A sale took one unit from stock, as a payment does.
            sqlx::query(
                "UPDATE artworks SET quantity_for_sale = quantity_for_sale - 1, \
                 is_for_sale = CASE WHEN quantity_for_sale > 1 THEN is_for_sale ELSE FALSE END WHERE id = $1",
            )
            .bind(artwork)
            .execute(&mut *tx)
            .await?;
        }
    }
    tx.commit().await?;
    state.catalogue.invalidate();
    Ok(Outcome::Seeded {
        artworks: artworks.len(),
        orders: journeys.len(),
    })
}
