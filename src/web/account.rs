//! Joining, logging in and out, and one's own account: the same operations, rules and
//! messages as the API, with each problem beside its field.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::{header, StatusCode, Uri};
use serde_json::{Map, Value};

use super::session::{set_cookie, Posted, Visitor, SESSION_COOKIE, VISITOR_COOKIE};
use super::{form_failure, page, page_with, see, signed_in, FormView, Layout, PageResult};
use crate::limits::ClientIp;
use crate::members::{self, sessions, Member};
use crate::state::AppState;

/// Where to go after logging in: a path on this site only.
fn next_path(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// Opens a session for `member` and goes to `next` with its cookie; the anonymous
/// browser's own value is no longer needed.
async fn logged_in(state: &AppState, member: &Member, next: &str) -> PageResult {
    let ttl = chrono::Duration::days(state.config.token_ttl_days);
    let secret = sessions::open(&state.db, member, state.clock.now(), ttl).await?;
    let mut response = see(next);
    let environment = state.config.environment;
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &secret, ttl.num_seconds(), environment),
    );
    headers.append(header::SET_COOKIE, set_cookie(VISITOR_COOKIE, "", 0, environment));
    Ok(response)
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    csrf: String,
    next: String,
    form: FormView,
}

pub async fn login_page(State(state): State<AppState>, visitor: Visitor, RawQuery(query): RawQuery) -> PageResult {
    let next = next_path(query_value(query.as_deref(), "next").as_deref());
    if visitor.member.is_some() {
        return Ok(see(&next));
    }
    let template = LoginPage {
        layout: Layout::new(&state, &visitor, "Log in — OpenStudio").in_section("login"),
        csrf: visitor.form_token(&state),
        next,
        form: FormView::default(),
    };
    page(&state, &visitor, template)
}

pub async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Posted { visitor, fields }: Posted,
) -> PageResult {
    let next = next_path(fields.get("next").and_then(Value::as_str));
    match members::authenticate(&state, ip, &fields).await {
        Ok(member) => logged_in(&state, &member, &next).await,
        Err(error) => {
            let (status, form) = form_failure(error, fields)?;
            let template = LoginPage {
                layout: Layout::new(&state, &visitor, "Log in — OpenStudio").in_section("login"),
                csrf: visitor.form_token(&state),
                next,
                form,
            };
            page_with(&state, &visitor, status, template)
        }
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    layout: Layout,
    csrf: String,
    form: FormView,
}

pub async fn register_page(State(state): State<AppState>, visitor: Visitor, RawQuery(query): RawQuery) -> PageResult {
    if visitor.member.is_some() {
        return Ok(see("/account"));
    }
    // `?as=artist` preselects the member type.
    let mut values = Map::new();
    if let Some(kind) = query_value(query.as_deref(), "as").filter(|k| k == "artist" || k == "collector") {
        values.insert("user_type".into(), Value::String(kind));
    }
    let template = RegisterPage {
        layout: Layout::new(&state, &visitor, "Join OpenStudio"),
        csrf: visitor.form_token(&state),
        form: FormView::prefilled(values),
    };
    page(&state, &visitor, template)
}

pub async fn register(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Posted { visitor, fields }: Posted,
) -> PageResult {
    match members::register(&state, ip, &fields).await {
        Ok(id) => match members::find(&state.db, id).await? {
            Some(member) => {
                let home = if member.is_artist() { "/studio" } else { "/artworks" };
                logged_in(&state, &member, home).await
            }
            None => Ok(see("/login")),
        },
        Err(error) => {
            let (status, form) = form_failure(error, fields)?;
            let template = RegisterPage {
                layout: Layout::new(&state, &visitor, "Join OpenStudio"),
                csrf: visitor.form_token(&state),
                form,
            };
            page_with(&state, &visitor, status, template)
        }
    }
}

/// Ends this browser's session; its cookie goes with it.
pub async fn logout(State(state): State<AppState>, Posted { visitor, .. }: Posted) -> PageResult {
    if let Some(secret) = visitor.session() {
        sessions::close_recent(&state, secret).await?;
    }
    let mut response = see("/");
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, state.config.environment),
    );
    Ok(response)
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    layout: Layout,
    csrf: String,
    member: Member,
    profile: FormView,
    password: FormView,
    notice: Option<&'static str>,
}

fn profile_values(member: &Member) -> Map<String, Value> {
    let mut values = Map::new();
    for (key, value) in [
        ("first_name", &member.first_name),
        ("last_name", &member.last_name),
        ("address", &member.address),
        ("bio", &member.bio),
        ("website", &member.website),
    ] {
        values.insert(key.into(), Value::String(value.clone()));
    }
    values.insert("postcode".into(), Value::String(member.postcode.as_str().to_owned()));
    if member.email_notifications {
        values.insert("email_notifications".into(), Value::String("true".into()));
    }
    values
}

fn account_template(
    state: &AppState,
    visitor: &Visitor,
    member: Member,
    profile: Option<FormView>,
    password: Option<FormView>,
    notice: Option<&'static str>,
) -> AccountPage {
    AccountPage {
        layout: Layout::new(state, visitor, "Your account — OpenStudio").in_section("account"),
        csrf: visitor.form_token(state),
        profile: profile.unwrap_or_else(|| FormView::prefilled(profile_values(&member))),
        password: password.unwrap_or_default(),
        member,
        notice,
    }
}

pub async fn account_page(State(state): State<AppState>, visitor: Visitor, uri: Uri) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    let notice = match query_value(uri.query(), "done").as_deref() {
        Some("profile") => Some("Your profile is saved."),
        Some("password") => Some("Your password is changed. Every other device has been logged out."),
        _ => None,
    };
    let template = account_template(&state, &visitor, member, None, None, notice);
    page(&state, &visitor, template)
}

pub async fn update_profile(
    State(state): State<AppState>,
    uri: Uri,
    Posted { visitor, mut fields }: Posted,
) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    // An unticked box sends nothing: email off.
    let email = fields.remove("email_notifications").is_some();
    let mut changes = fields.clone();
    changes.insert("email_notifications".into(), Value::Bool(email));
    if email {
        fields.insert("email_notifications".into(), Value::String("true".into()));
    }
    match members::update_profile(&state, &member, &changes).await {
        Ok(_) => Ok(see("/account?done=profile")),
        Err(error) => {
            let (status, form) = form_failure(error, fields)?;
            let template = account_template(&state, &visitor, member, Some(form), None, None);
            page_with(&state, &visitor, status, template)
        }
    }
}

/// Changes the password: every session and token opened before ends, and this browser
/// gets a new session so the person stays logged in here.
pub async fn change_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    uri: Uri,
    Posted { visitor, fields }: Posted,
) -> PageResult {
    let member = signed_in(&visitor, &uri)?;
    match members::change_password(&state, ip, &member, &fields).await {
        Ok(()) => match members::find(&state.db, member.id).await? {
            Some(changed) => logged_in(&state, &changed, "/account?done=password").await,
            None => Ok(see("/login")),
        },
        Err(error) => {
            let (status, form) = form_failure(error, fields)?;
            let status = if status == StatusCode::UNAUTHORIZED {
                StatusCode::BAD_REQUEST
            } else {
                status
            };
            let template = account_template(&state, &visitor, member, None, Some(form), None);
            page_with(&state, &visitor, status, template)
        }
    }
}
