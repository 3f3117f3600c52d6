//! `openstudio seed-demo`: a small, believable marketplace for a newcomer to look at.
//! Artists, collectors, artworks with images made here and served by the server itself,
//! gallery favourites, and orders in every state. Its members use the reserved domain
//! `demo.openstudio.example`, which is how it recognises its own data.

use anyhow::{bail, Context};
use image::{DynamicImage, ImageFormat, Rgb, RgbImage};

use crate::artworks::{self, ArtworkInput, Medium};
use crate::clock::Clock;
use crate::galleries;
use crate::media;
use crate::members::{self, Member, NewMember, UserType};
use crate::money::{Measure, Money};
use crate::orders;
use crate::orders::rules::{Action, Actor, OrderStatus};
use crate::passwords;
use crate::postcode::Postcode;
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

#[rustfmt::skip]
const ARTISTS: [Person; 4] = [
    Person { username: "marta.ink", first: "Marta", last: "Okafor", postcode: "E2 7DJ", bio: "Printmaker working in linocut and ink, Hackney." },
    Person { username: "tomsclay", first: "Tom", last: "Fenwick", postcode: "LS6 2AB", bio: "Wood-fired stoneware from a shared kiln in Leeds." },
    Person { username: "isla.paints", first: "Isla", last: "MacLeod", postcode: "EH6 6QR", bio: "Oil painter of northern coasts and harbours." },
    Person { username: "ravi.lens", first: "Ravi", last: "Chandra", postcode: "BS1 5TY", bio: "Photographer of cities after dark." },
];

#[rustfmt::skip]
const COLLECTORS: [Person; 3] = [
    Person { username: "june.collects", first: "June", last: "Whitaker", postcode: "SW4 0LA", bio: "" },
    Person { username: "owen.gallery", first: "Owen", last: "Price", postcode: "CF10 1EP", bio: "" },
    Person { username: "amara.h", first: "Amara", last: "Hughes", postcode: "M4 1HN", bio: "" },
];

/// (artist index, title, description, medium, material, price in pence, quantity, size in cm ×100, weight ×100)
#[rustfmt::skip]
type Work = (usize, &'static str, &'static str, &'static str, &'static str, i64, i64, [i64; 3], i64);

#[rustfmt::skip]
const WORKS: [Work; 10] = [
    (0, "Heron at Low Tide", "Three-colour linocut on Japanese paper, edition of 20.", "printmaking", "linocut on paper", 18000, 6, [4200, 200, 3000], 60),
    (0, "Canal, Early", "Reduction linocut of the Regent's Canal at dawn.", "printmaking", "linocut on paper", 22500, 3, [5000, 200, 4000], 70),
    (1, "Ash-glazed Moon Jar", "Wood-fired stoneware with a natural ash glaze.", "ceramics", "stoneware", 64000, 1, [3200, 3200, 3400], 450),
    (1, "Tea Bowls, Set of Four", "Hand-thrown bowls in a tenmoku glaze.", "ceramics", "stoneware", 16000, 4, [1200, 1200, 900], 180),
    (2, "Harbour Lights, Leith", "Oil on linen; the harbour an hour after sunset.", "painting", "oil on linen", 125050, 1, [8000, 400, 6000], 320),
    (2, "North Sea, February", "Oil on board, painted from the shore at Dunbar.", "painting", "oil on board", 78000, 2, [6000, 300, 4500], 210),
    (2, "Gulls Over the Forth", "Small study in oil, framed in oak.", "painting", "oil on board", 32000, 1, [3000, 300, 2500], 110),
    (3, "Temple Meads, 2 a.m.", "Archival pigment print, edition of 15.", "photography", "pigment print", 27500, 8, [6000, 200, 4000], 90),
    (3, "Neon Rain", "Archival pigment print of Stokes Croft in the rain.", "photography", "pigment print", 24000, 5, [5000, 200, 5000], 80),
    (3, "Bridge Study", "Digital composite printed on aluminium.", "digital_art", "print on aluminium", 41000, 2, [7000, 300, 5000], 260),
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

/// Fills the database with the demo marketplace, through the same operations as the
/// API: registration, listing, favourites, and each order's workflow. Refuses when the
/// database holds artworks or orders it did not make, unless `force`.
pub async fn seed(state: &AppState, force: bool) -> anyhow::Result<Outcome> {
    if let Some(outcome) = already_there(state, force).await? {
        return Ok(outcome);
    }
    // The story is told on a clock of its own, set back in time and moved on as it goes,
    // so the members, works and orders have a history.
    let clock = Clock::default();
    clock.advance(chrono::Duration::days(-200));
    let story = AppState::new(state.db.clone(), (*state.config).clone(), clock.clone())?;
    let hash = passwords::hash_password(PASSWORD.to_owned()).await?;
    let mut artists = Vec::new();
    for person in &ARTISTS {
        artists.push(join(&story, person, UserType::Artist, &hash).await?);
        clock.advance(chrono::Duration::days(15));
    }
    let mut collectors = Vec::new();
    for person in &COLLECTORS {
        collectors.push(join(&story, person, UserType::Collector, &hash).await?);
        clock.advance(chrono::Duration::days(20));
    }
    let mut artworks = Vec::new();
    for (n, work) in WORKS.iter().enumerate() {
        artworks.push(list(&story, &artists[work.0], n, work).await?);
        clock.advance(chrono::Duration::days(6));
    }
    for (g, collector) in collectors.iter().enumerate() {
        let gallery = collector.gallery_id.context("a collector has a gallery")?;
        for artwork in artworks.iter().skip(g * 2).take(3) {
            galleries::add(&story, gallery, *artwork).await?;
        }
        clock.advance(chrono::Duration::days(1));
    }
    use OrderStatus::*;
    let journeys: [&[OrderStatus]; 6] = [
        &[Accepted],
        &[Accepted, ReadyToShip],
        &[Accepted, ReadyToShip, Shipped],
        &[Accepted, ReadyToShip, Shipped, Completed],
        &[Cancelled],
        &[],
    ];
    for (n, journey) in journeys.iter().enumerate() {
        let (buyer, seller) = (&collectors[n % collectors.len()], &artists[WORKS[n + 2].0]);
        let order = orders::place(&story, buyer, artworks[n + 2], None).await?;
        for step in *journey {
            clock.advance(chrono::Duration::hours(20));
            let (member, party, action) = match step {
                ReadyToShip => {
                    orders::pay(&story, buyer, order.id).await?;
                    continue;
                }
                Completed => (buyer, Actor::Buyer, Action::Complete),
                Accepted => (seller, Actor::Seller, Action::Accept),
                Shipped => (seller, Actor::Seller, Action::Ship),
                _ => (seller, Actor::Seller, Action::Cancel),
            };
            orders::act(&story, member, order.id, party, action).await?;
        }
        clock.advance(chrono::Duration::days(1));
    }
    state.catalogue.invalidate();
    Ok(Outcome::Seeded {
        artworks: artworks.len(),
        orders: journeys.len(),
    })
}

/// What the database already holds: the demo (nothing to do), or someone else's data
/// (refused unless `force`).
async fn already_there(state: &AppState, force: bool) -> anyhow::Result<Option<Outcome>> {
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
    Ok((demo_members > 0).then_some(Outcome::AlreadyThere))
}

/// Registers a demo member.
async fn join(state: &AppState, person: &Person, user_type: UserType, hash: &str) -> anyhow::Result<Member> {
    let member = NewMember {
        email: format!("{}@{DOMAIN}", person.username),
        username: person.username.to_owned(),
        first_name: person.first.to_owned(),
        last_name: person.last.to_owned(),
        user_type,
        address: format!("{} Demo Street", person.first.len() * 3),
        postcode: Postcode::parse(person.postcode).map_err(anyhow::Error::msg)?,
        bio: person.bio.to_owned(),
        website: String::new(),
        is_staff: false,
    };
    let id = members::create(&state.db, state.clock.now(), &member, hash).await?;
    members::find(&state.db, id).await?.context("the member just created")
}

/// Lists a demo work, with a picture of its own uploaded for it.
async fn list(state: &AppState, artist: &Member, n: usize, work: &Work) -> anyhow::Result<i64> {
    let (_, title, description, medium, material, price, quantity, size, weight) = *work;
    let upload = media::store_upload(state, artist.id, picture(n)?).await?;
    let input = ArtworkInput {
        title: Some(title.to_owned()),
        description: Some(description.to_owned()),
        year: Some(2019 + (n as i64 % 7)),
        price: Some(Money::from_hundredths(price)),
        quantity_for_sale: Some(quantity),
        is_for_sale: Some(true),
        medium: Some(Medium::parse(medium).map_err(anyhow::Error::msg)?),
        material: Some(material.to_owned()),
        width: Some(Measure::from_hundredths(size[0])),
        depth: Some(Measure::from_hundredths(size[1])),
        height: Some(Measure::from_hundredths(size[2])),
        weight: Some(Measure::from_hundredths(weight)),
        artworks_images: Some(vec![upload.image_url]),
    };
    Ok(artworks::create(state, artist, input).await?.id)
}
