//! Who is browsing: the session cookie, the visitor it opens, and the form token every
//! state-changing form carries.
//!
//! A logged-in browser holds `os_session` (HttpOnly, SameSite=Lax, Secure in production);
//! the server keeps its digest (`members::sessions`). An anonymous browser that is shown
//! a form (log in, register) gets `os_visitor`, a random value of the same kind, so that
//! those forms carry a token too. A form's token is an HMAC of the browser's value: a
//! page on another site can neither read it nor make it.

use std::sync::OnceLock;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{header, request::Parts, HeaderValue};
use axum::response::Response;
use serde_json::{Map, Value};

use crate::config::Environment;
use crate::error::ApiError;
use crate::members::sessions;
use crate::members::Member;
use crate::orders;
use crate::state::AppState;

pub use crate::auth::{cookie, SESSION_COOKIE};
pub const VISITOR_COOKIE: &str = "os_visitor";

/// The largest form body read (the upload form has its own limit).
const FORM_LIMIT: usize = 64 * 1024;

/// Who is asking, from their cookies.
pub struct Visitor {
    pub member: Option<Member>,
    /// The live session's cookie value.
    session: Option<String>,
    /// The anonymous browser's value, from its cookie or made for this response.
    anonymous: OnceLock<(String, bool)>,
    from_cookie: Option<String>,
    /// Orders with news the member has not opened.
    pub unviewed: i64,
}

/// A `Set-Cookie` value for one of our cookies; `max_age` in seconds (0 removes it).
pub fn set_cookie(name: &str, value: &str, max_age: i64, environment: Environment) -> HeaderValue {
    let secure = if environment == Environment::Prod {
        "; Secure"
    } else {
        ""
    };
    let text = format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    // Our values are hex digits: always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("os_invalid=; Max-Age=0"))
}

impl Visitor {
    pub fn is_artist(&self) -> bool {
        self.member.as_ref().is_some_and(Member::is_artist)
    }

    pub fn is_collector(&self) -> bool {
        self.member.as_ref().is_some_and(Member::is_collector)
    }

    pub fn is_staff(&self) -> bool {
        self.member.as_ref().is_some_and(|m| m.is_staff)
    }

    /// The browser's secret value: the session's, else the anonymous one (made now if
    /// the browser has none).
    fn secret(&self) -> &str {
        if let Some(session) = &self.session {
            return session;
        }
        let (value, _) = self.anonymous.get_or_init(|| match &self.from_cookie {
            Some(value) => (value.clone(), false),
            None => (sessions::new_secret(), true),
        });
        value
    }

    /// The token this browser's forms carry.
    pub fn form_token(&self, state: &AppState) -> String {
        sessions::form_token(state.config.secret_key.as_bytes(), self.secret())
    }

    fn token_matches(&self, state: &AppState, token: &str) -> bool {
        sessions::form_token_matches(state.config.secret_key.as_bytes(), self.secret(), token)
    }

    /// What the response must carry: the anonymous cookie, if one was made, and no
    /// caching of a member's pages.
    pub fn finish(&self, state: &AppState, response: &mut Response) {
        let headers = response.headers_mut();
        if let Some((value, true)) = self.anonymous.get() {
            let cookie = set_cookie(VISITOR_COOKIE, value, 7 * 86400, state.config.environment);
            headers.append(header::SET_COOKIE, cookie);
        }
        if self.member.is_some() || self.anonymous.get().is_some() {
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
        }
    }

    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let now = state.clock.now();
        let mut member = None;
        let mut session = None;
        if let Some(value) = cookie(&parts.headers, SESSION_COOKIE) {
            member = sessions::member_recent(state, value, now).await?;
            if member.is_some() {
                session = Some(value.to_owned());
            }
        }
        let from_cookie = cookie(&parts.headers, VISITOR_COOKIE)
            .filter(|value| value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_owned);
        let unviewed = match &member {
            Some(m) => orders::unviewed(&state.db, m.id, m.user_type).await?,
            None => 0,
        };
        Ok(Self {
            member,
            session,
            anonymous: OnceLock::new(),
            from_cookie,
            unviewed,
        })
    }
}

/// A posted form from this browser: its fields, after its token was checked. A form
/// without the right token changes nothing and is refused with a 403.
pub struct Posted {
    pub visitor: Visitor,
    pub fields: Map<String, Value>,
}

/// The refusal of a form whose token is missing or wrong.
pub fn forged() -> ApiError {
    ApiError::forbidden("This form has expired or did not come from this site. Go back, reload the page and try again.")
}

/// Form fields as the domain reads them: one value as a string, a repeated field as a
/// list of strings.
pub fn fields_of(pairs: Vec<(String, String)>) -> Map<String, Value> {
    let mut fields = Map::new();
    for (key, value) in pairs {
        match fields.get_mut(&key) {
            None => {
                fields.insert(key, Value::String(value));
            }
            Some(Value::Array(list)) => list.push(Value::String(value)),
            Some(first) => {
                let first = first.take();
                fields.insert(key, Value::Array(vec![first, Value::String(value)]));
            }
        }
    }
    fields
}

impl FromRequest<AppState> for Posted {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, ApiError> {
        let (mut parts, body) = request.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let is_form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::UnsupportedMediaType("Send the form as the page does.".into()));
        }
        let bytes = axum::body::to_bytes(body, FORM_LIMIT)
            .await
            .map_err(|_| ApiError::PayloadTooLarge("The form is too large.".into()))?;
        let pairs: Vec<(String, String)> = form_urlencoded::parse(&bytes).into_owned().collect();
        let mut fields = fields_of(pairs);
        let token = match fields.remove("csrf") {
            Some(Value::String(token)) => token,
            _ => return Err(forged()),
        };
        if !visitor.token_matches(state, &token) {
            return Err(forged());
        }
        Ok(Self { visitor, fields })
    }
}

/// Checks a token read from a multipart form.
pub fn check_token(visitor: &Visitor, state: &AppState, token: &str) -> Result<(), ApiError> {
    if visitor.token_matches(state, token) {
        Ok(())
    } else {
        Err(forged())
    }
}
