//! Uploading images, and serving the stored ones.

use axum::extract::multipart::MultipartRejection;
use axum::extract::{FromRequest, Multipart, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::auth::Artist;
use crate::error::{ApiError, ApiResult};
use crate::media::{self, Upload, MAX_FILES};
use crate::state::AppState;
use crate::storage::content_type_of;
use utoipa::ToSchema;

fn multipart_error(error: axum::extract::multipart::MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge("The upload is larger than the limit.".into())
    } else {
        ApiError::BadRequest(format!("The multipart body could not be read: {}", error.body_text()))
    }
}

/// Uploads one or more image files (`file` parts of a multipart form; artists only).
/// Each is checked by its content, measured before decoding, re-encoded without its
/// metadata, and stored as an image and a thumbnail.
#[utoipa::path(post, path = "/api/images/upload/", tag = "images", request_body(content = UploadForm, content_type = "multipart/form-data"), responses((status = 201, description = "Stored", body = Vec<Upload>), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 403, description = "Not allowed", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn upload_images(
    State(state): State<AppState>,
    Artist(member): Artist,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<Vec<Upload>>)> {
    let media = &state.media;
    // The route has no default body limit: this one follows MAX_UPLOAD_BYTES.
    let limit = (MAX_FILES as u64 * media.max_upload_bytes + 1024 * 1024).min(usize::MAX as u64) as usize;
    let request = request.map(|body| axum::body::Body::new(http_body_util::Limited::new(body, limit)));
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|e: MultipartRejection| ApiError::UnsupportedMediaType(e.body_text()))?;
    // Bounded memory: a few requests read files at once, each holding one file at a time.
    let _slot = media.reading_slot().await?;
    let mut uploads = Vec::new();
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        if field.name() != Some("file") {
            continue;
        }
        if uploads.len() == MAX_FILES {
            // The ones already stored are unattached uploads: the sweep removes them.
            return Err(ApiError::field(
                "file",
                format!("At most {MAX_FILES} files can be uploaded at once."),
            ));
        }
        // The limit holds while the file streams in; nothing larger is ever buffered.
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
            if (bytes.len() + chunk.len()) as u64 > media.max_upload_bytes {
                return Err(ApiError::PayloadTooLarge(format!(
                    "Each file may be at most {} bytes.",
                    media.max_upload_bytes
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        uploads.push(media::store_upload(&state, member.id, bytes).await?);
    }
    if uploads.is_empty() {
        return Err(ApiError::field("file", "Attach at least one image as a `file` part."));
    }
    Ok((StatusCode::CREATED, Json(uploads)))
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|value| {
            value
                .split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
        })
}

/// Serves a stored image: immutable (its key is its content's hash), with an ETag.
#[utoipa::path(get, path = "/media/{key}", tag = "images", params(("key" = String, Path, description = "A stored image's key")), responses((status = 200, description = "The image", content_type = "image/jpeg"), (status = 304, description = "Not modified"), (status = 404, description = "Not found", body = crate::error::Problem, content_type = "application/problem+json")))]
pub(crate) async fn serve_media(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let etag = format!("\"{key}\"");
    let mut response_headers = HeaderMap::new();
    response_headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response_headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response_headers.insert(header::ETAG, value);
    }
    if etag_matches(&headers, &etag) {
        // Only for images we have: a 304 must not vouch for a key that is gone.
        if state.media.exists(&key).await {
            return Ok((StatusCode::NOT_MODIFIED, response_headers).into_response());
        }
        return Err(ApiError::not_found("No such image."));
    }
    let bytes = state.media.read(&key).await?;
    response_headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type_of(&key)));
    Ok((response_headers, bytes).into_response())
}

// A multipart form has no body to parse into a type: the handler reads its `file` parts
// as they stream in. This describes them.

#[derive(ToSchema)]
pub struct UploadForm {
    /// One to ten image files.
    #[schema(value_type = Vec<String>, format = Binary)]
    pub file: Vec<String>,
}
