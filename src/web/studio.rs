//! The artist's studio: their artworks with stock and orders; creating and editing an
//! artwork with its images uploaded from the page; withdrawing one.

use askama::Template;
use axum::extract::multipart::{Multipart, MultipartError};
use axum::extract::{FromRequest, FromRequestParts, RawQuery, Request, State};
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use serde_json::{Map, Value};

use super::session::{check_token, fields_of, Posted, Visitor};
use super::{
    form_failure, holding, list_query, page, page_query, page_with, pounds, see, FormView, Layout, PageResult, Pager,
    Refusal,
};
use crate::artworks::browse::{self, Filter};
use crate::artworks::{self, Artwork, ArtworkInput, Medium};
use crate::error::{ApiError, ApiResult};
use crate::input::Id;
use crate::media::{self, MAX_FILES};
use crate::members::Member;
use crate::orders;
use crate::paging::Page;
use crate::state::AppState;

/// One of the artist's works as a row of the studio.
pub struct Listed {
    id: i64,
    title: String,
    thumb: Option<String>,
    price: String,
    stock: i64,
    for_sale: bool,
    orders: i64,
}

/// Works a page of the studio lists.
const PER_PAGE: i64 = 50;

#[derive(Template)]
#[template(path = "studio.html")]
struct StudioPage {
    layout: Layout,
    csrf: String,
    works: Vec<Listed>,
    pager: Pager,
}

/// The artist's artworks, newest first, in numbered pages: stock, whether on sale, how
/// many orders each has had.
pub async fn artworks(
    State(state): State<AppState>,
    visitor: Visitor,
    uri: Uri,
    RawQuery(query): RawQuery,
) -> PageResult {
    let member = holding(&visitor, &uri, Member::is_artist, "Only artists have a studio.")?;
    let filter = Filter {
        artist: Some(member.id),
        ..Filter::default()
    };
    let (pairs, number) = list_query(query.as_deref());
    let page_of = Page {
        page: number,
        per_page: PER_PAGE,
    };
    let (total, works) = browse::page(&state, &filter, page_of).await?;
    let pager = Pager::new(total, number, PER_PAGE, &pairs);
    if number > pager.last {
        // Past the end (works withdrawn since the link was made): the last page.
        return Ok(see(&format!("/studio{}", pager.href(pager.last))));
    }
    let counts = orders::counts_by_artwork(&state.db, member.id).await?;
    let works = works
        .into_iter()
        .map(|work| Listed {
            orders: counts.iter().find(|(id, _)| *id == work.id).map_or(0, |(_, n)| *n),
            thumb: work
                .artworks_images
                .first()
                .map(|i| i.thumbnail_url.clone().unwrap_or_else(|| i.image_url.clone())),
            id: work.id,
            price: pounds(work.price),
            stock: work.quantity_for_sale,
            for_sale: work.is_for_sale,
            title: work.title,
        })
        .collect();
    let template = StudioPage {
        layout: Layout::new(&state, &visitor, "Your studio — OpenStudio").in_section("studio"),
        csrf: visitor.form_token(&state),
        works,
        pager,
    };
    page(&state, &visitor, template)
}

/// An image already attached (or uploaded with a form that failed), kept unless unticked.
pub struct Kept {
    url: String,
    thumb: String,
}

#[derive(Template)]
#[template(path = "artwork_form.html")]
struct ArtworkForm {
    layout: Layout,
    csrf: String,
    /// The artwork being edited; None for a new one.
    id: Option<i64>,
    form: FormView,
    mediums: Vec<(&'static str, &'static str)>,
    kept: Vec<Kept>,
    for_sale: bool,
    max_files: usize,
}

fn form_template(
    state: &AppState,
    visitor: &Visitor,
    id: Option<i64>,
    form: FormView,
    kept: Vec<Kept>,
    for_sale: bool,
) -> ArtworkForm {
    let title = if id.is_some() { "Edit artwork" } else { "A new artwork" };
    ArtworkForm {
        layout: Layout::new(state, visitor, format!("{title} — OpenStudio")).in_section("studio"),
        csrf: visitor.form_token(state),
        id,
        form,
        mediums: Medium::ALL.iter().map(|m| (m.as_str(), m.label())).collect(),
        kept,
        for_sale,
        max_files: MAX_FILES,
    }
}

pub async fn new_page(State(state): State<AppState>, visitor: Visitor, uri: Uri) -> PageResult {
    holding(&visitor, &uri, Member::is_artist, "Only artists have a studio.")?;
    let mut values = Map::new();
    values.insert("quantity_for_sale".into(), Value::String("1".into()));
    let template = form_template(&state, &visitor, None, FormView::prefilled(values), Vec::new(), true);
    page(&state, &visitor, template)
}

/// The artwork's fields as the form shows them.
fn values_of(work: &Artwork) -> Map<String, Value> {
    let mut values = Map::new();
    let text = |v: String| Value::String(v);
    values.insert("title".into(), text(work.title.clone()));
    values.insert("description".into(), text(work.description.clone()));
    values.insert("year".into(), text(work.year.to_string()));
    values.insert("price".into(), text(work.price.to_string()));
    values.insert("quantity_for_sale".into(), text(work.quantity_for_sale.to_string()));
    values.insert("medium".into(), text(work.medium.as_str().to_owned()));
    values.insert("material".into(), text(work.material.clone()));
    values.insert("width".into(), text(work.width.to_string()));
    values.insert("height".into(), text(work.height.to_string()));
    values.insert("depth".into(), text(work.depth.to_string()));
    values.insert("weight".into(), text(work.weight.to_string()));
    values
}

/// The artist's own visible artwork; anyone else's is not found.
async fn own_artwork(state: &AppState, member: &Member, id: i64) -> ApiResult<Artwork> {
    let work = artworks::find(state, id).await?;
    if work.artist.id != member.id {
        return Err(ApiError::not_found("Artwork not found."));
    }
    Ok(work)
}

fn kept_of(work: &Artwork) -> Vec<Kept> {
    work.artworks_images
        .iter()
        .map(|i| Kept {
            url: i.image_url.clone(),
            thumb: i.thumbnail_url.clone().unwrap_or_else(|| i.image_url.clone()),
        })
        .collect()
}

pub async fn edit_page(State(state): State<AppState>, visitor: Visitor, uri: Uri, Id(id): Id) -> PageResult {
    let member = holding(&visitor, &uri, Member::is_artist, "Only artists have a studio.")?;
    let work = own_artwork(&state, &member, id).await?;
    let template = form_template(
        &state,
        &visitor,
        Some(id),
        FormView::prefilled(values_of(&work)),
        kept_of(&work),
        work.listed,
    );
    page(&state, &visitor, template)
}

/// The most text fields, and the longest, the artwork form is read with.
const MAX_TEXT_FIELDS: usize = 64;
const MAX_TEXT_BYTES: usize = 16 * 1024;

/// What the artwork form sent: its fields, and the images in their order (the cover
/// first, then the kept ones, then the new uploads in the order they were chosen).
struct Sent {
    fields: Map<String, Value>,
    images: Vec<String>,
}

fn multipart_error(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("The images are larger than the limit.".into())
    } else {
        ApiError::BadRequest(format!("The form could not be read: {}", error.body_text()))
    }
}

/// Reads the multipart form: its token first (nothing is stored for a forged form),
/// then the fields, storing each image through the upload pipeline as it arrives.
async fn read_form(state: &AppState, visitor: &Visitor, member: &Member, request: Request) -> ApiResult<Sent> {
    let limit = (MAX_FILES as u64 * state.media.max_upload_bytes + 1024 * 1024).min(usize::MAX as u64) as usize;
    let request = request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|e| ApiError::UnsupportedMediaType(e.body_text()))?;
    let mut pairs = Vec::new();
    let mut uploaded = Vec::new();
    let mut checked = false;
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        if !checked {
            let token = if name == "csrf" {
                field.text().await.map_err(multipart_error)?
            } else {
                String::new()
            };
            check_token(visitor, state, &token)?;
            checked = true;
            continue;
        }
        if name == "file" {
            let empty_picker = field.file_name().is_none_or(str::is_empty);
            let mut bytes = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if (bytes.len() + chunk.len()) as u64 > state.media.max_upload_bytes {
                    return Err(ApiError::field(
                        "artworks_images",
                        format!(
                            "Each image may be at most {} MB.",
                            state.media.max_upload_bytes / 1_000_000
                        ),
                    ));
                }
                bytes.extend_from_slice(&chunk);
            }
            if empty_picker && bytes.is_empty() {
                continue;
            }
            if uploaded.len() == MAX_FILES {
                return Err(ApiError::field(
                    "artworks_images",
                    format!("Upload at most {MAX_FILES} images at once."),
                ));
            }
            let upload = media::store_upload(state, member.id, bytes)
                .await
                .map_err(|e| match e {
                    ApiError::Validation { errors, .. } => {
                        ApiError::field("artworks_images", errors.messages().join(" "))
                    }
                    ApiError::UnsupportedMediaType(detail) => ApiError::field("artworks_images", detail),
                    other => other,
                })?;
            uploaded.push(upload.image_url);
        } else {
            // A text field is short; the form has a few dozen at most.
            if pairs.len() == MAX_TEXT_FIELDS {
                return Err(ApiError::BadRequest("The form has too many fields.".into()));
            }
            let mut text = Vec::new();
            while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                if text.len() + chunk.len() > MAX_TEXT_BYTES {
                    return Err(ApiError::PayloadTooLarge(format!("The field {name} is too long.")));
                }
                text.extend_from_slice(&chunk);
            }
            pairs.push((name, String::from_utf8_lossy(&text).into_owned()));
        }
    }
    if !checked {
        return Err(super::session::forged());
    }
    let mut fields = fields_of(pairs);
    let mut kept: Vec<String> = match fields.remove("keep") {
        Some(Value::String(url)) => vec![url],
        Some(Value::Array(urls)) => urls.into_iter().filter_map(|u| u.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    };
    if let Some(Value::String(cover)) = fields.remove("cover") {
        if let Some(at) = kept.iter().position(|url| *url == cover) {
            let cover = kept.remove(at);
            kept.insert(0, cover);
        }
    }
    kept.extend(uploaded);
    // An unticked box sends nothing: on sale only when ticked.
    let for_sale = fields.remove("is_for_sale").is_some();
    fields.insert("is_for_sale".into(), Value::Bool(for_sale));
    Ok(Sent { fields, images: kept })
}

/// The form again with what to fix, keeping what was typed and the images stored.
fn failed(state: &AppState, visitor: &Visitor, id: Option<i64>, error: ApiError, sent: Sent) -> PageResult {
    let for_sale = sent.fields.get("is_for_sale").and_then(Value::as_bool).unwrap_or(true);
    let kept = sent
        .images
        .iter()
        .map(|url| Kept {
            thumb: url.clone(),
            url: url.clone(),
        })
        .collect();
    let (status, form) = form_failure(error, sent.fields)?;
    page_with(
        state,
        visitor,
        status,
        form_template(state, visitor, id, form, kept, for_sale),
    )
}

/// A form's problems before or while its images are read are shown on an empty form.
async fn read_or_show(
    state: &AppState,
    visitor: &Visitor,
    member: &Member,
    id: Option<i64>,
    request: Request,
) -> Result<Result<Sent, Response>, Refusal> {
    match read_form(state, visitor, member, request).await {
        Ok(sent) => Ok(Ok(sent)),
        Err(error @ ApiError::Validation { .. }) => {
            let empty = Sent {
                fields: Map::new(),
                images: Vec::new(),
            };
            Ok(Err(failed(state, visitor, id, error, empty)?))
        }
        Err(other) => Err(other.into()),
    }
}

pub async fn create(State(state): State<AppState>, uri: Uri, request: Request) -> PageResult {
    let (mut parts, body) = request.into_parts();
    let visitor = Visitor::from_request_parts(&mut parts, &state).await?;
    let member = holding(&visitor, &uri, Member::is_artist, "Only artists have a studio.")?;
    let request = Request::from_parts(parts, body);
    let mut sent = match read_or_show(&state, &visitor, &member, None, request).await? {
        Ok(sent) => sent,
        Err(page) => return Ok(page),
    };
    sent.fields.insert(
        "artworks_images".into(),
        Value::Array(sent.images.iter().cloned().map(Value::String).collect()),
    );
    let created = match ArtworkInput::read(&sent.fields, state.clock.now(), false) {
        Ok(input) => artworks::create(&state, &member, input).await,
        Err(error) => Err(error),
    };
    match created {
        Ok(work) => Ok(see(&format!("/artworks/{}", work.id))),
        Err(error) => failed(&state, &visitor, None, error, sent),
    }
}

pub async fn update(State(state): State<AppState>, uri: Uri, Id(id): Id, request: Request) -> PageResult {
    let (mut parts, body) = request.into_parts();
    let visitor = Visitor::from_request_parts(&mut parts, &state).await?;
    let member = holding(&visitor, &uri, Member::is_artist, "Only artists have a studio.")?;
    let request = Request::from_parts(parts, body);
    let mut sent = match read_or_show(&state, &visitor, &member, Some(id), request).await? {
        Ok(sent) => sent,
        Err(page) => return Ok(page),
    };
    sent.fields.insert(
        "artworks_images".into(),
        Value::Array(sent.images.iter().cloned().map(Value::String).collect()),
    );
    match artworks::update(&state, &member, id, &sent.fields).await {
        Ok(work) => Ok(see(&format!("/artworks/{}", work.id))),
        Err(error) => failed(&state, &visitor, Some(id), error, sent),
    }
}

/// Withdraws an artwork: its open orders are cancelled and their buyers told.
pub async fn withdraw(
    State(state): State<AppState>,
    uri: Uri,
    Id(id): Id,
    Posted { visitor, fields }: Posted,
) -> PageResult {
    let member = holding(&visitor, &uri, Member::is_artist, "Only artists have a studio.")?;
    artworks::withdraw(&state, &member, id).await?;
    // Back to the page of the studio the work was withdrawn from.
    Ok(see(&format!("/studio{}", page_query(&fields))))
}
