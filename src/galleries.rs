//! Galleries: each collector's curated set of artworks (a wishlist).

use axum::extract::{OriginalUri, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::Row;

use crate::artworks::{self, Artwork, ARTWORK_COLUMNS, ARTWORK_FROM};
use crate::auth::{CurrentMember, Staff};
use crate::clock;
use crate::db::timestamp;
use crate::db::{Bind, Binds};
use crate::error::{ApiError, ApiResult};
use crate::input::{id, Fields, Id, JsonBody, OptionalJsonBody};
use crate::members::Member;
use crate::paging::{query_pairs, stream_array, Cursor, Direction, Page, Paging, CHUNK};
use crate::state::AppState;

fn gallery_not_found() -> ApiError {
    ApiError::not_found("Gallery not found.")
}

/// The caller's own gallery, or 404 when it is someone else's or does not exist.
fn own_gallery(member: &Member, gallery_id: i64) -> ApiResult<i64> {
    match member.gallery_id {
        Some(own) if own == gallery_id => Ok(own),
        _ => Err(gallery_not_found()),
    }
}

/// How many visible artworks a gallery holds.
async fn count_entries(state: &AppState, gallery_id: i64) -> ApiResult<i64> {
    Ok(sqlx::query(
        "SELECT COUNT(*) FROM gallery_artworks ga JOIN artworks a ON a.id = ga.artwork_id \
         WHERE ga.gallery_id = $1 AND a.archived_at IS NULL",
    )
    .bind(gallery_id)
    .fetch_one(state.db.pool())
    .await?
    .try_get(0)?)
}

/// A gallery's visible artworks, oldest addition first, with when each was added: one
/// page, or the chunk after `cursor` with the cursor of the next.
async fn gallery_entries(
    state: &AppState,
    gallery_id: i64,
    page: Option<Page>,
    cursor: Cursor,
) -> ApiResult<(Vec<GalleryEntry>, Option<Cursor>)> {
    let mut binds = Binds::default();
    let gallery = binds.push(Bind::Int(gallery_id));
    let mut condition = format!("ga.gallery_id = {gallery} AND a.archived_at IS NULL");
    if let Some(after) = cursor.condition("ga.added_at", "a.id", Direction::Asc, &mut binds) {
        condition = format!("{condition} AND {after}");
    }
    let window = match page {
        Some(page) => page.window(&mut binds),
        None => cursor.limit(&mut binds),
    };
    let mut conn = state.db.pool().acquire().await?;
    let rows = binds
        .apply(sqlx::query(&format!(
            "SELECT {ARTWORK_COLUMNS}, ga.added_at {ARTWORK_FROM} JOIN gallery_artworks ga ON ga.artwork_id = a.id \
             WHERE {condition} ORDER BY ga.added_at, a.id {window}"
        )))
        .fetch_all(&mut *conn)
        .await?;
    let added = rows
        .iter()
        .map(|row| row.try_get::<String, _>("added_at"))
        .collect::<Result<Vec<_>, _>>()?;
    let next = match (added.last(), rows.last()) {
        (Some(at), Some(row)) if rows.len() as i64 == CHUNK => {
            Some(Cursor::After(Bind::Text(at.clone()), row.try_get("id")?))
        }
        _ => None,
    };
    let artworks = artworks::populate(&mut conn, &state.media, &rows).await?;
    let entries = artworks
        .into_iter()
        .zip(added)
        .map(|(artwork, added_at)| {
            Ok(GalleryEntry {
                id: artwork.id,
                gallery: gallery_id,
                added_at: clock::from_db(&added_at).map_err(|e| ApiError::Internal(e.into()))?,
                artwork,
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    Ok((entries, next))
}

/// The caller's gallery with its artworks, a page at a time (collectors only).
#[utoipa::path(get, path = "/api/galleries/my-gallery/", tag = "galleries", params(("page" = Option<i64>, Query, description = "Page number, from 1"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The caller's gallery", body = crate::openapi::GalleryView), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn get_my_gallery(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<(HeaderMap, Json<Value>)> {
    let gallery_id = member
        .gallery_id
        .ok_or_else(|| ApiError::not_found("Gallery not found for this user."))?;
    let page = Page::from_pairs(&query_pairs(&uri))?;
    let total = count_entries(&state, gallery_id).await?;
    let (entries, _) = gallery_entries(&state, gallery_id, Some(page), Cursor::Start).await?;
    let artworks: Vec<Artwork> = entries.into_iter().map(|entry| entry.artwork).collect();
    let body = json!({
        "id": gallery_id,
        "curator": member.id,
        "artworks": artworks,
        "total": total,
        "page": page.page,
        "per_page": page.per_page,
    });
    Ok((page.headers(&uri, total), Json(body)))
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct GalleryEntry {
    /// The artwork's id: an artwork is in a gallery at most once.
    id: i64,
    gallery: i64,
    artwork: Artwork,
    #[schema(value_type = String, format = DateTime)]
    added_at: DateTime<Utc>,
}

/// The entries of the caller's own gallery: a page, or without `page` and `per_page`
/// all of them.
#[utoipa::path(get, path = "/api/galleries/{id}/artworks/", tag = "galleries", params(("id" = i64, Path, description = "Id"), ("page" = Option<i64>, Query, description = "Page number, from 1. With neither page nor per_page, the whole list is returned, streamed"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "The gallery's entries", body = Vec<GalleryEntry>), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_gallery_artworks(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(gallery_id): Id,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Response> {
    own_gallery(&member, gallery_id)?;
    let paging = Paging::from_pairs(&query_pairs(&uri))?;
    let total = count_entries(&state, gallery_id).await?;
    let headers = paging.headers(&uri, total);
    match paging {
        Paging::Page(page) => {
            let (entries, _) = gallery_entries(&state, gallery_id, Some(page), Cursor::Start).await?;
            Ok((headers, Json(entries)).into_response())
        }
        Paging::Whole => Ok(stream_array(headers, move |cursor| {
            let state = state.clone();
            async move { gallery_entries(&state, gallery_id, None, cursor).await }
        })),
    }
}

/// Adds an artwork to the caller's gallery; adding it again changes nothing.
#[utoipa::path(post, path = "/api/galleries/{id}/curate/", tag = "galleries", params(("id" = i64, Path, description = "Id")), request_body(content = crate::openapi::Curate, content_type = "application/json"), responses((status = 201, description = "Added", body = crate::openapi::Message), (status = 200, description = "Already there", body = crate::openapi::Message), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn add_to_gallery(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(gallery_id): Id,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    own_gallery(&member, gallery_id)?;
    let mut f = Fields::new(&body);
    let Some(artwork_id) = f.required("artwork", id()) else {
        return Err(ApiError::invalid(f.errors));
    };
    let mut tx = state.db.begin().await?;
    let visible = sqlx::query("SELECT id FROM artworks WHERE id = $1 AND archived_at IS NULL")
        .bind(artwork_id)
        .fetch_optional(&mut *tx)
        .await?;
    if visible.is_none() {
        return Err(ApiError::not_found("Artwork not found."));
    }
    // The primary key (gallery, artwork) settles concurrent adds: one row.
    let added = sqlx::query(
        "INSERT INTO gallery_artworks (gallery_id, artwork_id, added_at) VALUES ($1, $2, $3) \
         ON CONFLICT (gallery_id, artwork_id) DO NOTHING",
    )
    .bind(gallery_id)
    .bind(artwork_id)
    .bind(clock::to_db(state.clock.now()))
    .execute(&mut *tx)
    .await
    .map_err(|e| match e {
        // The artwork was erased between the check and the insert.
        sqlx::Error::Database(ref db) if db.is_foreign_key_violation() => ApiError::not_found("Artwork not found."),
        other => other.into(),
    })?
    .rows_affected();
    tx.commit().await?;
    if added == 1 {
        Ok((
            StatusCode::CREATED,
            Json(json!({"message": "Artwork added to the gallery!"})),
        ))
    } else {
        Ok((
            StatusCode::OK,
            Json(json!({"message": "Artwork is already in the gallery."})),
        ))
    }
}

/// Removes an artwork (`{"artwork": id}` or `?artwork=id`) from the caller's gallery.
#[utoipa::path(delete, path = "/api/galleries/{id}/curate/", tag = "galleries", params(("id" = i64, Path, description = "Id"), ("artwork" = Option<i64>, Query, description = "Or {\"artwork\": id} in the body")), responses((status = 204, description = "Removed"), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn remove_from_gallery(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    Id(gallery_id): Id,
    OriginalUri(uri): OriginalUri,
    OptionalJsonBody(body): OptionalJsonBody,
) -> ApiResult<StatusCode> {
    own_gallery(&member, gallery_id)?;
    let mut body = body;
    if !body.contains_key("artwork") {
        if let Some((_, value)) = query_pairs(&uri).into_iter().find(|(k, _)| k == "artwork") {
            body.insert("artwork".into(), Value::String(value));
        }
    }
    let mut f = Fields::new(&body);
    let Some(artwork_id) = f.required("artwork", id()) else {
        return Err(ApiError::invalid(f.errors));
    };
    let mut tx = state.db.begin().await?;
    let removed = sqlx::query("DELETE FROM gallery_artworks WHERE gallery_id = $1 AND artwork_id = $2")
        .bind(gallery_id)
        .bind(artwork_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    if removed == 0 {
        return Err(ApiError::not_found("Artwork is not in the gallery."));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Every gallery, a page at a time (staff only).
#[utoipa::path(get, path = "/api/galleries/all/", tag = "galleries", params(("page" = Option<i64>, Query, description = "Page number, from 1"), ("per_page" = Option<i64>, Query, description = "Items a page, 1 to 200 (default 50)")), responses((status = 200, description = "Every gallery (staff)", body = Vec<crate::openapi::GallerySummary>), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn list_galleries(
    State(state): State<AppState>,
    Staff(_): Staff,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<(HeaderMap, Json<Vec<Value>>)> {
    let page = Page::from_pairs(&query_pairs(&uri))?;
    let pool = state.db.pool();
    let total: i64 = sqlx::query("SELECT COUNT(*) FROM galleries")
        .fetch_one(pool)
        .await?
        .try_get(0)?;
    let rows = sqlx::query(
        "SELECT g.id, g.curator_id, g.created_at, m.username, \
         (SELECT COUNT(*) FROM gallery_artworks ga JOIN artworks a ON a.id = ga.artwork_id \
          WHERE ga.gallery_id = g.id AND a.archived_at IS NULL) AS artworks_count \
         FROM galleries g JOIN members m ON m.id = g.curator_id ORDER BY g.id LIMIT $1 OFFSET $2",
    )
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(pool)
    .await?;
    let galleries = rows
        .iter()
        .map(|row| {
            Ok(json!({
                "id": row.try_get::<i64, _>("id")?,
                "curator": row.try_get::<i64, _>("curator_id")?,
                "curator_username": row.try_get::<String, _>("username")?,
                "artworks_count": row.try_get::<i64, _>("artworks_count")?,
                "created_at": timestamp(row, "created_at")?,
            }))
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok((page.headers(&uri, total), Json(galleries)))
}
