//! The shipping quote for an artwork (SPEC Part D.3).

use axum::extract::{OriginalUri, State};
use axum::Json;

use super::find_visible;
use crate::auth::MaybeMember;
use crate::error::{ApiError, ApiResult};
use crate::input::Id;
use crate::paging::query_pairs;
use crate::postcode::Postcode;
use crate::shipping::{self, Parcel, Quote};
use crate::state::AppState;

/// What shipping an artwork to a UK postcode costs: `?postcode=…`, or a logged-in
/// collector's own postcode when none is given.
#[utoipa::path(get, path = "/api/artworks/{id}/shipping-quote/", tag = "artworks", params(("id" = i64, Path, description = "Id"), ("postcode" = Option<String>, Query, description = "UK postcode; a collector's own when omitted")), responses((status = 200, description = "The quote", body = crate::shipping::Quote), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 404, description = "Not found", body = crate::openapi::Problem, content_type = "application/problem+json")), security((), ("bearer" = [])))]
pub(crate) async fn quote_shipping(
    State(state): State<AppState>,
    MaybeMember(member): MaybeMember,
    Id(id): Id,
    OriginalUri(uri): OriginalUri,
) -> ApiResult<Json<Quote>> {
    let given = query_pairs(&uri)
        .into_iter()
        .find(|(k, v)| k == "postcode" && !v.trim().is_empty())
        .map(|(_, v)| v);
    let to = match (given, member.filter(|m| m.is_collector())) {
        (Some(text), _) => Postcode::parse(&text).map_err(|e| ApiError::field("postcode", e))?,
        (None, Some(collector)) => collector.postcode,
        (None, None) => return Err(ApiError::field("postcode", "A UK postcode is required.")),
    };
    let mut conn = state.db.pool().acquire().await?;
    let artwork = find_visible(&mut conn, &state.media, id)
        .await?
        .ok_or_else(|| ApiError::not_found("Artwork not found."))?;
    let seller_postcode: String = sqlx::query_scalar("SELECT postcode FROM members WHERE id = $1")
        .bind(artwork.artist.id)
        .fetch_one(&mut *conn)
        .await?;
    let parcel = Parcel {
        price: artwork.price,
        width: artwork.width,
        depth: artwork.depth,
        height: artwork.height,
        weight: artwork.weight,
    };
    Ok(Json(shipping::quote(parcel, &seller_postcode, to.as_str())))
}
