//! Who is asking: the extractors that turn a bearer token into a member, and the role
//! extractors (`Staff`, `Artist`, `Collector`) that refuse everyone else.

use axum::extract::FromRequestParts;
use axum::http::{header, request::Parts};

use crate::error::ApiError;
use crate::members::{self, Member};
use crate::state::AppState;
use crate::tokens::decode_token;

/// The web session's cookie: what a browser sends instead of a bearer token.
pub const SESSION_COOKIE: &str = "os_session";

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
}

/// The member behind a valid bearer token; 401 without one.
pub struct CurrentMember(pub Member);

/// A member if a token is given; None without a header; 401 for an invalid token.
pub struct MaybeMember(pub Option<Member>);

/// A staff member: 401 without a valid token, 403 for anyone else.
pub struct Staff(pub Member);

/// An artist: 401 without a valid token, 403 for a collector.
pub struct Artist(pub Member);

/// A collector: 401 without a valid token, 403 for an artist.
pub struct Collector(pub Member);

/// Role extractors: the member, if they hold the role; else 403 with `refusal`.
macro_rules! role {
    ($role:ident, $holds:expr, $refusal:literal) => {
        impl FromRequestParts<AppState> for $role {
            type Rejection = ApiError;

            async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
                let CurrentMember(member) = CurrentMember::from_request_parts(parts, state).await?;
                let holds: fn(&Member) -> bool = $holds;
                if holds(&member) {
                    Ok(Self(member))
                } else {
                    Err(ApiError::forbidden($refusal))
                }
            }
        }
    };
}

role!(Staff, |m| m.is_staff, "Staff only.");
role!(
    Artist,
    Member::is_artist,
    "Only artists can list artworks and upload images."
);
role!(Collector, Member::is_collector, "Only collectors can buy artworks.");

impl FromRequestParts<AppState> for CurrentMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        match MaybeMember::from_request_parts(parts, state).await?.0 {
            Some(member) => Ok(Self(member)),
            None => Err(ApiError::Unauthorized("Authentication credentials were not provided.")),
        }
    }
}

impl FromRequestParts<AppState> for MaybeMember {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Ok(Self(None));
        };
        const INVALID: ApiError = ApiError::Unauthorized("The token is invalid or expired.");
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, token)| token)
            .map(str::trim)
            .ok_or(INVALID)?;
        let claims = decode_token(&state.keys, token).ok_or(INVALID)?;
        let id: i64 = claims.sub.parse().map_err(|_| INVALID)?;
        let member = members::find_recent(state, id).await?.ok_or(INVALID)?;
        if member.token_generation != claims.pwd {
            return Err(INVALID);
        }
        Ok(Self(Some(member)))
    }
}
