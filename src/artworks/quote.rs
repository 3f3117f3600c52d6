//! The shipping quote for an artwork (SPEC Part D.3).

use super::Artwork;
use crate::error::{ApiError, ApiResult};
use crate::members::Member;
use crate::postcode::Postcode;
use crate::shipping::{self, Parcel, Quote};
use crate::state::AppState;

/// Where a quote is for: the postcode given, or else a logged-in collector's own.
pub fn destination(given: Option<&str>, member: Option<Member>) -> ApiResult<Postcode> {
    match (
        given.filter(|text| !text.trim().is_empty()),
        member.filter(Member::is_collector),
    ) {
        (Some(text), _) => Postcode::parse(text).map_err(|e| ApiError::field("postcode", e)),
        (None, Some(collector)) => Ok(collector.postcode),
        (None, None) => Err(ApiError::field("postcode", "A UK postcode is required.")),
    }
}

/// What shipping a visible artwork to `to` costs, from its artist's postcode.
pub async fn quote(state: &AppState, id: i64, to: &Postcode) -> ApiResult<Quote> {
    let artwork = super::find(state, id).await?;
    quote_for(state, &artwork, to).await
}

/// The quote for an artwork already loaded: one query, for its artist's full postcode.
pub async fn quote_for(state: &AppState, artwork: &Artwork, to: &Postcode) -> ApiResult<Quote> {
    let seller_postcode: String = sqlx::query_scalar("SELECT postcode FROM members WHERE id = $1")
        .bind(artwork.artist.id)
        .fetch_one(state.db.pool())
        .await?;
    let parcel = Parcel {
        price: artwork.price,
        width: artwork.width,
        depth: artwork.depth,
        height: artwork.height,
        weight: artwork.weight,
    };
    Ok(shipping::quote(parcel, &seller_postcode, to.as_str()))
}
