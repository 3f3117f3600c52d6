//! The members' routes: registration, login, the current member, profile and password.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::Message;
use crate::auth::{CurrentMember, MaybeMember};
use crate::error::ApiResult;
use crate::input::JsonBody;
use crate::limits::ClientIp;
use crate::members::{self, Member, UserType};
use crate::postcode::Postcode;
use crate::state::AppState;
use crate::tokens;

/// A member's own view of themselves.
#[derive(Serialize, ToSchema)]
pub struct MemberView {
    id: i64,
    email: String,
    username: String,
    first_name: String,
    last_name: String,
    user_type: UserType,
    address: String,
    #[schema(value_type = String)]
    postcode: Postcode,
    bio: String,
    website: String,
    /// Collectors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    gallery_id: Option<i64>,
    /// Whether notifications also go by email.
    email_notifications: bool,
}

impl From<Member> for MemberView {
    fn from(member: Member) -> Self {
        Self {
            id: member.id,
            email: member.email,
            username: member.username,
            first_name: member.first_name,
            last_name: member.last_name,
            user_type: member.user_type,
            address: member.address,
            postcode: member.postcode,
            bio: member.bio,
            website: member.website,
            gallery_id: member.gallery_id,
            email_notifications: member.email_notifications,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct Registered {
    message: &'static str,
    id: i64,
}

#[derive(Serialize, ToSchema)]
pub struct LoggedIn {
    token: String,
    message: String,
    /// Collectors only.
    #[serde(skip_serializing_if = "Option::is_none")]
    gallery_id: Option<i64>,
}

/// Registers an artist or a collector; a collector's gallery is created in the same
/// transaction. A duplicate email or username (in any letter case, even in a race) is a 400.
#[utoipa::path(post, path = "/api/members/register/", tag = "members", request_body(content = members::Registration, content_type = "application/json"), responses((status = 201, description = "Registered", body = Registered), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "An invalid token was sent", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json"), (status = 429, description = "Too many attempts", body = crate::error::Problem, content_type = "application/problem+json")))]
pub(crate) async fn register_member(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeMember(_): MaybeMember,
    JsonBody(body): JsonBody,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    let id = members::register(&state, ip, &body).await?;
    let message = "Registration Successful. Welcome to the studio.";
    Ok((StatusCode::CREATED, Json(Registered { message, id })))
}

/// Logs a member in with email and password; an unknown email and a wrong password get
/// the same 401 after the same amount of work.
#[utoipa::path(post, path = "/api/members/login/", tag = "members", request_body(content = members::Credentials, content_type = "application/json"), responses((status = 200, description = "Logged in", body = LoggedIn), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Invalid email or password", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json"), (status = 429, description = "Too many attempts", body = crate::error::Problem, content_type = "application/problem+json")))]
pub(crate) async fn login_member(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    MaybeMember(_): MaybeMember,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<LoggedIn>> {
    let member = members::authenticate(&state, ip, &body).await?;
    let now = state.clock.now();
    let token = tokens::issue_token(
        &state.keys,
        member.id,
        member.token_generation,
        now,
        state.config.token_ttl_days,
    )?;
    Ok(Json(LoggedIn {
        token,
        message: format!("Welcome back {} {}.", member.first_name, member.last_name),
        gallery_id: member.gallery_id,
    }))
}

/// The logged-in member's own details.
#[utoipa::path(get, path = "/api/members/user/", tag = "members", responses((status = 200, description = "The member", body = MemberView), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn get_current_member(CurrentMember(member): CurrentMember) -> Json<MemberView> {
    Json(member.into())
}

/// Updates one's own names, address, postcode, bio and website (registration's rules).
#[utoipa::path(patch, path = "/api/members/user/", tag = "members", request_body(content = members::ProfileUpdate, content_type = "application/json"), responses((status = 200, description = "Updated", body = MemberView), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn update_current_member(
    State(state): State<AppState>,
    CurrentMember(member): CurrentMember,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<MemberView>> {
    Ok(Json(members::update_profile(&state, &member, &body).await?.into()))
}

/// Changes one's password; every token issued before stops working.
#[utoipa::path(post, path = "/api/members/password/", tag = "members", request_body(content = members::PasswordChange, content_type = "application/json"), responses((status = 200, description = "Changed", body = Message), (status = 400, description = "Invalid input", body = crate::error::Problem, content_type = "application/problem+json"), (status = 401, description = "Missing or invalid token", body = crate::error::Problem, content_type = "application/problem+json"), (status = 413, description = "Too large", body = crate::error::Problem, content_type = "application/problem+json"), (status = 415, description = "Not an accepted type", body = crate::error::Problem, content_type = "application/problem+json")), security(("bearer" = [])))]
pub(crate) async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    CurrentMember(member): CurrentMember,
    JsonBody(body): JsonBody,
) -> ApiResult<Json<Message>> {
    members::change_password(&state, ip, &member, &body).await?;
    Ok(Json(Message::new("Password changed.")))
}
