//! The public pages: the front page, the marketplace, each artwork (with its quote, the
//! gallery toggle and the request to buy) and each artist.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::session::{Posted, Visitor};
use super::{
    form_failure, page, page_number, page_query, page_with, pounds, see, signed_in, Card, Layout, PageResult, Pager,
};
use crate::artworks::artists::{self, ArtistPage, Featured};
use crate::artworks::browse::{self, Filter};
use crate::artworks::{self, quote, Artwork, Medium};
use crate::error::{ApiError, ApiResult};
use crate::galleries;
use crate::input::Id;
use crate::orders;
use crate::paging::Page;
use crate::state::AppState;

/// The query's pairs, leniently decoded; empty values are fields left blank.
fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    mediums: Vec<(&'static str, &'static str)>,
    showcase: Bytes,
}

impl Home {
    fn showcase(&self) -> &str {
        std::str::from_utf8(&self.showcase).unwrap_or_default()
    }
}

#[derive(Template)]
#[template(path = "home_showcase.html")]
struct Showcase {
    cards: Vec<Card>,
    artists: Vec<Featured>,
}

/// A part of a page that is the same for every visitor, rendered once and kept in the
/// catalogue cache until the catalogue changes (or for CATALOGUE_CACHE_MS).
async fn shared_fragment<F>(state: &AppState, key: String, render: F) -> ApiResult<(i64, Bytes)>
where
    F: std::future::Future<Output = ApiResult<(i64, String)>>,
{
    if let Some(cached) = state.catalogue.get(&key) {
        return Ok((cached.total, cached.body));
    }
    let generation = state.catalogue.generation();
    let (total, html) = render.await?;
    let body = Bytes::from(html);
    state.catalogue.put(&key, generation, total, body.clone());
    Ok((total, body))
}

/// The front page: new works, a few artists, and the mediums as ways in.
pub async fn home(State(state): State<AppState>, visitor: Visitor) -> PageResult {
    let (_, showcase) = shared_fragment(&state, "web|home".to_owned(), async {
        let newest = Filter::from_pairs(&[("ordering".to_owned(), "-created".to_owned())])?;
        let works = browse::page_only(&state, &newest, Page { page: 1, per_page: 12 }).await?;
        let artists = artists::featured(&state, 4).await?;
        let showcase = Showcase {
            cards: works.into_iter().map(Card::from).collect(),
            artists,
        };
        Ok((0, showcase.render().map_err(|e| ApiError::Internal(e.into()))?))
    })
    .await?;
    let mediums = Medium::ALL.iter().map(|m| (m.as_str(), m.label())).collect();
    let layout = Layout::new(&state, &visitor, "OpenStudio — original art from independent artists");
    page(
        &state,
        &visitor,
        Home {
            layout,
            mediums,
            showcase,
        },
    )
}

/// How the marketplace can be ordered, as the select shows it.
const ORDERINGS: [(&str, &str); 6] = [
    ("-created", "Newest first"),
    ("price", "Price, low to high"),
    ("-price", "Price, high to low"),
    ("-year", "Year, recent first"),
    ("year", "Year, oldest first"),
    ("title", "Title, A to Z"),
];

const PER_PAGE: i64 = 24;

#[derive(Template)]
#[template(path = "marketplace.html")]
struct Marketplace {
    layout: Layout,
    /// What the visitor asked for, to show it back in the form.
    asked: Vec<(String, String)>,
    mediums: Vec<(&'static str, &'static str)>,
    orderings: [(&'static str, &'static str); 6],
    problems: Vec<String>,
    /// The results (count, grid, pages), shared by every visitor asking for them.
    results: Bytes,
}

#[derive(Template)]
#[template(path = "market_results.html")]
struct Results {
    cards: Vec<Card>,
    pager: Pager,
}

impl Marketplace {
    fn results(&self) -> &str {
        std::str::from_utf8(&self.results).unwrap_or_default()
    }

    fn asked(&self, key: &str) -> &str {
        self.asked
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }

    fn has(&self, key: &str, value: &str) -> bool {
        self.asked.iter().any(|(k, v)| k == key && v == value)
    }
}

/// The marketplace: search, filters, ordering and numbered pages.
pub async fn marketplace(State(state): State<AppState>, visitor: Visitor, RawQuery(query): RawQuery) -> PageResult {
    let asked: Vec<(String, String)> = query_pairs(query.as_deref())
        .into_iter()
        .map(|(k, v)| (k, v.trim().to_owned()))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let mut problems = Vec::new();
    let number = match asked.iter().find(|(k, _)| k == "page") {
        None => 1,
        Some((_, n)) => match page_number(n) {
            Some(n) => n,
            None => {
                problems.push("Page: choose a page number from the list.".to_owned());
                1
            }
        },
    };
    let filter = match Filter::from_pairs(&asked) {
        Ok(filter) => Some(filter),
        Err(ApiError::Validation { errors, .. }) => {
            problems.extend(errors.messages());
            None
        }
        Err(other) => return Err(other.into()),
    };
    let results = match &filter {
        Some(filter) if problems.is_empty() => {
            let key = format!("web|{filter:?}|{number}");
            let (_, html) = shared_fragment(&state, key, async {
                let (total, works) = browse::page(
                    &state,
                    filter,
                    Page {
                        page: number,
                        per_page: PER_PAGE,
                    },
                )
                .await?;
                let results = Results {
                    cards: works.into_iter().map(Card::from).collect(),
                    pager: Pager::new(total, number, PER_PAGE, &asked),
                };
                Ok((total, results.render().map_err(|e| ApiError::Internal(e.into()))?))
            })
            .await?;
            html
        }
        _ => Bytes::new(),
    };
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::BAD_REQUEST
    };
    let title = match asked.iter().find(|(k, _)| k == "q") {
        Some((_, q)) => format!("“{q}” in the marketplace — OpenStudio"),
        None => "The marketplace — OpenStudio".to_owned(),
    };
    let template = Marketplace {
        layout: Layout::new(&state, &visitor, title).in_section("market"),
        mediums: Medium::ALL.iter().map(|m| (m.as_str(), m.label())).collect(),
        orderings: ORDERINGS,
        problems,
        results,
        asked,
    };
    page_with(&state, &visitor, status, template)
}

/// An image as the artwork page shows it, with its renditions for `srcset`.
pub struct Shown {
    src: String,
    srcset: String,
    width: Option<i64>,
    height: Option<i64>,
    thumb: String,
    alt: String,
}

fn shown(work: &Artwork, thumbnail_side: i64) -> Vec<Shown> {
    work.artworks_images
        .iter()
        .enumerate()
        .map(|(i, image)| {
            let srcset = match (&image.thumbnail_url, image.width, image.height) {
                (Some(thumb), Some(w), Some(h)) if w.max(h) > thumbnail_side => {
                    let thumb_width = w * thumbnail_side / w.max(h);
                    format!("{thumb} {thumb_width}w, {} {w}w", image.image_url)
                }
                _ => String::new(),
            };
            Shown {
                src: image.image_url.clone(),
                srcset,
                width: image.width,
                height: image.height,
                thumb: image.thumbnail_url.clone().unwrap_or_else(|| image.image_url.clone()),
                alt: format!("{}, image {} of {}", work.title, i + 1, work.artworks_images.len()),
            }
        })
        .collect()
}

/// A quote as the page shows it, with the exact total the request to buy carries.
pub struct QuoteView {
    to: String,
    shipping: String,
    insurance: String,
    total: String,
    exact_total: String,
}

#[derive(Template)]
#[template(path = "artwork.html")]
struct ArtworkPage {
    layout: Layout,
    work: Artwork,
    price: String,
    images: Vec<Shown>,
    /// The visitor made it.
    own: bool,
    collector: bool,
    logged_in: bool,
    in_gallery: bool,
    csrf: String,
    postcode: String,
    quote: Option<QuoteView>,
    quote_error: Option<String>,
    buy_error: Option<String>,
}

/// One artwork: its images, who made it, what it is, its price and what shipping it to
/// a postcode costs; for a collector, the gallery toggle and the request to buy.
pub async fn artwork(
    State(state): State<AppState>,
    visitor: Visitor,
    Id(id): Id,
    RawQuery(query): RawQuery,
) -> PageResult {
    let postcode = query_pairs(query.as_deref())
        .into_iter()
        .find(|(k, _)| k == "postcode")
        .map(|(_, v)| v);
    artwork_page(&state, &visitor, id, postcode, None).await
}

async fn artwork_page(
    state: &AppState,
    visitor: &Visitor,
    id: i64,
    postcode: Option<String>,
    buy_error: Option<(StatusCode, String)>,
) -> PageResult {
    let work = artworks::find(state, id).await?;
    let own = visitor.member.as_ref().is_some_and(|m| m.id == work.artist.id);
    let collector = visitor.is_collector();
    let in_gallery = match visitor.member.as_ref().and_then(|m| m.gallery_id) {
        Some(gallery) => galleries::holds(&state.db, gallery, id).await?,
        None => false,
    };
    let asked_for_quote = postcode.as_deref().is_some_and(|p| !p.trim().is_empty()) || collector;
    let (quote, quote_error) = if asked_for_quote && work.is_for_sale && !own {
        match quote::destination(postcode.as_deref(), visitor.member.clone()) {
            Ok(to) => {
                let q = quote::quote_for(state, &work, &to).await?;
                let view = QuoteView {
                    to: to.as_str().to_owned(),
                    shipping: pounds(q.base_shipping_cost),
                    insurance: pounds(q.insurance_cost),
                    total: pounds(q.total_price),
                    exact_total: q.total_price.to_string(),
                };
                (Some(view), None)
            }
            Err(ApiError::Validation { errors, .. }) => (None, errors.of("postcode").next().map(str::to_owned)),
            Err(other) => return Err(other.into()),
        }
    } else {
        (None, None)
    };
    let title = format!(
        "{} by {} {} — OpenStudio",
        work.title, work.artist.first_name, work.artist.last_name
    );
    let (status, buy_error) = match buy_error {
        Some((status, message)) => (status, Some(message)),
        None => (StatusCode::OK, None),
    };
    let template = ArtworkPage {
        layout: Layout::new(state, visitor, title).in_section("market"),
        price: pounds(work.price),
        images: shown(&work, i64::from(state.config.thumbnail_side)),
        own,
        collector,
        logged_in: visitor.member.is_some(),
        in_gallery,
        csrf: if visitor.member.is_some() {
            visitor.form_token(state)
        } else {
            String::new()
        },
        postcode: postcode.unwrap_or_default(),
        quote,
        quote_error,
        buy_error,
        work,
    };
    page_with(state, visitor, status, template)
}

/// Adds the artwork to the collector's gallery, or takes it out (`action`: add or remove).
pub async fn toggle_gallery(
    State(state): State<AppState>,
    Id(id): Id,
    uri: axum::http::Uri,
    Posted { visitor, fields }: Posted,
) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    let gallery = member
        .gallery_id
        .ok_or_else(|| ApiError::forbidden("Only collectors keep a gallery."))?;
    match fields.get("action").and_then(Value::as_str) {
        Some("add") => {
            galleries::add(&state, gallery, id).await?;
        }
        Some("remove") => match galleries::remove(&state.db, gallery, id).await {
            // Already out: what the person wanted.
            Ok(()) | Err(ApiError::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        },
        _ => return Err(ApiError::BadRequest("Choose to add or to remove the artwork.".into()).into()),
    }
    let back = match fields.get("back").and_then(Value::as_str) {
        // Back to the page of the gallery the work was taken from.
        Some("gallery") => format!("/gallery{}", page_query(&fields)),
        _ => format!("/artworks/{id}"),
    };
    Ok(see(&back))
}

/// A collector asks to buy the artwork at the total they were shown.
pub async fn buy(
    State(state): State<AppState>,
    Id(id): Id,
    uri: axum::http::Uri,
    Posted { visitor, fields }: Posted,
) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    if !member.is_collector() {
        return Err(ApiError::forbidden("Only collectors can buy artworks.").into());
    }
    // The request carries the total the collector was shown; the order is placed only
    // at that total.
    let Some(quoted) = fields
        .get("total")
        .and_then(Value::as_str)
        .and_then(|t| t.trim().parse::<rust_decimal::Decimal>().ok())
    else {
        let message = "Get a quote first: the request is sent at the total you are shown.".to_owned();
        return artwork_page(&state, &visitor, id, None, Some((StatusCode::BAD_REQUEST, message))).await;
    };
    match orders::place(&state, &member, id, Some(quoted)).await {
        Ok(order) => Ok(see(&format!("/orders/{}", order.id))),
        Err(error) => {
            let (status, form) = form_failure(error, fields)?;
            let message = form.summary.unwrap_or_default();
            artwork_page(&state, &visitor, id, None, Some((status, message))).await
        }
    }
}

#[derive(Template)]
#[template(path = "artist.html")]
struct ArtistView {
    layout: Layout,
    artist: ArtistPage,
    member_since: String,
    cards: Vec<Card>,
}

/// An artist: who they are, and their works on sale.
pub async fn artist(State(state): State<AppState>, visitor: Visitor, Id(id): Id) -> PageResult {
    let mut artist = artists::page(&state, id).await?;
    let cards = std::mem::take(&mut artist.artworks)
        .into_iter()
        .map(Card::from)
        .collect();
    let layout = Layout::new(
        &state,
        &visitor,
        format!("{} {} — OpenStudio", artist.first_name, artist.last_name),
    );
    page(
        &state,
        &visitor,
        ArtistView {
            layout,
            member_since: artist.member_since.format("%B %Y").to_string(),
            artist,
            cards,
        },
    )
}
