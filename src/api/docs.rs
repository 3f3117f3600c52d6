//! Interactive API documentation at `/api/docs`: Swagger UI, its assets compiled into the
//! binary (vendored by a crate, never fetched from a CDN), reading `/api/openapi.json`.

use std::sync::{Arc, OnceLock};

use axum::extract::Path;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use utoipa_swagger_ui::Config;

use crate::error::ApiError;

/// The policy for the documentation pages: scripts and styles from here only (Swagger UI
/// sets inline style attributes), no framing, and requests only to this server.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'self'; \
     form-action 'none'";

fn config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    CONFIG
        .get_or_init(|| Arc::new(Config::from("/api/openapi.json")))
        .clone()
}

fn asset(file: &str) -> Result<Response, ApiError> {
    let found = utoipa_swagger_ui::serve(file, config()).map_err(|e| ApiError::Internal(anyhow::anyhow!("{e}")))?;
    let Some(found) = found else {
        return Err(ApiError::not_found("No such documentation file."));
    };
    let mut bytes = found.bytes.into_owned();
    if file == "index.html" {
        // The page may be reached as /api/docs or /api/docs/: anchor its relative links.
        let html = String::from_utf8_lossy(&bytes).replacen("<head>", "<head><base href=\"/api/docs/\">", 1);
        bytes = html.into_bytes();
    }
    let content_type =
        HeaderValue::from_str(&found.content_type).unwrap_or(HeaderValue::from_static("application/octet-stream"));
    let mut response = ([(header::CONTENT_TYPE, content_type)], bytes).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(DOCS_CSP));
    Ok(response)
}

/// The documentation page.
#[utoipa::path(get, path = "/api/docs", tag = "docs", responses((status = 200, description = "Swagger UI", content_type = "text/html")))]
pub(crate) async fn docs_index() -> Result<Response, ApiError> {
    asset("index.html")
}

/// The documentation page's scripts, styles and images.
#[utoipa::path(get, path = "/api/docs/{file}", tag = "docs", params(("file" = String, Path, description = "An asset of the page")), responses((status = 200, description = "The asset"), (status = 404, description = "No such asset", body = crate::error::Problem, content_type = "application/problem+json")))]
pub(crate) async fn docs_file(Path(file): Path<String>) -> Result<Response, ApiError> {
    asset(&file)
}
