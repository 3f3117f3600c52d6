//! The web face: the marketplace's own pages, rendered on the server from templates
//! compiled into the binary, over the same domain operations as the JSON API.
//!
//! Every page and form works without JavaScript: links, GET forms for searching, POST
//! forms answered with a redirect. With JavaScript, htmx swaps the part of the page that
//! changed (`hx-select` picks it out of the same page the server renders for a plain
//! request), so there is one template per page and no fragment endpoints.

mod account;
mod assets;
mod catalogue;
mod errors;
mod orders;
pub mod session;
mod staff;
mod studio;

use askama::Template;
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{Map, Value};

use crate::artworks::Artwork;
use crate::error::{ApiError, FieldErrors};
use crate::members::Member;
use crate::money::Money;
use crate::state::AppState;

pub use errors::{as_page, is_page};
use session::Visitor;

/// Pages: scripts, styles and fonts from here only; images from here or any https host
/// (artworks may point at an image host); forms post here only; never framed.
pub const PAGE_CSP: &str =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' https: data: blob:; \
     connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(catalogue::home))
        .route("/artworks", get(catalogue::marketplace))
        .route("/artworks/{id}", get(catalogue::artwork))
        .route("/artworks/{id}/gallery", post(catalogue::toggle_gallery))
        .route("/artworks/{id}/buy", post(catalogue::buy))
        .route("/artists/{id}", get(catalogue::artist))
        .route("/register", get(account::register_page).post(account::register))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route("/account", get(account::account_page).post(account::update_profile))
        .route("/account/password", post(account::change_password))
        .route("/gallery", get(orders::gallery))
        .route("/purchases", get(orders::purchases))
        .route("/orders/{id}", get(orders::order))
        .route("/orders/{id}/{action}", post(orders::act))
        .route("/studio", get(studio::artworks))
        .route("/studio/orders", get(orders::sales))
        // The artwork form carries images: its own limit (see `studio::read_form`).
        .route(
            "/studio/new",
            get(studio::new_page)
                .post(studio::create)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/studio/artworks/{id}",
            get(studio::edit_page)
                .post(studio::update)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/studio/artworks/{id}/withdraw", post(studio::withdraw))
        .route("/staff/orders", get(staff::orders))
        .route("/staff/galleries", get(staff::galleries))
        .route("/static/{file}", get(assets::serve))
}

/// A rendered page with the pages' security policy, and what the visitor's cookies need.
fn page(state: &AppState, visitor: &Visitor, template: impl Template) -> PageResult {
    page_with(state, visitor, StatusCode::OK, template)
}

fn page_with(state: &AppState, visitor: &Visitor, status: StatusCode, template: impl Template) -> PageResult {
    let html = template.render().map_err(|e| ApiError::Internal(e.into()))?;
    let mut response = (status, Html(html)).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    visitor.finish(state, &mut response);
    Ok(response)
}

/// After a form: see the page that shows its result.
fn see(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Why a page is not shown: the visitor must log in first (and is sent to do so, then
/// back here), or an error, shown as its page.
pub enum Refusal {
    LogInFirst(String),
    Error(ApiError),
}

impl From<ApiError> for Refusal {
    fn from(error: ApiError) -> Self {
        Self::Error(error)
    }
}

impl From<sqlx::Error> for Refusal {
    fn from(error: sqlx::Error) -> Self {
        Self::Error(error.into())
    }
}

impl From<crate::db::ReadFault> for Refusal {
    fn from(error: crate::db::ReadFault) -> Self {
        Self::Error(error.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Self::LogInFirst(here) => {
                let next: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
                see(&format!("/login?next={next}"))
            }
            Self::Error(error) => error.into_response(),
        }
    }
}

/// What a page handler answers.
pub type PageResult = Result<Response, Refusal>;

/// The logged-in member; the anonymous are sent to log in, and back here afterwards.
fn signed_in(visitor: &Visitor, uri: &Uri) -> Result<Member, Refusal> {
    visitor
        .member
        .clone()
        .ok_or_else(|| Refusal::LogInFirst(uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned()))
}

/// The logged-in member if they hold a role; 403 with `refusal` for anyone else.
fn holding(visitor: &Visitor, uri: &Uri, role: fn(&Member) -> bool, refusal: &str) -> Result<Member, Refusal> {
    let member = signed_in(visitor, uri)?;
    if role(&member) {
        Ok(member)
    } else {
        Err(ApiError::forbidden(refusal).into())
    }
}

/// What every page's layout needs.
pub struct Layout {
    pub title: String,
    pub stylesheet: &'static str,
    pub htmx: &'static str,
    pub script: &'static str,
    pub nav: Nav,
}

/// The navigation: who is logged in, where they go, and their unread orders.
#[derive(Default)]
pub struct Nav {
    pub name: Option<String>,
    pub artist: bool,
    pub collector: bool,
    pub staff: bool,
    pub unviewed: i64,
    /// The logout form's token; empty for the anonymous.
    pub csrf: String,
    /// Which part of the site this page is in, to mark its link.
    pub section: &'static str,
}

impl Layout {
    fn new(state: &AppState, visitor: &Visitor, title: impl Into<String>) -> Self {
        let nav = match &visitor.member {
            Some(member) => Nav {
                name: Some(format!("{} {}", member.first_name, member.last_name)),
                artist: member.is_artist(),
                collector: member.is_collector(),
                staff: member.is_staff,
                unviewed: visitor.unviewed,
                csrf: visitor.form_token(state),
                section: "",
            },
            None => Nav::default(),
        };
        Self::with_nav(title, nav)
    }

    /// A layout that knows nothing of the visitor (the error pages).
    fn plain(title: impl Into<String>) -> Self {
        Self::with_nav(title, Nav::default())
    }

    fn with_nav(title: impl Into<String>, nav: Nav) -> Self {
        Self {
            title: title.into(),
            stylesheet: assets::stylesheet(),
            htmx: assets::htmx(),
            script: assets::studio(),
            nav,
        }
    }

    fn in_section(mut self, section: &'static str) -> Self {
        self.nav.section = section;
        self
    }
}

/// A form as it is shown again after a failure: what was typed (never passwords), and
/// what to fix, beside each field.
#[derive(Default)]
pub struct FormView {
    values: Map<String, Value>,
    errors: FieldErrors,
    /// What went wrong as a whole (a failed login, a conflict).
    pub summary: Option<String>,
}

impl FormView {
    fn failed(mut values: Map<String, Value>, errors: FieldErrors, summary: Option<String>) -> Self {
        for secret in [
            "password",
            "password_confirmation",
            "current_password",
            "new_password",
            "new_password_confirmation",
        ] {
            values.remove(secret);
        }
        Self {
            values,
            errors,
            summary,
        }
    }

    /// What was typed in a field (the first value of a repeated one).
    pub fn value(&self, key: &str) -> &str {
        match self.values.get(key) {
            Some(Value::String(text)) => text,
            Some(Value::Array(list)) => list.first().and_then(Value::as_str).unwrap_or(""),
            _ => "",
        }
    }

    pub fn errors<'a>(&'a self, key: &'a str) -> Vec<&'a str> {
        self.errors.of(key).collect()
    }

    pub fn is_invalid(&self, key: &str) -> bool {
        self.errors.has(key)
    }

    fn prefilled(values: Map<String, Value>) -> Self {
        Self {
            values,
            ..Self::default()
        }
    }
}

/// A failure the person can fix, as the form shows it with its status; anything else
/// (the database down, a bug) stays an error for the error page.
fn form_failure(error: ApiError, values: Map<String, Value>) -> Result<(StatusCode, FormView), ApiError> {
    let status = error.status();
    let (errors, summary) = match error {
        ApiError::Validation { message, errors } => (
            errors,
            Some(message.unwrap_or("Please correct the fields marked below.").to_owned()),
        ),
        ApiError::InvalidCredentials => (FieldErrors::default(), Some("Invalid email or password.".to_owned())),
        ApiError::TooManyRequests { detail, .. } => (FieldErrors::default(), Some(detail)),
        ApiError::Conflict { detail, .. } | ApiError::BadRequest(detail) | ApiError::Forbidden(detail) => {
            (FieldErrors::default(), Some(detail))
        }
        other => return Err(other),
    };
    Ok((status, FormView::failed(values, errors, summary)))
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

/// A date as people read it: `3 March 2026`.
pub fn day(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%-d %B %Y").to_string()
}

/// The page a query or a form names: a number from 1 to 100,000.
pub fn page_number(text: &str) -> Option<i64> {
    text.trim().parse().ok().filter(|n| (1..=100_000).contains(n))
}

/// A list page's query: its pairs (empty values left out) and the page it asks for (the
/// first when absent or out of range).
pub fn list_query(query: Option<&str>) -> (Vec<(String, String)>, i64) {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .filter(|(_, v)| !v.trim().is_empty())
        .collect();
    let page = pairs
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| page_number(v))
        .unwrap_or(1);
    (pairs, page)
}

/// `?page=N` for a form's `page` field when it names a page after the first, else
/// nothing: where a list's form sends the visitor back to.
pub fn page_query(fields: &serde_json::Map<String, serde_json::Value>) -> String {
    match fields
        .get("page")
        .and_then(serde_json::Value::as_str)
        .and_then(page_number)
    {
        Some(n) if n > 1 => format!("?page={n}"),
        _ => String::new(),
    }
}

/// Numbered pages: the links around the current one.
pub struct Pager {
    pub current: i64,
    pub last: i64,
    pub total: i64,
    /// The query string without `page`, to which each link adds its number.
    pub base: String,
}

impl Pager {
    fn new(total: i64, current: i64, per_page: i64, pairs: &[(String, String)]) -> Self {
        let last = ((total + per_page - 1) / per_page).max(1);
        let kept: Vec<(&str, &str)> = pairs
            .iter()
            .filter(|(key, value)| key != "page" && !value.is_empty())
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let base = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(kept)
            .finish();
        Self {
            current,
            last,
            total,
            base,
        }
    }

    /// The page numbers to show: the first, the last and those near the current one;
    /// `None` for a gap.
    pub fn numbers(&self) -> Vec<Option<i64>> {
        let mut shown = Vec::new();
        for n in 1..=self.last {
            if n == 1 || n == self.last || (n - self.current).abs() <= 2 {
                shown.push(Some(n));
            } else if shown.last() != Some(&None) {
                shown.push(None);
            }
        }
        shown
    }

    pub fn href(&self, n: impl std::borrow::Borrow<i64>) -> String {
        let n = *n.borrow();
        if self.base.is_empty() {
            format!("?page={n}")
        } else {
            format!("?{}&page={n}", self.base)
        }
    }
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

    #[test]
    fn pagers_show_the_ends_and_the_neighbourhood() {
        let pairs = vec![
            ("q".to_owned(), "blue sea".to_owned()),
            ("page".to_owned(), "7".to_owned()),
            ("medium".to_owned(), String::new()),
        ];
        let pager = Pager::new(241, 7, 24, &pairs);
        assert_eq!(pager.last, 11);
        assert_eq!(
            pager.numbers(),
            vec![
                Some(1),
                None,
                Some(5),
                Some(6),
                Some(7),
                Some(8),
                Some(9),
                None,
                Some(11)
            ]
        );
        assert_eq!(pager.href(8), "?q=blue+sea&page=8");
        assert_eq!(Pager::new(0, 1, 24, &[]).numbers(), vec![Some(1)]);
    }
}
