//! The galleries' routes: each collector's curated set of artworks.

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::Message;
use crate::artworks::Artwork;
use crate::auth::{CurrentMember, Staff};
use crate::error::{ApiError, ApiResult};
use crate::galleries::{self, GalleryEntry, GallerySummary};
use crate::input::{id, Fields, Id, JsonBody, OptionalJsonBody};
use crate::paging::{query_pairs, stream_array, Cursor, Page, Paging};
use crate::state::AppState;

/// A collector's own gallery, a page of it.
#[derive(Serialize, ToSchema)]
pub struct GalleryView {
    id: i64,
    curator: i64,
    artworks: Vec<Artwork>,
    total: i64,
    page: i64,
    per_page: i64,
}

/// The caller's gallery with its artworks, a page at a time (collectors only).
#[utoipa::path(get, path = "/api/galleries/my-gallery/", tag = "galleries", params(("page" = Option<i64>, Query, description = "Page number, from 1"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The caller's gallery", body = GalleryView), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn get_my_gallery(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<(HeaderMap, Json<GalleryView>)> {
    let id = member
        .gallery_id
        .ok_or_else(|| ApiError::not_found("Gallery not found for this user."))?;
    let page = Page::from_pairs(&query_pairs(&uri))?;
    let total = galleries::count(&state.db, id).await?;
    let (entries, _) = galleries::entries(&state, id, Some(page), Cursor::default()).await?;
    let artworks = entries.into_iter().map(|entry| entry.artwork).collect();
    let (page_number, per_page) = (page.page, page.per_page);
    let view = GalleryView {
        id,
        curator: member.id,
        artworks,
        total,
        page: page_number,
        per_page,
    };
    Ok((page.headers(&uri, total), Json(view)))
}

/// The entries of the caller's own gallery: a page, or without `page` and `per_page`
/// all of them.
#[utoipa::path(get, path = "/api/galleries/{id}/artworks/", tag = "galleries", params(("id" = i64, Path, description = "Id"), ("page" = Option<i64>, Query, description = "Page number, from 1. With neither page nor per_page, the whole list is returned, streamed"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The gallery's entries", body = Vec<GalleryEntry>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_gallery_artworks(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(gallery_id): Id,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    galleries::own(member.gallery_id, gallery_id)?;
    let paging = Paging::from_pairs(&query_pairs(&uri))?;
    let total = galleries::count(&state.db, gallery_id).await?;
    let headers = paging.headers(&uri, total);
    match paging {
        Paging::Page(page) => {
            let (entries, _) = galleries::entries(&state, gallery_id, Some(page), Cursor::default()).await?;
            Ok((headers, Json(entries)).into_response())
        }
        Paging::Whole => Ok(stream_array(headers, state.first_chunk(), move |cursor| {
            let state = state.clone();
            async move { galleries::entries(&state, gallery_id, None, cursor).await }
        })),
    }
}

/// Adds an artwork to the caller's gallery; adding it again changes nothing.
#[utoipa::path(post, path = "/api/galleries/{id}/curate/", tag = "galleries", params(("id" = i64, Path, description = "Id")), request_body(content = Curate, content_type = "application/json"), responses((status = 201, description = "Added", body = Message), (status = 200, description = "Already there", body = Message), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn add_to_gallery(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(gallery_id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Message>)> {
    galleries::own(member.gallery_id, gallery_id)?;
    let Curate { artwork } = Curate::read(&body)?;
    Ok(match galleries::add(&state, gallery_id, artwork).await? {
        true => (StatusCode::CREATED, Json(Message::new("Artwork added to the gallery!"))),
        false => (StatusCode::OK, Json(Message::new("Artwork is already in the gallery."))),
    })
}

/// Removes an artwork (`{"artwork": id}` or `?artwork=id`) from the caller's gallery.
#[utoipa::path(delete, path = "/api/galleries/{id}/curate/", tag = "galleries", params(("id" = i64, Path, description = "Id"), ("artwork" = Option<i64>, Query, description = "Or {\"artwork\": id} in the body")), responses((status = 204, description = "Removed"), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn remove_from_gallery(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(gallery_id): Id,
    OriginalUri(uri): OriginalUri,
    OptionalJsonBody(mut body): OptionalJsonBody,
) -> ApiResult<StatusCode> {
    galleries::own(member.gallery_id, gallery_id)?;
    if !body.contains_key("artwork") {
        if let Some((_, value)) = query_pairs(&uri).into_iter().find(|(k, _)| k == "artwork") {
            body.insert("artwork".into(), Value::String(value));
        }
    }
    let Curate { artwork } = Curate::read(&body)?;
    galleries::remove(&state.db, gallery_id, artwork).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every gallery, a page at a time (staff only).
#[utoipa::path(get, path = "/api/galleries/all/", tag = "galleries", params(("page" = Option<i64>, Query, description = "Page number, from 1"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "Every gallery (staff)", body = Vec<GallerySummary>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_galleries(
    State(state): State<AppState>,
    Staff(_): Staff,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<(HeaderMap, Json<Vec<GallerySummary>>)> {
    let page = Page::from_pairs(&query_pairs(&uri))?;
    let (total, galleries) = galleries::summaries(&state.db, page, false).await?;
    Ok((page.headers(&uri, total), Json(galleries)))
}

/// An artwork to add to, or remove from, a gallery.
#[derive(ToSchema)]
pub struct Curate {
    artwork: i64,
}

impl Curate {
    fn read(body: &Map<String, Value>) -> ApiResult<Self> {
        let mut f = Fields::new(body);
        match f.required("artwork", id()) {
            Some(artwork) => Ok(Self { artwork }),
            None => Err(ApiError::invalid(f.errors)),
        }
    }
}
