//! The shipping quote for an artwork (SPEC Part D.3).

use crate::error::ApiResult;
use crate::postcode::Postcode;
use crate::shipping::{self, Parcel, Quote};
use crate::state::AppState;

/// What shipping a visible artwork to `to` costs, from its artist's postcode.
pub async fn quote(state: &AppState, id: i64, to: &Postcode) -> ApiResult<Quote> {
    let artwork = super::find(state, id).await?;
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
