//! Reading client input: the JSON body, ids in paths, query strings, and typed fields
//! with every failure collected into one 400 (`errors` and `fields`).

use std::ops::RangeInclusive;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{ApiError, FieldErrors};
use crate::money::{parse_decimal, Measure, Money};

/// Largest accepted JSON body.
pub const JSON_LIMIT: usize = 1024 * 1024;

/// A JSON object body. Wrong content type → 415, over the limit → 413, malformed or
/// not an object → 400; all as problem JSON.
#[derive(Debug, Default)]
pub struct JsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|mime| {
                let mime = mime.trim().to_ascii_lowercase();
                mime == "application/json" || (mime.starts_with("application/") && mime.ends_with("+json"))
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "Expected a JSON body with `Content-Type: application/json`.".into(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        parse_object(&bytes).map(JsonBody)
    }
}

/// Like [`JsonBody`], but an absent or empty body is an empty object.
#[derive(Debug, Default)]
pub struct OptionalJsonBody(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for OptionalJsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(body_rejection)?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self::default());
        }
        parse_object(&bytes).map(OptionalJsonBody)
    }
}

fn body_rejection(rejection: BytesRejection) -> ApiError {
    if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::PayloadTooLarge(format!("The body is larger than the limit of {JSON_LIMIT} bytes."))
    } else {
        ApiError::BadRequest(format!("The body could not be read: {}", rejection.body_text()))
    }
}

fn parse_object(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(ApiError::BadRequest("The JSON body must be an object.".into())),
        Err(e) => Err(ApiError::BadRequest(format!("Malformed JSON: {e}"))),
    }
}

/// An integer id taken from the last path parameter; anything that is not a positive
/// integer answers 404, as an unknown id does.
#[derive(Debug, Clone, Copy)]
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let params = axum::extract::RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::not_found("Not found."))?;
        params
            .iter()
            .last()
            .and_then(|(_, value)| value.parse::<i64>().ok())
            .filter(|id| *id > 0)
            .map(Id)
            .ok_or_else(|| ApiError::not_found("Not found."))
    }
}

/// Query parameters; a value of the wrong shape → 400 naming the parameter.
#[derive(Debug, Clone, Default)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer).map(Query).map_err(|e| {
            let field = e.path().to_string();
            let mut errors = FieldErrors::default();
            errors.add(if field == "." { "query" } else { &field }, e.inner().to_string());
            ApiError::invalid(errors)
        })
    }
}

/// Reads typed fields from a JSON object, collecting every failure.
pub struct Fields<'a> {
    body: &'a Map<String, Value>,
    pub errors: FieldErrors,
}

/// A parser for one field's JSON value: Ok(value) or the message to report.
pub type Parser<T> = Box<dyn Fn(&Value) -> Result<T, String>>;

impl<'a> Fields<'a> {
    pub fn new(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            errors: FieldErrors::default(),
        }
    }

    /// Whether the field is present and not null.
    pub fn has(&self, key: &str) -> bool {
        self.body.get(key).is_some_and(|v| !v.is_null())
    }

    pub fn raw(&self, key: &str) -> Option<&'a Value> {
        self.body.get(key).filter(|v| !v.is_null())
    }

    /// A required field: missing or null is an error.
    pub fn required<T>(&mut self, key: &str, parse: Parser<T>) -> Option<T> {
        match self.raw(key) {
            None => {
                self.errors.add(key, "This field is required.");
                None
            }
            Some(value) => self.run(key, value, parse),
        }
    }

    /// An optional field: missing or null gives None without an error.
    pub fn optional<T>(&mut self, key: &str, parse: Parser<T>) -> Option<T> {
        self.raw(key).and_then(|value| self.run(key, value, parse))
    }

    fn run<T>(&mut self, key: &str, value: &Value, parse: Parser<T>) -> Option<T> {
        match parse(value) {
            Ok(parsed) => Some(parsed),
            Err(message) => {
                self.errors.add(key, message);
                None
            }
        }
    }

    pub fn error(&mut self, key: &str, message: impl Into<String>) {
        self.errors.add(key, message);
    }

    /// Ok when no field failed.
    pub fn finish(self) -> Result<(), ApiError> {
        self.finish_with(None)
    }

    pub fn finish_with(self, message: Option<&'static str>) -> Result<(), ApiError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::Validation {
                message,
                errors: self.errors,
            })
        }
    }
}

/// A JSON string; NUL characters are refused (PostgreSQL cannot store them).
pub fn as_text(value: &Value) -> Result<&str, String> {
    let text = value.as_str().ok_or_else(|| "Not a valid string.".to_owned())?;
    if text.contains('\0') {
        return Err("Null characters are not allowed.".into());
    }
    Ok(text)
}

/// Text, trimmed, with a length in characters.
pub fn text(len: RangeInclusive<usize>) -> Parser<String> {
    Box::new(move |value| {
        let text = as_text(value)?.trim();
        let count = text.chars().count();
        if count == 0 && *len.start() > 0 {
            Err("This field may not be blank.".into())
        } else if count < *len.start() {
            Err(format!("Ensure this field has at least {} characters.", len.start()))
        } else if count > *len.end() {
            Err(format!("Ensure this field has no more than {} characters.", len.end()))
        } else {
            Ok(text.to_owned())
        }
    })
}

/// Text parsed into a domain type whose parser names the problem.
pub fn parsed<T: 'static, E: ToString + 'static>(parse: fn(&str) -> Result<T, E>) -> Parser<T> {
    Box::new(move |value| parse(as_text(value)?.trim()).map_err(|e| e.to_string()))
}

/// The digits of a JSON number or numeric string, exactly as sent.
fn numeric_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// A whole number within a range; numeric strings are accepted as the first version did.
pub fn integer(range: RangeInclusive<i64>) -> Parser<i64> {
    Box::new(move |value| {
        let number = numeric_text(value)
            .and_then(|t| parse_decimal(&t))
            .filter(|d| d.fract().is_zero())
            .and_then(|d| i64::try_from(d).ok())
            .ok_or_else(|| "A valid integer is required.".to_owned())?;
        if number < *range.start() {
            Err(format!(
                "Ensure this value is greater than or equal to {}.",
                range.start()
            ))
        } else if number > *range.end() {
            Err(format!("Ensure this value is less than or equal to {}.", range.end()))
        } else {
            Ok(number)
        }
    })
}

/// A decimal with at most two places, 0 < value ≤ max (in hundredths).
fn hundredths(max: i64) -> impl Fn(&Value) -> Result<i64, String> {
    move |value| {
        let decimal = numeric_text(value)
            .and_then(|t| parse_decimal(&t))
            .ok_or_else(|| "A valid number is required.".to_owned())?;
        let exact = Money::from_decimal(decimal)
            .ok_or_else(|| "Ensure that there are no more than 2 decimal places.".to_owned())?;
        if exact.hundredths() <= 0 {
            Err("Ensure this value is greater than 0.".into())
        } else if exact.hundredths() > max {
            Err(format!(
                "Ensure this value is less than or equal to {}.",
                Money::from_hundredths(max)
            ))
        } else {
            Ok(exact.hundredths())
        }
    }
}

/// Money: > 0, ≤ max, at most two decimals.
pub fn money(max: Money) -> Parser<Money> {
    let parse = hundredths(max.hundredths());
    Box::new(move |value| parse(value).map(Money::from_hundredths))
}

/// A dimension or weight: > 0, ≤ max, at most two decimals.
pub fn measure(max: Measure) -> Parser<Measure> {
    let parse = hundredths(max.hundredths());
    Box::new(move |value| parse(value).map(Measure::from_hundredths))
}

pub fn boolean() -> Parser<bool> {
    Box::new(|value| match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
        _ => Err("Must be a valid boolean.".into()),
    })
}

/// An id of another object: a positive integer (or numeric string).
pub fn id() -> Parser<i64> {
    integer(1..=i64::MAX)
}

/// A list of at most 1000 ids of `what` ("order", "notification"), as a JSON array.
pub fn id_list(what: &'static str) -> Parser<Vec<i64>> {
    Box::new(move |value| {
        let invalid = || format!("Expected a list of {what} ids.");
        let Value::Array(items) = value else {
            return Err(invalid());
        };
        if items.len() > 1000 {
            return Err(format!("At most 1000 {what} ids at once."));
        }
        items.iter().map(|item| (id())(item).map_err(|_| invalid())).collect()
    })
}

/// An absolute http(s) URL with a host, of at most `max` characters; `invalid` says
/// what is wrong otherwise.
pub fn http_url(input: &str, max: usize, invalid: &str) -> Result<String, String> {
    if input.chars().count() > max {
        return Err(format!("Ensure this field has no more than {max} characters."));
    }
    match url::Url::parse(input) {
        Ok(u)
            if !input.chars().any(char::is_control)
                && matches!(u.scheme(), "http" | "https")
                && u.host_str().is_some_and(|h| !h.is_empty()) =>
        {
            Ok(input.to_owned())
        }
        _ => Err(invalid.to_owned()),
    }
}
