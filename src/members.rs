//! Members: registration, login, the current member, profile and password changes.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyPool, Row};

use crate::auth::{self, CurrentMember, MaybeMember};
use crate::clock;
use crate::db::flag;
use crate::error::{unique_violation, ApiError, ApiResult, FieldErrors};
use crate::input::{as_text, parsed, text, Fields, JsonBody, Parser};
use crate::limits::ClientIp;
use crate::postcode::{outward_code, Postcode};
use crate::state::AppState;
use unicode_normalization::UnicodeNormalization;
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::GeneralSecurityProfile;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UserType {
    Artist,
    Collector,
}

impl UserType {
    pub fn parse(input: &str) -> Result<Self, String> {
        match input {
            "artist" => Ok(Self::Artist),
            "collector" => Ok(Self::Collector),
            other => Err(format!("\"{other}\" is not a valid choice.")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Artist => "artist",
            Self::Collector => "collector",
        }
    }
}

/// A member as stored; the password hash is read only where it is checked.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub address: String,
    pub postcode: String,
    pub bio: String,
    pub website: String,
    pub is_staff: bool,
    pub token_generation: i64,
    pub gallery_id: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

impl Member {
    pub fn is_artist(&self) -> bool {
        self.user_type == UserType::Artist
    }

    pub fn is_collector(&self) -> bool {
        self.user_type == UserType::Collector
    }

    pub fn outward_postcode(&self) -> &str {
        outward_code(&self.postcode)
    }

    /// The member's own view of themselves.
    pub fn to_json(&self) -> Value {
        let mut value = json!({
            "id": self.id,
            "email": self.email,
            "username": self.username,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "user_type": self.user_type,
            "address": self.address,
            "postcode": self.postcode,
            "bio": self.bio,
            "website": self.website,
        });
        if let (Some(gallery_id), Some(map)) = (self.gallery_id, value.as_object_mut()) {
            map.insert("gallery_id".into(), json!(gallery_id));
        }
        value
    }

    #[cfg(test)]
    pub fn example(id: i64) -> Self {
        Self {
            id,
            email: "ada@example.com".into(),
            username: "ada".into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            user_type: UserType::Collector,
            address: "1 Street".into(),
            postcode: "N1 9GU".into(),
            bio: String::new(),
            website: String::new(),
            is_staff: false,
            token_generation: 0,
            gallery_id: None,
            created_at: chrono::Utc::now(),
        }
    }
}

const MEMBER_SELECT: &str = "SELECT m.id, m.email, m.username, m.first_name, m.last_name, m.user_type, \
     m.address, m.postcode, m.bio, m.website, m.is_staff, m.token_generation, m.created_at, \
     g.id AS gallery_id, m.password_hash FROM members m LEFT JOIN galleries g ON g.curator_id = m.id";

fn member_from_row(row: &AnyRow) -> Result<Member, sqlx::Error> {
    let user_type: String = row.try_get("user_type")?;
    Ok(Member {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        username: row.try_get("username")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        user_type: UserType::parse(&user_type).map_err(|e| sqlx::Error::ColumnDecode {
            index: "user_type".into(),
            source: e.into(),
        })?,
        address: row.try_get("address")?,
        postcode: row.try_get("postcode")?,
        bio: row.try_get("bio")?,
        website: row.try_get("website")?,
        is_staff: flag(row, "is_staff")?,
        token_generation: row.try_get("token_generation")?,
        gallery_id: row.try_get("gallery_id")?,
        created_at: crate::db::timestamp(row, "created_at")?,
    })
}

/// Loads a member by id.
pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<Member>, sqlx::Error> {
    sqlx::query(&format!("{MEMBER_SELECT} WHERE m.id = $1"))
        .bind(id)
        .fetch_optional(pool)
        .await?
        .map(|row| member_from_row(&row))
        .transpose()
}

/// An email address: valid, at most 254 characters; compared lower-cased.
fn parse_email(input: &str) -> Result<String, String> {
    const INVALID: &str = "Enter a valid email address.";
    if input.chars().count() > 254 {
        return Err("Ensure this field has no more than 254 characters.".into());
    }
    let domain_ok = input
        .rsplit_once('@')
        .is_some_and(|(_, domain)| domain.contains('.') && !domain.ends_with('.'));
    if input.chars().any(invisible) {
        return Err(INVISIBLE.into());
    }
    if email_address::EmailAddress::is_valid(input) && domain_ok && !input.chars().any(char::is_whitespace) {
        Ok(input.to_owned())
    } else {
        Err(INVALID.into())
    }
}

const INVISIBLE: &str = "Remove the invisible or text-direction characters.";

/// A control, bidi-control or other default-ignorable character (a zero-width space,
/// U+3164 HANGUL FILLER): invisible, or changing how the text around it reads.
pub fn invisible(c: char) -> bool {
    c.is_control() || c.identifier_type() == Some(IdentifierType::Default_Ignorable)
}

/// A first or last name: 1–50 characters, none of them invisible.
fn name() -> Parser<String> {
    let length = text(1..=50);
    Box::new(move |value| {
        let name = length(value)?;
        if name.chars().any(invisible) {
            Err(INVISIBLE.into())
        } else {
            Ok(name)
        }
    })
}

/// What makes two usernames the same: the UTS #39 confusable skeleton of the
/// lower-cased name, so `Alice`, `аlice` (Cyrillic а) and `ａｌｉｃｅ` are one.
pub fn username_skeleton(username: &str) -> String {
    unicode_security::skeleton(&username.nfkc().collect::<String>().to_lowercase()).collect()
}

/// 1–150 letters, digits and `@ . + - _`, stored in NFKC form (fullwidth and
/// mathematical letters become plain ones); letters outside Unicode's identifier
/// profile (invisible fillers, obsolete scripts) are refused.
fn parse_username(input: &str) -> Result<String, String> {
    let input: String = input.nfkc().collect();
    let count = input.chars().count();
    if count == 0 {
        return Err("This field may not be blank.".into());
    }
    if count > 150 {
        return Err("Ensure this field has no more than 150 characters.".into());
    }
    if input
        .chars()
        .all(|c| (c.is_alphanumeric() && c.identifier_allowed()) || "@.+-_".contains(c))
    {
        Ok(input)
    } else {
        Err("Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.".into())
    }
}

/// An absolute http(s) URL of at most 200 characters; empty clears it.
fn parse_website(input: &str) -> Result<String, String> {
    if input.is_empty() {
        return Ok(String::new());
    }
    if input.chars().count() > 200 {
        return Err("Ensure this field has no more than 200 characters.".into());
    }
    if input.chars().any(char::is_control) {
        return Err("Enter a valid URL.".into());
    }
    match url::Url::parse(input) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty()) => {
            Ok(input.to_owned())
        }
        _ => Err("Enter a valid URL.".into()),
    }
}

/// A password exactly as typed: not trimmed, not blank.
fn password_field() -> Parser<String> {
    Box::new(|value| match as_text(value)? {
        "" => Err("This field may not be blank.".into()),
        s => Ok(s.to_owned()),
    })
}

fn postcode() -> Parser<Postcode> {
    parsed(Postcode::parse)
}

/// Runs the password rules off the async workers (the estimator is CPU-bound).
/// Checks a new password; call it last. The strength estimate, the costly part, runs
/// only when everything else in the request is valid: a request that fails anyway gets
/// the cheap rules' verdict and costs next to nothing.
async fn check_password(fields: &mut Fields<'_>, key: &str, password: &str, inputs: Vec<String>) -> ApiResult<()> {
    let problems = if fields.errors.is_empty() {
        let password = password.to_owned();
        auth::estimating(move || {
            let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            auth::password_problems(&password, &refs)
        })
        .await?
    } else {
        auth::basic_password_problems(password)
    };
    for problem in problems {
        fields.error(key, problem);
    }
    Ok(())
}

const REGISTRATION_FAILED: &str = "Registration failed. Please correct the following errors:";
const EMAIL_TAKEN: &str = "a member with this email already exists.";
const USERNAME_TAKEN: &str = "a member with this username already exists.";

/// Registers an artist or a collector; a collector's gallery is created in the same
/// transaction. A duplicate email or username (in any letter case, even in a race) is a 400.
#[utoipa::path(post, path = "/api/members/register/", tag = "members", request_body(content = crate::openapi::RegisterRequest, content_type = "application/json"), responses((status = 201, description = "Registered", body = crate::openapi::Registered), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "An invalid token was sent", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 429, description = "Too many attempts", body = crate::openapi::Problem, content_type = "application/problem+json")))]
pub(crate) async fn register_member(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeMember(_): MaybeMember,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Value>)> {
    state.limits.count_request(ip, state.clock.now()).await?;
    let mut f = Fields::new(&body);
    let email = f.required("email", parsed(parse_email));
    let username = f.required("username", parsed(parse_username));
    let first_name = f.required("first_name", name());
    let last_name = f.required("last_name", name());
    let user_type = f.required("user_type", parsed(UserType::parse));
    let address = f.required("address", text(1..=255));
    let postcode = f.required("postcode", postcode());
    let bio = f.optional("bio", text(0..=700)).unwrap_or_default();
    let website = f.optional("website", parsed(parse_website)).unwrap_or_default();
    let password = f.required("password", password_field());
    let confirmation = f.required("password_confirmation", password_field());
    if let (Some(p), Some(c)) = (&password, &confirmation) {
        if p != c {
            f.error("password_confirmation", "passwords do not match");
        }
    }
    if let Some(email) = &email {
        if taken(state.db.pool(), "email_lower", &email.to_lowercase()).await? {
            f.error("email", EMAIL_TAKEN);
        }
    }
    if let Some(username) = &username {
        if taken(state.db.pool(), "username_skeleton", &username_skeleton(username)).await? {
            f.error("username", USERNAME_TAKEN);
        }
    }
    if let Some(p) = &password {
        let inputs = [&email, &username, &first_name, &last_name]
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        check_password(&mut f, "password", p, inputs).await?;
    }
    let complete = (
        email, username, first_name, last_name, user_type, address, postcode, password,
    );
    let (
        Some(email),
        Some(username),
        Some(first_name),
        Some(last_name),
        Some(user_type),
        Some(address),
        Some(postcode),
        Some(password),
    ) = complete
    else {
        return Err(ApiError::Validation {
            message: Some(REGISTRATION_FAILED),
            errors: f.errors,
        });
    };
    f.finish_with(Some(REGISTRATION_FAILED))?;

    let hash = auth::hash_password(password).await?;
    let now = clock::to_db(state.clock.now());
    let mut tx = state.db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO members (email, email_lower, username, username_lower, username_skeleton, first_name, last_name, \
         user_type, address, postcode, bio, website, password_hash, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $14, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id",
    )
    .bind(&email)
    .bind(email.to_lowercase())
    .bind(&username)
    .bind(username.to_lowercase())
    .bind(&first_name)
    .bind(&last_name)
    .bind(user_type.as_str())
    .bind(&address)
    .bind(postcode.as_str())
    .bind(&bio)
    .bind(&website)
    .bind(&hash)
    .bind(&now)
    .bind(username_skeleton(&username))
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match inserted {
        Ok(row) => row.try_get("id")?,
        Err(e) => return Err(registration_conflict(e)),
    };
    if user_type == UserType::Collector {
        sqlx::query("INSERT INTO galleries (curator_id, created_at) VALUES ($1, $2)")
            .bind(id)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(
        member.id = id,
        member.user_type = user_type.as_str(),
        "member registered"
    );
    Ok((
        StatusCode::CREATED,
        Json(json!({"message": "Registration Successful. Welcome to the studio.", "id": id})),
    ))
}

/// Fills the username skeleton of members registered before it existed. Two old
/// usernames that look alike keep working; the second is logged and left without one.
pub async fn fill_username_skeletons(db: &crate::db::Db) -> anyhow::Result<()> {
    let rows = sqlx::query("SELECT id, username FROM members WHERE username_skeleton IS NULL")
        .fetch_all(db.pool())
        .await?;
    for row in rows {
        let (id, username): (i64, String) = (row.try_get("id")?, row.try_get("username")?);
        let mut tx = db.begin().await?;
        let filled = sqlx::query("UPDATE members SET username_skeleton = $1 WHERE id = $2")
            .bind(username_skeleton(&username))
            .bind(id)
            .execute(&mut *tx)
            .await;
        match filled {
            Ok(_) => tx.commit().await?,
            Err(e) if unique_violation(&e).is_some() => {
                tracing::warn!(member.id = id, username, "this username looks like another member's")
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A registration that lost a race to the unique index is a 400 like any duplicate.
fn registration_conflict(error: sqlx::Error) -> ApiError {
    let Some(constraint) = unique_violation(&error) else {
        return error.into();
    };
    let mut errors = FieldErrors::default();
    if constraint.contains("username") {
        errors.add("username", USERNAME_TAKEN);
    } else {
        errors.add("email", EMAIL_TAKEN);
    }
    ApiError::Validation {
        message: Some(REGISTRATION_FAILED),
        errors,
    }
}

async fn taken(pool: &AnyPool, column: &str, value: &str) -> Result<bool, sqlx::Error> {
    let sql = format!("SELECT id FROM members WHERE {column} = $1");
    Ok(sqlx::query(&sql).bind(value).fetch_optional(pool).await?.is_some())
}

/// Logs a member in with email and password; an unknown email and a wrong password get
/// the same 401 after the same amount of work.
#[utoipa::path(post, path = "/api/members/login/", tag = "members", request_body(content = crate::openapi::LoginRequest, content_type = "application/json"), responses((status = 200, description = "Logged in", body = crate::openapi::LoggedIn), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Invalid email or password", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 429, description = "Too many attempts", body = crate::openapi::Problem, content_type = "application/problem+json")))]
pub(crate) async fn login_member(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeMember(_): MaybeMember,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    state.limits.count_request(ip, state.clock.now()).await?;
    let mut f = Fields::new(&body);
    let email = f.required("email", text(1..=254));
    let password = f.required("password", password_field());
    let (Some(email), Some(password)) = (email, password) else {
        return Err(ApiError::invalid(f.errors));
    };
    let account = email.to_lowercase();
    state.limits.check(&account, ip, state.clock.now()).await?;
    let row = sqlx::query(&format!("{MEMBER_SELECT} WHERE m.email_lower = $1"))
        .bind(&account)
        .fetch_optional(state.db.pool())
        .await?;
    let (member, hash) = match row {
        Some(row) => (
            Some(member_from_row(&row)?),
            Some(row.try_get::<String, _>("password_hash")?),
        ),
        None => (None, None),
    };
    let verified = auth::verify_password(hash, password).await?;
    let Some(member) = member.filter(|_| verified) else {
        // Counted for unknown emails too, so the limit reveals nothing either.
        state.limits.failed(&account, ip, state.clock.now()).await?;
        return Err(ApiError::InvalidCredentials);
    };
    state.limits.succeeded(&account, ip).await?;
    let token = auth::issue_token(&state.keys, &member, state.clock.now(), state.config.token_ttl_days)?;
    let mut body = json!({
        "token": token,
        "message": format!("Welcome back {} {}.", member.first_name, member.last_name),
    });
    if let (Some(gallery_id), Some(map)) = (member.gallery_id, body.as_object_mut()) {
        map.insert("gallery_id".into(), json!(gallery_id));
    }
    Ok(Json(body))
}

async fn password_hash(pool: &AnyPool, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query("SELECT password_hash FROM members WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?
        .try_get(0)
}

/// The logged-in member's own details.
#[utoipa::path(get, path = "/api/members/user/", tag = "members", responses((status = 200, description = "The member", body = crate::openapi::MemberView), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn get_current_member(CurrentMember(member): CurrentMember) -> Json<Value> {
    Json(member.to_json())
}

/// Updates one's own names, address, postcode, bio and website (registration's rules).
#[utoipa::path(patch, path = "/api/members/user/", tag = "members", request_body(content = crate::openapi::ProfileUpdate, content_type = "application/json"), responses((status = 200, description = "Updated", body = crate::openapi::MemberView), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn update_current_member(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    let mut f = Fields::new(&body);
    let first_name = f.optional("first_name", name()).unwrap_or(member.first_name.clone());
    let last_name = f.optional("last_name", name()).unwrap_or(member.last_name.clone());
    let address = f.optional("address", text(1..=255)).unwrap_or(member.address.clone());
    let postcode = f
        .optional("postcode", postcode())
        .map(|p| p.to_string())
        .unwrap_or(member.postcode.clone());
    let bio = if body.contains_key("bio") {
        f.optional("bio", text(0..=700)).unwrap_or_default()
    } else {
        member.bio.clone()
    };
    let website = if body.contains_key("website") {
        f.optional("website", parsed(parse_website)).unwrap_or_default()
    } else {
        member.website.clone()
    };
    f.finish()?;
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "UPDATE members SET first_name = $1, last_name = $2, address = $3, postcode = $4, bio = $5, website = $6, \
         updated_at = $7 WHERE id = $8",
    )
    .bind(&first_name)
    .bind(&last_name)
    .bind(&address)
    .bind(&postcode)
    .bind(&bio)
    .bind(&website)
    .bind(clock::to_db(state.clock.now()))
    .bind(member.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    state.catalogue.invalidate();
    let updated = find(state.db.pool(), member.id)
        .await?
        .ok_or_else(|| ApiError::not_found("Member not found."))?;
    Ok(Json(updated.to_json()))
}

/// Changes one's password; every token issued before stops working.
#[utoipa::path(post, path = "/api/members/password/", tag = "members", request_body(content = crate::openapi::PasswordChange, content_type = "application/json"), responses((status = 200, description = "Changed", body = crate::openapi::Message), (status = 400, description = "Invalid input", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::openapi::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::openapi::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CurrentMember(member): CurrentMember,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Value>> {
    // A stolen token must not become a way to guess the password: wrong current
    // passwords count like failed logins.
    let account = member.email.to_lowercase();
    let mut f = Fields::new(&body);
    let current = f.required("current_password", password_field());
    let new = f.required("new_password", password_field());
    let confirmation = f.required("new_password_confirmation", password_field());
    if let (Some(n), Some(c)) = (&new, &confirmation) {
        if n != c {
            f.error("new_password_confirmation", "passwords do not match");
        }
    }
    if let Some(current) = &current {
        let hash = password_hash(state.db.pool(), member.id).await?;
        state.limits.check(&account, ip, state.clock.now()).await?;
        if auth::verify_password(Some(hash), current.clone()).await? {
            state.limits.succeeded(&account, ip).await?;
        } else {
            state.limits.failed(&account, ip, state.clock.now()).await?;
            f.error("current_password", "Your current password is incorrect.");
        }
    }
    if let Some(n) = &new {
        let inputs = vec![
            member.email.clone(),
            member.username.clone(),
            member.first_name.clone(),
            member.last_name.clone(),
        ];
        check_password(&mut f, "new_password", n, inputs).await?;
    }
    let Some(new) = new else {
        return Err(ApiError::invalid(f.errors));
    };
    f.finish()?;
    let hash = auth::hash_password(new).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "UPDATE members SET password_hash = $1, token_generation = token_generation + 1, updated_at = $2 WHERE id = $3",
    )
    .bind(&hash)
    .bind(clock::to_db(state.clock.now()))
    .bind(member.id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(member.id = member.id, "password changed");
    Ok(Json(json!({"message": "Password changed."})))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(parse_email("ada@example.com").is_ok());
        assert!(parse_email("Ada.Lovelace+art@Example.co.uk").is_ok());
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@@example.com",
        ] {
            assert!(parse_email(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(parse_email(&long).is_err());
    }

    #[test]
    fn usernames() {
        assert!(parse_username("ada.l+art-1_@x").is_ok());
        assert!(parse_username("Zoë").is_ok());
        assert!(parse_username("ada lovelace").is_err());
        assert!(parse_username("ada/l").is_err());
        assert!(parse_username(&"a".repeat(151)).is_err());
        assert!(parse_username(&"a".repeat(150)).is_ok());
    }

    #[test]
    fn websites() {
        assert!(parse_website("https://ada.example/art").is_ok());
        assert!(parse_website("").is_ok());
        assert!(parse_website("ftp://ada.example").is_err());
        assert!(parse_website("ada.example").is_err());
        assert!(parse_website("javascript:alert(1)").is_err());
        assert!(parse_website(&format!("https://a.example/{}", "x".repeat(200))).is_err());
    }
}
