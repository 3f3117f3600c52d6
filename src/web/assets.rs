//! The pages' stylesheet, compiled into the binary and served under a name made from its
//! content, so it can be cached for a year and a new release is fetched at once.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

const STYLE: &str = include_str!("../../static/style.css");

/// The stylesheet's URL: `/static/style.<hash>.css`.
pub fn stylesheet() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let hash = Sha256::digest(STYLE.as_bytes());
        let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        format!("/static/style.{short}.css")
    })
}

/// Serves an asset by its hashed name; any other name is not found.
pub async fn serve(Path(file): Path<String>) -> Result<Response, ApiError> {
    if stylesheet().strip_prefix("/static/") != Some(file.as_str()) {
        return Err(ApiError::not_found("No such file."));
    }
    let headers = [
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/css; charset=utf-8"),
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
    ];
    Ok((headers, STYLE).into_response())
}
