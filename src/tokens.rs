//! Bearer tokens: HS256, signed with keys derived from SECRET_KEY, revoked by a
//! password change (the member's password generation is one of the claims).

use chrono::{DateTime, Utc};
use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};

/// The signing keys derived from SECRET_KEY.
pub struct Keys {
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Keys {
    pub fn new(secret: &str) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    /// The member id, as a string.
    pub sub: String,
    pub iat: i64,
    pub exp: i64,
    /// The member's password generation: a password change bumps it and so revokes
    /// every token issued before.
    #[serde(default)]
    pub pwd: i64,
}

/// Signs a token for the member `member_id` at their password `generation`, valid for
/// `ttl_days`.
pub fn issue_token(
    keys: &Keys,
    member_id: i64,
    generation: i64,
    now: DateTime<Utc>,
    ttl_days: i64,
) -> ApiResult<String> {
    let claims = Claims {
        sub: member_id.to_string(),
        iat: now.timestamp(),
        exp: (now + chrono::Duration::days(ttl_days)).timestamp(),
        pwd: generation,
    };
    jsonwebtoken::encode(&Header::new(jsonwebtoken::Algorithm::HS256), &claims, &keys.encoding)
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("signing a token: {e}")))
}

pub fn decode_token(keys: &Keys, token: &str) -> Option<Claims> {
    let mut validation = Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.leeway = 0;
    validation.set_required_spec_claims(&["exp", "sub", "iat"]);
    jsonwebtoken::decode::<Claims>(token, &keys.decoding, &validation)
        .ok()
        .map(|data| data.claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let keys = Keys::new("secret");
        let now = chrono::Utc::now();
        let token = issue_token(&keys, 7, 0, now, 14).unwrap();
        let claims = decode_token(&keys, &token).unwrap();
        assert_eq!(claims.sub, "7");
        assert_eq!(claims.exp - claims.iat, 14 * 86400);
        assert!(decode_token(&Keys::new("other"), &token).is_none());
        let expired = issue_token(&keys, 7, 0, now - chrono::Duration::days(15), 14).unwrap();
        assert!(decode_token(&keys, &expired).is_none());
    }
}
