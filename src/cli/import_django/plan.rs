//! The import's plan: every row of the first version mapped to ours,
//! keeping every id, and each thing the first version allowed that we do not reported
//! with what was done about it. Nothing is merged silently and nothing is dropped: a
//! row we cannot keep as it was is kept as near as our rules allow, and said so.
//!
//! No database here: `read` fills a [`Source`], `write` stores a [`Plan`].

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, Utc};

use crate::artworks::Medium;
use crate::clock;
use crate::members::username_skeleton;
use crate::money::{parse_decimal, Money};
use crate::orders::rules::OrderStatus;
use crate::postcode::Postcode;

/// A row of `members_member`; timestamps already in our stored form (UTC, microseconds).
#[derive(Debug, Clone)]
pub struct SourceMember {
    pub id: i64,
    pub password: String,
    pub last_login: Option<String>,
    pub is_superuser: bool,
    pub is_staff: bool,
    pub is_active: bool,
    pub username: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: String,
    pub bio: String,
    pub website: String,
    pub address: String,
    pub postcode: String,
    pub date_joined: String,
}

/// A row of `artworks_artwork`; numerics as their exact text.
#[derive(Debug, Clone)]
pub struct SourceArtwork {
    pub id: i64,
    pub artist_id: i64,
    pub title: String,
    pub description: String,
    pub year: i64,
    pub price: String,
    pub quantity_for_sale: i64,
    pub is_for_sale: bool,
    pub medium: String,
    pub material: String,
    pub width: String,
    pub depth: String,
    pub height: String,
    pub weight: String,
}

/// A row of `artwork_images_artworkimage`.
#[derive(Debug, Clone)]
pub struct SourceImage {
    pub id: i64,
    pub artwork_id: i64,
    pub image_url: String,
}

/// A row of `galleries_galleryartwork`, with its gallery's curator.
#[derive(Debug, Clone)]
pub struct SourceGalleryArtwork {
    pub gallery_id: i64,
    pub artwork_id: i64,
}

/// A row of `orders_order`.
#[derive(Debug, Clone)]
pub struct SourceOrder {
    pub id: i64,
    pub price: String,
    pub created_at: String,
    pub status: String,
    pub artwork_id: i64,
    pub buyer_id: i64,
    pub seller_id: i64,
    pub viewed_by_buyer: bool,
    pub viewed_by_seller: bool,
}

/// The first version's rows, as read.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub members: Vec<SourceMember>,
    pub artworks: Vec<SourceArtwork>,
    pub images: Vec<SourceImage>,
    /// `galleries_gallery`: (id, curator_id).
    pub galleries: Vec<(i64, i64)>,
    pub gallery_artworks: Vec<SourceGalleryArtwork>,
    pub orders: Vec<SourceOrder>,
}

/// A member as our `members` table holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    /// `artist` or `collector`.
    pub user_type: &'static str,
    pub address: String,
    pub postcode: String,
    pub bio: String,
    pub website: String,
    /// Django's hash, kept: checked at login and replaced then (`passwords`).
    pub password_hash: String,
    pub is_staff: bool,
    pub created_at: String,
}

/// An artwork as our `artworks` table holds it.
#[derive(Debug, Clone, PartialEq)]
pub struct Artwork {
    pub id: i64,
    pub artist_id: i64,
    pub title: String,
    pub description: String,
    pub year: i64,
    pub price_pence: i64,
    pub quantity_for_sale: i64,
    pub listed: bool,
    pub is_for_sale: bool,
    pub medium: Medium,
    pub material: String,
    /// Width, depth, height, weight in hundredths.
    pub measures: [i64; 4],
    pub created_at: String,
    /// Withdrawn: kept for its orders, shown nowhere (our `archived_at`).
    pub archived: bool,
}

/// An image: its id, artwork, URL and place among the artwork's images.
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    pub id: i64,
    pub artwork_id: i64,
    pub image_url: String,
    pub position: i64,
}

/// An order as our `orders` table holds it, with the event its timeline starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    pub id: i64,
    pub buyer_id: i64,
    pub seller_id: i64,
    pub artwork_id: i64,
    pub price_pence: i64,
    pub status: OrderStatus,
    pub viewed_by_buyer: bool,
    pub viewed_by_seller: bool,
    pub created_at: String,
    /// Shipped orders: when, as far as the first version knew (it kept one date).
    pub shipped_at: Option<String>,
    /// Completed and cancelled orders.
    pub closed_at: Option<String>,
    /// Paid orders: where they ship, copied from the buyer as for a payment here.
    pub delivery: Option<(String, String)>,
    /// What the timeline's first event says.
    pub reason: String,
}

/// Something the first version allowed that we do not, and what the import did.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Anomaly {
    pub table: &'static str,
    pub id: i64,
    pub found: String,
    pub done: String,
}

/// Everything to write, and everything to report.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub members: Vec<Member>,
    /// (id, curator_id).
    pub galleries: Vec<(i64, i64)>,
    pub artworks: Vec<Artwork>,
    pub images: Vec<Image>,
    /// (gallery_id, artwork_id), one each.
    pub gallery_artworks: Vec<(i64, i64)>,
    pub orders: Vec<Order>,
    pub anomalies: Vec<Anomaly>,
}

impl Plan {
    fn report(&mut self, table: &'static str, id: i64, found: impl Into<String>, done: impl Into<String>) {
        self.anomalies.push(Anomaly {
            table,
            id,
            found: found.into(),
            done: done.into(),
        });
    }
}

/// A Django numeric (`1250.50`) in hundredths, if it is one.
fn hundredths(text: &str) -> Option<i64> {
    Money::from_decimal(parse_decimal(text)?).map(|m| m.hundredths())
}

/// Maps the first version's rows to ours. `now` dates what the first version did not
/// date (artworks had no creation time: they are placed a millisecond apart in id order,
/// the newest at `now`, so "newest first" lists them as the first version did).
pub fn plan(source: &Source, now: DateTime<Utc>) -> Plan {
    let mut plan = Plan::default();
    plan_members(source, &mut plan);
    let members: HashMap<i64, Member> = plan.members.iter().map(|m| (m.id, m.clone())).collect();
    plan_galleries(source, &mut plan);
    give_collectors_galleries(&mut plan);
    plan_artworks(source, now, &mut plan);
    plan_orders(source, &members, &mut plan);
    keep_references(&mut plan);
    plan.anomalies.sort();
    plan
}

fn plan_members(source: &Source, plan: &mut Plan) {
    // Emails that differ only in letter case: the member who logged in last keeps the
    // address (or, if none did, the oldest account).
    let mut by_email: BTreeMap<String, Vec<&SourceMember>> = BTreeMap::new();
    for member in &source.members {
        by_email
            .entry(member.email.trim().to_lowercase())
            .or_default()
            .push(member);
    }
    let mut keeps_email: HashSet<i64> = HashSet::new();
    for group in by_email.values() {
        let keeper = group
            .iter()
            .max_by(|a, b| a.last_login.cmp(&b.last_login).then(b.id.cmp(&a.id)))
            .map(|m| m.id);
        keeps_email.extend(keeper);
    }
    let mut skeletons: HashSet<String> = HashSet::new();
    let mut ordered: Vec<&SourceMember> = source.members.iter().collect();
    ordered.sort_by_key(|m| m.id);
    for m in ordered {
        let mut member = Member {
            id: m.id,
            email: m.email.trim().to_owned(),
            username: m.username.clone(),
            first_name: m.first_name.clone(),
            last_name: m.last_name.clone(),
            user_type: "collector",
            address: m.address.clone(),
            postcode: m.postcode.clone(),
            bio: m.bio.clone(),
            website: m.website.clone(),
            password_hash: m.password.clone(),
            is_staff: m.is_staff || m.is_superuser,
            created_at: m.date_joined.clone(),
        };
        match m.user_type.as_str() {
            "artist" => member.user_type = "artist",
            "collector" => {}
            "" => {
                // Made by createsuperuser: staff, as create-admin makes them.
                member.is_staff = true;
                if !(m.is_staff || m.is_superuser) {
                    plan.report("members", m.id, "no member type", "imported as a staff collector");
                }
            }
            other => plan.report(
                "members",
                m.id,
                format!("member type {other:?}"),
                "imported as a collector",
            ),
        }
        match Postcode::parse(&m.postcode) {
            Ok(postcode) => member.postcode = postcode.to_string(),
            Err(_) => plan.report(
                "members",
                m.id,
                format!("postcode {:?} is not a UK postcode", m.postcode),
                "kept as given; shipping quotes to or from it are refused until it is corrected",
            ),
        }
        if !keeps_email.contains(&m.id) {
            let kept = by_email[&m.email.trim().to_lowercase()]
                .iter()
                .find(|other| keeps_email.contains(&other.id))
                .map_or(0, |other| other.id);
            let (local, domain) = member
                .email
                .rsplit_once('@')
                .unwrap_or((member.email.as_str(), "invalid"));
            member.email = format!("duplicate-{}.{local}@{domain}", m.id);
            member.password_hash = format!("!duplicate-of-{kept}");
            plan.report(
                "members",
                m.id,
                format!("email {:?} differs only in letter case from member {kept}'s", m.email),
                format!(
                    "member {kept} keeps the address (the later login, or the older account); this one is kept, \
                     with its artworks, gallery and orders, as {} and cannot log in until staff resolve it",
                    member.email
                ),
            );
        }
        if !m.is_active && !member.password_hash.starts_with('!') {
            member.password_hash = format!("!inactive:{}", member.password_hash);
            plan.report("members", m.id, "account deactivated", "kept; cannot log in");
        } else if m.password.starts_with('!') {
            plan.report(
                "members",
                m.id,
                "no usable password",
                "kept; cannot log in until the password is reset",
            );
        }
        let mut skeleton = username_skeleton(&member.username);
        if !skeletons.insert(skeleton.clone()) {
            let renamed = format!("{}-{}", member.username, m.id);
            plan.report(
                "members",
                m.id,
                format!("username {:?} looks like another member's", member.username),
                format!("imported as {renamed:?}"),
            );
            member.username = renamed;
            skeleton = username_skeleton(&member.username);
            skeletons.insert(skeleton);
        }
        plan.members.push(member);
    }
}

fn plan_galleries(source: &Source, plan: &mut Plan) {
    // One gallery a curator here: a curator's later galleries join their first.
    let mut first_of: BTreeMap<i64, i64> = BTreeMap::new();
    let mut galleries = source.galleries.clone();
    galleries.sort();
    let mut into: HashMap<i64, i64> = HashMap::new();
    for (id, curator) in galleries {
        match first_of.get(&curator) {
            Some(&first) => {
                into.insert(id, first);
                plan.report(
                    "galleries",
                    id,
                    format!("a second gallery of member {curator}"),
                    format!("its artworks join gallery {first}, the member's first"),
                );
            }
            None => {
                first_of.insert(curator, id);
                into.insert(id, id);
                plan.galleries.push((id, curator));
            }
        }
    }
    let mut seen = HashSet::new();
    let mut repeated = BTreeMap::<i64, usize>::new();
    for link in &source.gallery_artworks {
        let Some(&gallery) = into.get(&link.gallery_id) else {
            continue;
        };
        if seen.insert((gallery, link.artwork_id)) {
            plan.gallery_artworks.push((gallery, link.artwork_id));
        } else {
            *repeated.entry(gallery).or_default() += 1;
        }
    }
    for (gallery, times) in repeated {
        plan.report(
            "galleries",
            gallery,
            format!("{times} artwork(s) in it more than once"),
            "each kept once",
        );
    }
}

/// Every collector has a gallery here (the API names it at login): one is made for a
/// collector the first version had none for, with an id after the imported ones.
fn give_collectors_galleries(plan: &mut Plan) {
    let curators: HashSet<i64> = plan.galleries.iter().map(|&(_, curator)| curator).collect();
    let first_free = plan.galleries.iter().map(|&(id, _)| id).max().unwrap_or(0) + 1;
    let without: Vec<i64> = plan
        .members
        .iter()
        .filter(|m| m.user_type == "collector" && !curators.contains(&m.id))
        .map(|m| m.id)
        .collect();
    for (id, member) in (first_free..).zip(without) {
        plan.galleries.push((id, member));
        plan.report(
            "members",
            member,
            "a collector without a gallery",
            format!("gallery {id} made for them"),
        );
    }
}

fn plan_artworks(source: &Source, now: DateTime<Utc>, plan: &mut Plan) {
    let newest = source.artworks.iter().map(|a| a.id).max().unwrap_or(0);
    for a in &source.artworks {
        let mut price = hundredths(&a.price).unwrap_or(0);
        let mut listed = a.is_for_sale;
        if price <= 0 {
            plan.report(
                "artworks",
                a.id,
                format!("price {}", a.price),
                "imported at 0.01 and not for sale, for the artist to price",
            );
            price = 1;
            listed = false;
        }
        let mut quantity = a.quantity_for_sale;
        if quantity < 0 {
            plan.report(
                "artworks",
                a.id,
                format!("stock {quantity}"),
                "imported with none in stock",
            );
            quantity = 0;
        }
        let medium = Medium::parse(&a.medium).unwrap_or_else(|_| {
            plan.report(
                "artworks",
                a.id,
                format!("medium {:?}", a.medium),
                "imported as mixed media",
            );
            Medium::MixedMedia
        });
        let mut measures = [0; 4];
        for (slot, (name, text)) in measures.iter_mut().zip([
            ("width", &a.width),
            ("depth", &a.depth),
            ("height", &a.height),
            ("weight", &a.weight),
        ]) {
            *slot = hundredths(text).unwrap_or_else(|| {
                plan.report(
                    "artworks",
                    a.id,
                    format!("{name} {text}"),
                    format!("{name} imported as 0"),
                );
                0
            });
        }
        plan.artworks.push(Artwork {
            id: a.id,
            artist_id: a.artist_id,
            title: a.title.clone(),
            description: a.description.clone(),
            year: a.year,
            price_pence: price,
            quantity_for_sale: quantity,
            listed,
            is_for_sale: listed && quantity > 0,
            medium,
            material: a.material.clone(),
            measures,
            created_at: clock::to_db(now - Duration::milliseconds(newest - a.id)),
            archived: false,
        });
    }
    let mut images: Vec<&SourceImage> = source.images.iter().collect();
    images.sort_by_key(|i| (i.artwork_id, i.id));
    let mut position = 0;
    let mut previous = None;
    for image in images {
        if previous != Some(image.artwork_id) {
            position = 0;
            previous = Some(image.artwork_id);
        }
        plan.images.push(Image {
            id: image.id,
            artwork_id: image.artwork_id,
            image_url: image.image_url.clone(),
            position,
        });
        position += 1;
    }
}

fn plan_orders(source: &Source, members: &HashMap<i64, Member>, plan: &mut Plan) {
    let imported = "Imported from the first version.".to_owned();
    // One open order per buyer and artwork here: the newest stays open.
    let mut open_seen: HashSet<(i64, i64)> = HashSet::new();
    let mut orders: Vec<&SourceOrder> = source.orders.iter().collect();
    orders.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
    let mut planned = Vec::new();
    for o in orders {
        let mut reason = imported.clone();
        let mut status = OrderStatus::parse(&o.status).unwrap_or_else(|| {
            plan.report(
                "orders",
                o.id,
                format!("status {:?}", o.status),
                "imported as cancelled, the status named in its timeline",
            );
            reason = format!("Imported from the first version, where its status was {:?}.", o.status);
            OrderStatus::Cancelled
        });
        if matches!(status, OrderStatus::Pending | OrderStatus::Accepted)
            && !open_seen.insert((o.buyer_id, o.artwork_id))
        {
            plan.report(
                "orders",
                o.id,
                format!(
                    "a second open order by member {} for artwork {}",
                    o.buyer_id, o.artwork_id
                ),
                "imported as cancelled; the newest stays open",
            );
            reason = "Imported from the first version, cancelled: the buyer had a newer open order for it.".into();
            status = OrderStatus::Cancelled;
        }
        let mut price = hundredths(&o.price).unwrap_or(0);
        if price <= 0 {
            plan.report("orders", o.id, format!("price {}", o.price), "imported at 0.01");
            price = 1;
        }
        let delivery = status
            .is_paid()
            .then(|| members.get(&o.buyer_id))
            .flatten()
            .map(|buyer| (buyer.address.clone(), buyer.postcode.clone()));
        let closed = matches!(status, OrderStatus::Completed | OrderStatus::Cancelled);
        planned.push(Order {
            id: o.id,
            buyer_id: o.buyer_id,
            seller_id: o.seller_id,
            artwork_id: o.artwork_id,
            price_pence: price,
            status,
            viewed_by_buyer: o.viewed_by_buyer,
            viewed_by_seller: o.viewed_by_seller,
            created_at: o.created_at.clone(),
            shipped_at: (status == OrderStatus::Shipped).then(|| o.created_at.clone()),
            closed_at: closed.then(|| o.created_at.clone()),
            delivery,
            reason,
        });
    }
    planned.sort_by_key(|o| o.id);
    plan.orders = planned;
}

/// Rows that point at rows the first version's database does not hold (its foreign keys
/// forbid it, but a damaged or hand-edited database may): an order keeps its artwork's
/// id through a withdrawn stand-in, as our own withdrawals keep an artwork for its
/// orders; what cannot stand without its member or artwork is left out. Each is said.
fn keep_references(plan: &mut Plan) {
    let members: HashSet<i64> = plan.members.iter().map(|m| m.id).collect();
    let mut gone = Vec::new();
    plan.artworks.retain(|a| {
        let kept = members.contains(&a.artist_id);
        if !kept {
            gone.push((
                "artworks",
                a.id,
                format!("its artist, member {}, is not there", a.artist_id),
            ));
        }
        kept
    });
    plan.orders.retain(|o| {
        let missing = [o.buyer_id, o.seller_id].into_iter().find(|id| !members.contains(id));
        if let Some(member) = missing {
            gone.push(("orders", o.id, format!("its member {member} is not there")));
        }
        missing.is_none()
    });
    let mut artworks: HashSet<i64> = plan.artworks.iter().map(|a| a.id).collect();
    let mut stand_ins = Vec::new();
    let mut missing_artworks = Vec::new();
    for o in &plan.orders {
        if artworks.insert(o.artwork_id) {
            stand_ins.push(Artwork {
                id: o.artwork_id,
                artist_id: o.seller_id,
                title: "Withdrawn artwork".into(),
                description: String::new(),
                year: 0,
                price_pence: o.price_pence,
                quantity_for_sale: 0,
                listed: false,
                is_for_sale: false,
                medium: Medium::MixedMedia,
                material: String::new(),
                measures: [0; 4],
                created_at: o.created_at.clone(),
                archived: true,
            });
            missing_artworks.push((o.id, o.artwork_id));
        }
    }
    for (order, artwork) in missing_artworks {
        plan.report(
            "orders",
            order,
            format!("its artwork {artwork} is not there"),
            format!(
                "the order is kept, with a withdrawn stand-in for artwork {artwork} (by its seller, shown nowhere)"
            ),
        );
    }
    plan.artworks.extend(stand_ins);
    plan.artworks.sort_by_key(|a| a.id);
    plan.images.retain(|i| {
        let kept = artworks.contains(&i.artwork_id);
        if !kept {
            gone.push((
                "artwork images",
                i.id,
                format!("its artwork {} is not there", i.artwork_id),
            ));
        }
        kept
    });
    plan.galleries.retain(|&(id, curator)| {
        let kept = members.contains(&curator);
        if !kept {
            gone.push(("galleries", id, format!("its curator, member {curator}, is not there")));
        }
        kept
    });
    let galleries: HashSet<i64> = plan.galleries.iter().map(|&(id, _)| id).collect();
    plan.gallery_artworks.retain(|&(gallery, artwork)| {
        let kept = galleries.contains(&gallery) && artworks.contains(&artwork);
        if !kept {
            gone.push(("galleries", gallery, format!("artwork {artwork} in it is not there")));
        }
        kept
    });
    for (table, id, found) in gone {
        plan.report(table, id, found, "not imported");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(id: i64, email: &str, username: &str) -> SourceMember {
        SourceMember {
            id,
            password: "pbkdf2_sha256$870000$salt$hash".into(),
            last_login: None,
            is_superuser: false,
            is_staff: false,
            is_active: true,
            username: username.into(),
            email: email.into(),
            first_name: "Ana".into(),
            last_name: "Lima".into(),
            user_type: "collector".into(),
            bio: String::new(),
            website: String::new(),
            address: "1 Quay Street".into(),
            postcode: "sw1a1aa".into(),
            date_joined: "2024-01-01T10:00:00.000000Z".into(),
        }
    }

    fn order(id: i64, status: &str, buyer: i64, artwork: i64, at: &str) -> SourceOrder {
        SourceOrder {
            id,
            price: "130.00".into(),
            created_at: at.into(),
            status: status.into(),
            artwork_id: artwork,
            buyer_id: buyer,
            seller_id: 1,
            viewed_by_buyer: true,
            viewed_by_seller: false,
        }
    }

    fn now() -> DateTime<Utc> {
        clock::from_db("2026-11-30T12:00:00.000000Z").unwrap()
    }

    #[test]
    fn members_keep_their_ids_and_every_departure_is_reported() {
        let mut later = member(3, "Ana@Example.com", "ana");
        later.last_login = Some("2025-05-01T00:00:00.000000Z".into());
        let mut admin = member(4, "root@example.com", "root");
        admin.user_type = String::new();
        admin.is_superuser = true;
        admin.postcode = "not a postcode".into();
        let mut gone = member(5, "gone@example.com", "gone");
        gone.password = "!unusable".into();
        let source = Source {
            members: vec![member(2, "ana@example.com", "Ana"), later, admin, gone],
            galleries: vec![(1, 2), (2, 3), (3, 4)],
            ..Source::default()
        };
        let plan = plan(&source, now());
        let by_id: HashMap<i64, &Member> = plan.members.iter().map(|m| (m.id, m)).collect();
        assert_eq!(by_id[&3].email, "Ana@Example.com", "the later login keeps the address");
        assert_eq!(by_id[&2].email, "duplicate-2.ana@example.com");
        assert!(by_id[&2].password_hash.starts_with('!'), "cannot log in");
        assert_eq!(by_id[&3].username, "ana-3", "Ana and ana are one username here");
        assert_eq!(by_id[&2].postcode, "SW1A 1AA", "normalised");
        assert!(by_id[&4].is_staff && by_id[&4].user_type == "collector");
        assert_eq!(by_id[&4].postcode, "not a postcode", "kept as given");
        assert_eq!(
            by_id[&3].password_hash, "pbkdf2_sha256$870000$salt$hash",
            "kept for login"
        );
        let reported: Vec<(i64, &str)> = plan.anomalies.iter().map(|a| (a.id, a.found.as_str())).collect();
        assert!(reported.iter().any(|(id, f)| *id == 2 && f.contains("letter case")));
        assert!(reported.iter().any(|(id, f)| *id == 3 && f.contains("username")));
        assert!(reported.iter().any(|(id, f)| *id == 4 && f.contains("postcode")));
        assert!(reported
            .iter()
            .any(|(id, f)| *id == 5 && f.contains("no usable password")));
        assert_eq!(plan.galleries.last(), Some(&(4, 5)), "a collector gets a gallery");
        assert!(reported
            .iter()
            .any(|(id, f)| *id == 5 && f.contains("without a gallery")));
        assert_eq!(plan.anomalies.len(), 5, "{:#?}", plan.anomalies);
    }

    #[test]
    fn artworks_galleries_and_orders_keep_what_our_rules_allow() {
        let artwork = |id: i64, price: &str, medium: &str| SourceArtwork {
            id,
            artist_id: 1,
            title: "Harbour".into(),
            description: String::new(),
            year: 2020,
            price: price.into(),
            quantity_for_sale: 0,
            is_for_sale: true,
            medium: medium.into(),
            material: "oil".into(),
            width: "50.00".into(),
            depth: "2.50".into(),
            height: "40.00".into(),
            weight: "1.25".into(),
        };
        let mut artist = member(1, "artist@example.com", "artist");
        artist.user_type = "artist".into();
        let source = Source {
            members: vec![artist, member(2, "buyer@example.com", "buyer")],
            artworks: vec![artwork(10, "1250.50", "painting"), artwork(11, "0.00", "fresco")],
            images: vec![
                SourceImage {
                    id: 8,
                    artwork_id: 10,
                    image_url: "https://res.cloudinary.com/b.jpg".into(),
                },
                SourceImage {
                    id: 7,
                    artwork_id: 10,
                    image_url: "https://res.cloudinary.com/a.jpg".into(),
                },
            ],
            galleries: vec![(20, 2), (21, 2)],
            gallery_artworks: vec![
                SourceGalleryArtwork {
                    gallery_id: 20,
                    artwork_id: 10,
                },
                SourceGalleryArtwork {
                    gallery_id: 20,
                    artwork_id: 10,
                },
                SourceGalleryArtwork {
                    gallery_id: 21,
                    artwork_id: 11,
                },
            ],
            orders: vec![
                order(30, "pending", 2, 10, "2024-02-01T00:00:00.000000Z"),
                order(31, "accepted", 2, 10, "2024-03-01T00:00:00.000000Z"),
                order(32, "ready to ship", 2, 11, "2024-03-02T00:00:00.000000Z"),
                order(33, "refunded", 2, 11, "2024-03-03T00:00:00.000000Z"),
                order(34, "shipped", 2, 11, "2024-03-04T00:00:00.000000Z"),
                order(35, "completed", 2, 12, "2024-03-05T00:00:00.000000Z"),
                order(36, "completed", 9, 11, "2024-03-06T00:00:00.000000Z"),
            ],
        };
        let plan = plan(&source, now());
        let first = &plan.artworks[0];
        assert_eq!((first.price_pence, first.measures), (125050, [5000, 250, 4000, 125]));
        assert!(first.listed && !first.is_for_sale, "listed, but none in stock");
        assert_eq!(
            first.created_at, "2026-11-30T11:59:59.999000Z",
            "a millisecond before the newest"
        );
        let second = &plan.artworks[1];
        assert_eq!(
            (second.price_pence, second.listed, second.medium),
            (1, false, Medium::MixedMedia)
        );
        assert_eq!(
            plan.images.iter().map(|i| (i.id, i.position)).collect::<Vec<_>>(),
            vec![(7, 0), (8, 1)],
            "in id order"
        );
        assert_eq!(plan.galleries, vec![(20, 2)]);
        assert_eq!(plan.gallery_artworks, vec![(20, 10), (20, 11)]);
        let status = |id: i64| plan.orders.iter().find(|o| o.id == id).unwrap();
        assert_eq!(
            status(31).status,
            OrderStatus::Accepted,
            "the newest open order stays open"
        );
        assert_eq!(status(30).status, OrderStatus::Cancelled);
        assert_eq!(status(30).closed_at.as_deref(), Some("2024-02-01T00:00:00.000000Z"));
        assert_eq!(status(33).status, OrderStatus::Cancelled);
        assert!(status(33).reason.contains("refunded"));
        assert_eq!(
            status(32).delivery,
            Some(("1 Quay Street".to_owned(), "SW1A 1AA".to_owned())),
            "paid: ships to the buyer's address"
        );
        assert_eq!(status(34).shipped_at.as_deref(), Some("2024-03-04T00:00:00.000000Z"));
        assert_eq!(status(30).price_pence, 13000);
        let stand_in = plan
            .artworks
            .iter()
            .find(|a| a.id == 12)
            .expect("a stand-in for artwork 12");
        assert!(stand_in.archived && stand_in.artist_id == 1 && !stand_in.is_for_sale);
        assert_eq!(status(35).artwork_id, 12, "the order keeps its artwork's id");
        assert!(
            plan.orders.iter().all(|o| o.id != 36),
            "an order without its buyer is left out"
        );
        let found: Vec<&str> = plan.anomalies.iter().map(|a| a.found.as_str()).collect();
        for expected in [
            "its artwork 12 is not there",
            "its member 9 is not there",
            "price 0.00",
            "medium \"fresco\"",
            "a second gallery",
            "more than once",
            "status \"refunded\"",
            "a second open order",
        ] {
            assert!(found.iter().any(|f| f.contains(expected)), "{expected}: {found:#?}");
        }
    }
}
