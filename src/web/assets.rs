//! The pages' stylesheet and scripts, compiled into the binary and served under names
//! made from their content, so they can be cached for a year and a new release is
//! fetched at once.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// One asset: its name's stem and extension, type and content.
struct Asset {
    stem: &'static str,
    extension: &'static str,
    content_type: &'static str,
    body: &'static str,
}

const ASSETS: [Asset; 3] = [
    Asset {
        stem: "style",
        extension: "css",
        content_type: "text/css; charset=utf-8",
        body: include_str!("../../static/style.css"),
    },
    Asset {
        stem: "htmx",
        extension: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/vendor/htmx.min.js"),
    },
    Asset {
        stem: "studio",
        extension: "js",
        content_type: "text/javascript; charset=utf-8",
        body: include_str!("../../static/studio.js"),
    },
];

/// Each asset's URL, `/static/<stem>.<hash>.<extension>`, in the order of `ASSETS`.
fn urls() -> &'static [String] {
    static URLS: OnceLock<Vec<String>> = OnceLock::new();
    URLS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|asset| {
                let hash = Sha256::digest(asset.body.as_bytes());
                let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
                format!("/static/{}.{short}.{}", asset.stem, asset.extension)
            })
            .collect()
    })
}

fn url_of(stem: &str) -> &'static str {
    ASSETS
        .iter()
        .zip(urls())
        .find(|(asset, _)| asset.stem == stem)
        .map_or("", |(_, url)| url.as_str())
}

pub fn stylesheet() -> &'static str {
    url_of("style")
}

pub fn htmx() -> &'static str {
    url_of("htmx")
}

pub fn studio() -> &'static str {
    url_of("studio")
}

/// Serves an asset by its hashed name; any other name is not found.
pub async fn serve(Path(file): Path<String>) -> Result<Response, ApiError> {
    let asset = ASSETS
        .iter()
        .zip(urls())
        .find(|(_, url)| url.strip_prefix("/static/") == Some(file.as_str()))
        .map(|(asset, _)| asset)
        .ok_or_else(|| ApiError::not_found("No such file."))?;
    let headers = [
        (header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type)),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=31536000, immutable"),
        ),
    ];
    Ok((headers, asset.body).into_response())
}
