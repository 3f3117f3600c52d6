//! Errors on the browser's routes are pages, not problem documents: 404, 403, 500 and
//! the rest keep their status and headers and say in words what happened.

use askama::Template;
use axum::body::Body;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;

use super::{Layout, PAGE_CSP};

/// Whether `path` is a browser's route, whose errors are pages; the API's own paths
/// keep answering problem+json.
pub fn is_page(path: &str) -> bool {
    !is_api(path)
}

fn is_api(path: &str) -> bool {
    ["/api", "/media", "/health"].iter().any(|prefix| {
        path.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    heading: &'static str,
    message: String,
}

/// The largest problem document read to find its `detail`.
const PROBLEM_LIMIT: usize = 16 * 1024;

/// A problem+json answer as an HTML page ([`is_page`] says where); any other answer as
/// it is.
pub async fn as_page(response: Response) -> Response {
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    if !is_problem {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let detail = match axum::body::to_bytes(body, PROBLEM_LIMIT).await {
        Ok(bytes) => serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|problem| problem.get("detail").and_then(|d| d.as_str()).map(str::to_owned)),
        Err(_) => None,
    };
    let status = parts.status;
    let (heading, fallback) = wording(status);
    // A client's mistake is explained with the problem's own words; the server's never.
    let message = match detail {
        Some(detail) if status.is_client_error() || status == StatusCode::SERVICE_UNAVAILABLE => detail,
        _ => fallback.to_owned(),
    };
    let page = ErrorPage {
        layout: Layout::plain(format!("{heading} — OpenStudio")),
        heading,
        message,
    };
    let html = page
        .render()
        .unwrap_or_else(|_| format!("<!doctype html><title>{heading}</title><h1>{heading}</h1>"));
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    parts
        .headers
        .insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(PAGE_CSP));
    Response::from_parts(parts, Body::from(html))
}

fn wording(status: StatusCode) -> (&'static str, &'static str) {
    match status.as_u16() {
        400 => ("That did not work", "The request could not be understood."),
        401 | 403 => ("Not for you", "You are not allowed to do that."),
        404 => (
            "Not found",
            "There is nothing here. It may have been moved or withdrawn.",
        ),
        405 => ("Not found", "There is nothing to do here."),
        409 => ("Something changed", "This changed while you were looking at it."),
        413 => ("Too large", "What you sent is larger than the limit."),
        429 => ("Too many attempts", "Please wait a little and try again."),
        503 => ("Busy", "The studio is busy right now; please try again in a moment."),
        507 => (
            "Out of space",
            "The server has run out of storage space; nothing was changed.",
        ),
        _ => (
            "Something went wrong",
            "Something went wrong on our side. Nothing you did caused it; please try again.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_apis_own_paths_are_whole_segments() {
        for api in ["/api", "/api/artworks", "/media/a.jpg", "/health/ready"] {
            assert!(is_api(api), "{api}");
        }
        for page in ["/", "/apiary", "/artworks", "/mediaeval", "/healthy"] {
            assert!(!is_api(page), "{page}");
        }
    }
}
