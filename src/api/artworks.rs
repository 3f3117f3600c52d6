//! The artworks' routes: the catalogue, an artwork, its images, its shipping quote, and
//! its artist's page.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use axum::Json;

use super::json_response;
use crate::artworks::artists::{self, ArtistPage};
use crate::artworks::browse::{self, Filter};
use crate::artworks::images::{self, ImageUrl};
use crate::artworks::{self, quote, Artwork, ArtworkInput, Image};
use crate::auth::{Artist, CurrentMember, MaybeMember};
use crate::error::ApiResult;
use crate::input::{Id, JsonBody};
use crate::paging::{query_pairs, stream_ranges, Paging};
use crate::shipping::Quote;
use crate::state::AppState;

/// Lists the artworks on show: filtered, searched, ordered, a page at a time. The body
/// is a plain array; `X-Total-Count` and `Link` carry the paging.
#[utoipa::path(get, path = "/api/artworks/", tag = "artworks", params(("q" = Option<String>, Query, description = "Words in title, description, material or artist name"), ("medium" = Option<Vec<crate::artworks::Medium>>, Query, description = "Repeatable"), ("artist" = Option<i64>, Query), ("min_price" = Option<f64>, Query), ("max_price" = Option<f64>, Query), ("for_sale" = Option<bool>, Query), ("year_min" = Option<i64>, Query), ("year_max" = Option<i64>, Query), ("ordering" = Option<String>, Query, description = "price, -price, year, -year, created, -created or title"), ("page" = Option<i64>, Query, description = "Page number, from 1. With neither page nor per_page, the whole list is returned, streamed"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The artworks, or one page of them; X-Total-Count and Link carry the paging", body = Vec<crate::artworks::Artwork>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn list_artworks(
    State(state): State<AppState>,
    MaybeMember(_): MaybeMember,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    let pairs = query_pairs(&uri);
    let filter = Filter::from_pairs(&pairs)?;
    let Paging::Page(page) = Paging::from_pairs(&pairs)? else {
        return list_whole(state, filter, &uri).await;
    };
    // Pages are cached until the catalogue changes. The key is the parsed request, not
    // the raw query string: unknown parameters and spelling variants cannot fill the
    // cache with copies of one page.
    let key = format!("{filter:?}|{page:?}");
    if let Some(cached) = state.catalogue.get(&key) {
        return Ok(json_response(page.headers(&uri, cached.total), cached.body));
    }
    let generation = state.catalogue.generation();
    let (total, body) = browse::page_json(&state, &filter, page).await?;
    state.catalogue.put(&key, generation, total, body.clone());
    Ok(json_response(page.headers(&uri, total), body))
}

/// The whole list, as the first version's client loads it: streamed in chunks, never
/// cached.
async fn list_whole(state: AppState, filter: Filter, uri: &Uri) -> ApiResult<Response> {
    // Found once: every chunk pages through the same matches.
    let filter = browse::searched(&state, &filter).await?.into_owned();
    let total = browse::count(&state, &filter).await?;
    let filter = Arc::new(filter);
    let ends = (state.clone(), Arc::clone(&filter));
    Ok(stream_ranges(
        Paging::Whole.headers(uri, total),
        state.first_chunk(),
        move |from| {
            let (state, filter) = ends.clone();
            async move { browse::range_end(&state, &filter, from).await }
        },
        move |cursor| {
            let (state, filter) = (state.clone(), Arc::clone(&filter));
            async move { browse::chunk(&state, &filter, cursor).await }
        },
    ))
}

/// Lists a new artwork for the calling artist (collectors are refused).
#[utoipa::path(post, path = "/api/artworks/", tag = "artworks", request_body(content = ArtworkInput, content_type = "application/json"), responses((status = 201, description = "Created", body = Artwork), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn create_artwork(
    State(state): State<AppState>,
    Artist(member): Artist,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Artwork>)> {
    let input = ArtworkInput::read(&body, state.clock.now(), false)?;
    let artwork = artworks::create(&state, &member, input).await?;
    Ok((StatusCode::CREATED, Json(artwork)))
}

/// The first version's path for creating an artwork.
#[utoipa::path(post, path = "/api/artworks/create/", tag = "artworks", request_body(content = ArtworkInput, content_type = "application/json"), responses((status = 201, description = "Created", body = Artwork), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn create_artwork_legacy(
    state: State<AppState>,
    artist: Artist,
    body: JsonBody,
) -> ApiResult<(StatusCode, Json<Artwork>)> {
    create_artwork(state, artist, body).await
}

/// One artwork with its artist and images.
#[utoipa::path(get, path = "/api/artworks/{id}/", tag = "artworks", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "The artwork", body = Artwork), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn get_artwork(
    State(state): State<AppState>,
    MaybeMember(_): MaybeMember,
    Id(id): Id,
) -> ApiResult<Response> {
    let body = artworks::find_json(&state, id).await?;
    Ok(json_response(HeaderMap::new(), Bytes::from(body)))
}

/// Updates some or all of an artwork's fields (PUT and PATCH alike); a non-empty
/// `artworks_images` list replaces the images.
#[utoipa::path(method(put, patch), path = "/api/artworks/{id}/", tag = "artworks", params(("id" = i64, Path, description = "Id")), request_body(content = ArtworkInput, content_type = "application/json"), responses((status = 200, description = "Updated", body = Artwork), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn update_artwork(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Artwork>> {
    Ok(Json(artworks::update(&state, &member, id, &body).await?))
}

/// Withdraws an artwork. Without orders it is erased; with orders it is archived
/// (hidden, kept for its orders), its open orders cancelled and their buyers notified.
/// Refused while an order is paid and not yet delivered.
#[utoipa::path(delete, path = "/api/artworks/{id}/", tag = "artworks", params(("id" = i64, Path, description = "Id")), responses((status = 204, description = "Deleted, or archived when it has orders"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 409, description = "Conflicts with the current state", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn delete_artwork(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    artworks::withdraw(&state, &member, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What shipping an artwork to a UK postcode costs: `?postcode=…`, or a logged-in
/// collector's own postcode when none is given.
#[utoipa::path(get, path = "/api/artworks/{id}/shipping-quote/", tag = "artworks", params(("id" = i64, Path, description = "Id"), ("postcode" = Option<String>, Query, description = "UK postcode; a collector's own when omitted")), responses((status = 200, description = "The quote", body = Quote), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn quote_shipping(
    State(state): State<AppState>,
    MaybeMember(member): MaybeMember,
    Id(id): Id,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Quote>> {
    let pairs = query_pairs(&uri);
    let given = pairs
        .iter()
        .find(|(k, v)| k == "postcode" && !v.trim().is_empty())
        .map(|(_, v)| v.as_str());
    let to = quote::destination(given, member)?;
    Ok(Json(quote::quote(&state, id, &to).await?))
}

/// An artist's public page: profile, counts, and up to 50 artworks on sale, newest first.
#[utoipa::path(get, path = "/api/artists/{id}/", tag = "artists", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "The artist's page", body = ArtistPage), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn get_artist(
    State(state): State<AppState>,
    MaybeMember(_): MaybeMember,
    Id(id): Id,
) -> ApiResult<Json<ArtistPage>> {
    Ok(Json(artists::page(&state, id).await?))
}

/// The images of an artwork, in order.
#[utoipa::path(get, path = "/api/images/artwork/{id}/images/", tag = "images", params(("id" = i64, Path, description = "Id")), responses((status = 200, description = "The artwork's images", body = Vec<Image>), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn list_images(
    State(state): State<AppState>,
    MaybeMember(_): MaybeMember,
    Id(id): Id,
) -> ApiResult<Json<Vec<Image>>> {
    Ok(Json(artworks::find(&state, id).await?.artworks_images))
}

/// Adds an image URL to the caller's own artwork (at most ten images).
#[utoipa::path(post, path = "/api/images/artwork/{id}/images/", tag = "images", params(("id" = i64, Path, description = "Id")), request_body(content = ImageUrl, content_type = "application/json"), responses((status = 201, description = "Added", body = Image), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn add_image(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Image>)> {
    Ok((
        StatusCode::CREATED,
        Json(images::add(&state, &member, id, &body).await?),
    ))
}

/// Removes an image from the caller's own artwork.
#[utoipa::path(delete, path = "/api/images/image/{id}/", tag = "images", params(("id" = i64, Path, description = "Id")), responses((status = 204, description = "Removed"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn delete_image(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    images::remove(&state, &member, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
