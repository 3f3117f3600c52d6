//! The API's errors, rendered as `application/problem+json` (RFC 9457).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::db::{fault, Fault};

/// Field-level validation failures, reported all at once.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors {
    /// `(field key, message)` in the order they were found.
    entries: Vec<(String, String)>,
}

impl FieldErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        self.entries.push((field.to_owned(), message.into()));
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The messages about one field, in order.
    pub fn of<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.entries
            .iter()
            .filter(move |(key, _)| key == field)
            .map(|(_, message)| message.as_str())
    }

    pub fn has(&self, field: &str) -> bool {
        self.entries.iter().any(|(key, _)| key == field)
    }

    /// `"Field name: message"` strings, as the existing client shows them.
    pub fn messages(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(key, msg)| format!("{}: {msg}", label(key)))
            .collect()
    }

    fn by_field(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        for (key, msg) in &self.entries {
            let list = fields.entry(key.clone()).or_insert_with(|| Value::Array(Vec::new()));
            if let Value::Array(list) = list {
                list.push(Value::String(msg.clone()));
            }
        }
        fields
    }
}

/// `password_confirmation` → `Password confirmation`.
pub fn label(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400 with `errors` and `fields`; `message` leads the list where the client expects it.
    #[error("validation failed")]
    Validation {
        message: Option<&'static str>,
        errors: FieldErrors,
    },
    #[error("{0}")]
    BadRequest(String),
    /// 401 for a missing, malformed, expired or revoked token.
    #[error("{0}")]
    Unauthorized(&'static str),
    /// 401 for a failed login; the same answer for an unknown email and a wrong password.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// 409 with optional extra members (`quoted_price`, `status`).
    #[error("{detail}")]
    Conflict { detail: String, extra: Map<String, Value> },
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// 429 with Retry-After.
    #[error("{detail}")]
    TooManyRequests {
        detail: String,
        retry_after: std::time::Duration,
    },
    /// 422: well-formed but unusable (an idempotency key reused for another request).
    #[error("{0}")]
    Unprocessable(String),
    /// 503 with Retry-After: busy, timed out, or not ready.
    #[error("{0}")]
    Unavailable(String),
    /// 507 with Retry-After: no space left to store the change.
    #[error("{0}")]
    StorageFull(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl From<crate::db::ReadFault> for ApiError {
    fn from(fault: crate::db::ReadFault) -> Self {
        match fault {
            crate::db::ReadFault::Sqlite(error) => error.into(),
            crate::db::ReadFault::Postgres(error) => error.into(),
        }
    }
}

impl From<crate::sqlite_reads::ReadError> for ApiError {
    fn from(error: crate::sqlite_reads::ReadError) -> Self {
        use crate::sqlite_reads::ReadError;
        match error {
            ReadError::Unavailable(cause) => {
                tracing::warn!(cause, "the database is unavailable");
                Self::Unavailable("The service is busy; please try again.".to_owned())
            }
            ReadError::Failed(cause) => Self::Internal(cause),
        }
    }
}

impl ApiError {
    pub fn invalid(errors: FieldErrors) -> Self {
        Self::Validation { message: None, errors }
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        let mut errors = FieldErrors::default();
        errors.add(field, message);
        Self::invalid(errors)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::NotFound(detail.into())
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(detail.into())
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Validation { .. } | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) | Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
            Self::Database(e) => match fault(e) {
                Some(Fault::StorageFull) => StatusCode::INSUFFICIENT_STORAGE,
                Some(Fault::Unavailable) => StatusCode::SERVICE_UNAVAILABLE,
                None => StatusCode::INTERNAL_SERVER_ERROR,
            },
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error as a client receives it: RFC 9457 problem details.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    detail: String,
    /// For invalid input: the first version's summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// Validation errors: `"Field name: message"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    errors: Option<Vec<String>>,
    /// Validation errors by field.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    fields: Option<Map<String, Value>>,
    /// What else a conflict tells (`quoted_price`).
    #[serde(flatten)]
    #[schema(ignore)]
    extra: Map<String, Value>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let mut problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: String::new(),
            message: None,
            errors: None,
            fields: None,
            extra: Map::new(),
        };
        problem.detail = match &self {
            Self::Validation { message, errors } => {
                let detail = message.unwrap_or("The request has invalid fields.");
                problem.message = Some(detail.to_owned());
                problem.errors = Some(errors.messages());
                problem.fields = Some(errors.by_field());
                detail.to_owned()
            }
            Self::InvalidCredentials => {
                problem.errors = Some(vec!["Invalid email or password.".to_owned()]);
                "Invalid email or password.".to_owned()
            }
            Self::Conflict { detail, extra } => {
                problem.extra = extra.clone();
                detail.clone()
            }
            Self::Database(cause) if fault(cause) == Some(Fault::StorageFull) => {
                tracing::error!(error = %cause, "the database has no space left");
                "The server has run out of storage space; nothing was changed. Please try again later.".to_owned()
            }
            Self::Database(cause) if fault(cause).is_some() => {
                tracing::warn!(error = %cause, "the database is unavailable");
                "The service is busy; please try again.".to_owned()
            }
            Self::Database(cause) => {
                tracing::error!(error = %cause, "database error");
                "An unexpected error occurred.".to_owned()
            }
            Self::Internal(cause) => {
                tracing::error!(error = ?cause, "internal error");
                "An unexpected error occurred.".to_owned()
            }
            Self::StorageFull(detail) => {
                tracing::error!(detail, "storage is full");
                detail.clone()
            }
            other => other.to_string(),
        };
        let mut response = (status, axum::Json(problem)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if status == StatusCode::SERVICE_UNAVAILABLE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if status == StatusCode::INSUFFICIENT_STORAGE {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("30"));
        }
        if let Self::TooManyRequests { retry_after, .. } = &self {
            // Whole seconds, rounded up: never "0" while the limit still holds.
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if status == StatusCode::INSUFFICIENT_STORAGE {
            // Seen by the layer that tells readiness about it.
            response.extensions_mut().insert(Fault::StorageFull);
        }
        response
    }
}

/// Which unique index a database error violated, if it was a unique violation.
/// PostgreSQL names the constraint; SQLite names the columns in its message.
pub fn unique_violation(error: &sqlx::Error) -> Option<String> {
    let sqlx::Error::Database(db) = error else {
        return None;
    };
    if !db.is_unique_violation() {
        return None;
    }
    Some(
        db.constraint()
            .map(str::to_owned)
            .unwrap_or_else(|| db.message().to_owned()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_human() {
        assert_eq!(label("password_confirmation"), "Password confirmation");
        assert_eq!(label("email"), "Email");
        assert_eq!(label(""), "");
    }

    #[test]
    fn messages_name_the_field() {
        let mut errors = FieldErrors::default();
        errors.add("password_confirmation", "passwords do not match");
        errors.add("email", "Enter a valid email address.");
        assert_eq!(
            errors.messages(),
            vec![
                "Password confirmation: passwords do not match",
                "Email: Enter a valid email address."
            ]
        );
        assert!(errors.has("email"));
        assert!(!errors.has("username"));
    }
}
