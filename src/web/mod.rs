//! The web face: the marketplace's own pages, rendered on the server from templates
//! compiled into the binary, over the same domain operations as the JSON API. Every page
//! works without JavaScript.

mod assets;

use askama::Template;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::artworks::artists::{self, ArtistPage};
use crate::artworks::browse::{self, Filter};
use crate::artworks::{self, Artwork};
use crate::error::{ApiError, ApiResult};
use crate::input::Id;
use crate::money::Money;
use crate::paging::Page;
use crate::state::AppState;

/// Pages: scripts, styles and fonts from here only; images from here or any https host
/// (artworks may point at an image host); forms post here only; never framed.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/artworks/{id}", get(artwork))
        .route("/artists/{id}", get(artist))
        .route("/static/{file}", get(assets::serve))
}

/// A rendered page with the pages' security policy.
fn page(template: impl Template) -> ApiResult<Response> {
    let html = template.render().map_err(|e| ApiError::Internal(e.into()))?;
    let mut response = Html(html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    Ok(response)
}

/// What every page's layout needs.
pub struct Layout {
    pub title: String,
    pub stylesheet: &'static str,
}

impl Layout {
    fn new(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            stylesheet: assets::stylesheet(),
        }
    }
}

/// An artwork as a card in a grid.
pub struct Card {
    id: i64,
    title: String,
    artist: String,
    artist_id: i64,
    price: String,
    sold: bool,
    image: Option<CardImage>,
}

pub struct CardImage {
    src: String,
    width: Option<i64>,
    height: Option<i64>,
}

impl From<Artwork> for Card {
    fn from(work: Artwork) -> Self {
        let image = work.artworks_images.into_iter().next().map(|image| CardImage {
            src: image.thumbnail_url.unwrap_or(image.image_url),
            // The thumbnail keeps the image's proportions; its size is set by the grid.
            width: image.width,
            height: image.height,
        });
        Self {
            id: work.id,
            title: work.title,
            artist: format!("{} {}", work.artist.first_name, work.artist.last_name),
            artist_id: work.artist.id,
            price: pounds(work.price),
            sold: !work.is_for_sale,
            image,
        }
    }
}

/// A price as people read it: `£1,250.50`, or `£410` for whole pounds.
pub fn pounds(money: Money) -> String {
    let pence = money.hundredths();
    let whole = (pence / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    match pence % 100 {
        0 => format!("£{grouped}"),
        rest => format!("£{grouped}.{rest:02}"),
    }
}

#[derive(Template)]
#[template(path = "home.html")]
struct Home {
    layout: Layout,
    cards: Vec<Card>,
    mediums: Vec<(&'static str, &'static str)>,
}

/// The front page: new works, and the mediums as ways in.
async fn home(State(state): State<AppState>) -> ApiResult<Response> {
    let newest = Filter::from_pairs(&[("ordering".to_owned(), "-created".to_owned())])?;
    let works = browse::page_only(&state, &newest, Page { page: 1, per_page: 12 }).await?;
    let mediums = artworks::Medium::ALL.iter().map(|m| (m.as_str(), m.label())).collect();
    page(Home {
        layout: Layout::new("OpenStudio — original art from independent artists"),
        cards: works.into_iter().map(Card::from).collect(),
        mediums,
    })
}

#[derive(Template)]
#[template(path = "not_found.html")]
struct NotFound {
    layout: Layout,
    message: &'static str,
}

#[derive(Template)]
#[template(path = "artwork.html")]
struct ArtworkPage {
    layout: Layout,
    work: Artwork,
    price: String,
}

/// The page for something that is not here, with a 404.
fn not_found(message: &'static str) -> ApiResult<Response> {
    let layout = Layout::new("Not found — OpenStudio");
    Ok((StatusCode::NOT_FOUND, page(NotFound { layout, message })?).into_response())
}

/// One artwork: its images, who made it, what it is, and its price.
async fn artwork(State(state): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let work = match artworks::find(&state, id).await {
        Ok(work) => work,
        Err(ApiError::NotFound(_)) => return not_found("This artwork is not on show: it may have been withdrawn."),
        Err(e) => return Err(e),
    };
    let title = format!(
        "{} by {} {} — OpenStudio",
        work.title, work.artist.first_name, work.artist.last_name
    );
    page(ArtworkPage {
        layout: Layout::new(title),
        price: pounds(work.price),
        work,
    })
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
async fn artist(State(state): State<AppState>, Id(id): Id) -> ApiResult<Response> {
    let mut artist = match artists::page(&state, id).await {
        Ok(artist) => artist,
        Err(ApiError::NotFound(_)) => return not_found("There is no artist here."),
        Err(e) => return Err(e),
    };
    let cards = std::mem::take(&mut artist.artworks)
        .into_iter()
        .map(Card::from)
        .collect();
    page(ArtistView {
        layout: Layout::new(format!("{} {} — OpenStudio", artist.first_name, artist.last_name)),
        member_since: artist.member_since.format("%B %Y").to_string(),
        artist,
        cards,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_read_as_pounds() {
        assert_eq!(pounds(Money::from_hundredths(41000)), "£410");
        assert_eq!(pounds(Money::from_hundredths(125050)), "£1,250.50");
        assert_eq!(pounds(Money::from_hundredths(5)), "£0.05");
        assert_eq!(pounds(Money::from_hundredths(999_999_999)), "£9,999,999.99");
    }
}
