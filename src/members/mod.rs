//! Members: who they are, and the operations on them (registration, login, profile and
//! password changes, staff). The faces call these; all of the members table's SQL is here.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::{AnyPool, Row};
use unicode_normalization::UnicodeNormalization;
use unicode_security::general_security_profile::IdentifierType;
use unicode_security::GeneralSecurityProfile;

pub mod sessions;

use crate::cache::Recent;
use crate::clock;
use crate::db::{Bind, Binds, Columns, Db, FromColumns, ReadFault};
use crate::error::{unique_violation, ApiError, ApiResult, FieldErrors};
use crate::input::{as_text, boolean, http_url, parsed, text, Fields, Parser};
use crate::passwords;
use crate::postcode::Postcode;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
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

/// A member as stored, without the password hash: that is read only where it is checked.
#[derive(Debug, Clone)]
pub struct Member {
    pub id: i64,
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub address: String,
    pub postcode: Postcode,
    pub bio: String,
    pub website: String,
    pub is_staff: bool,
    pub token_generation: i64,
    /// Collectors only.
    pub gallery_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    /// Whether notifications also go by email.
    pub email_notifications: bool,
}

impl Member {
    pub fn is_artist(&self) -> bool {
        self.user_type == UserType::Artist
    }

    pub fn is_collector(&self) -> bool {
        self.user_type == UserType::Collector
    }

    pub fn outward_postcode(&self) -> &str {
        self.postcode.outward()
    }
}

const MEMBER_SELECT: &str = "SELECT m.id, m.email, m.username, m.first_name, m.last_name, m.user_type, \
     m.address, m.postcode, m.bio, m.website, m.is_staff, m.token_generation, m.created_at, m.email_notifications, \
     g.id AS gallery_id, m.password_hash FROM members m LEFT JOIN galleries g ON g.curator_id = m.id";

/// A member from [`MEMBER_SELECT`]'s columns, by position.
impl FromColumns for Member {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        Ok(Member {
            id: row.int(0)?,
            email: row.text(1)?,
            username: row.text(2)?,
            first_name: row.text(3)?,
            last_name: row.text(4)?,
            user_type: UserType::parse(row.str(5)?).map_err(|e| row.invalid(5, e.into()))?,
            address: row.text(6)?,
            postcode: Postcode::stored(row.text(7)?),
            bio: row.text(8)?,
            website: row.text(9)?,
            is_staff: row.flag(10)?,
            token_generation: row.int(11)?,
            created_at: row.timestamp(12)?,
            email_notifications: row.flag(13)?,
            gallery_id: row.optional_int(14)?,
        })
    }
}

/// Members recently read to authenticate a request, on this instance: a token is checked
/// against a copy at most a second old, so most requests cost no query for it. A change
/// made here (password, profile) forgets the copy at once, so revocation is immediate on
/// this instance; a change made on another shows here within a second.
#[derive(Default)]
pub struct RecentMembers(Recent<i64, Member>);

/// A member by id, as read at most a second ago on this instance.
pub async fn find_recent(state: &AppState, id: i64) -> Result<Option<Member>, ReadFault> {
    let recent = state.memos.get::<RecentMembers>();
    if let Some(member) = recent.0.get(&id) {
        return Ok(Some(member));
    }
    let found = find(&state.db, id).await?;
    match &found {
        Some(member) => recent.0.put(id, member.clone()),
        None => recent.0.forget(&id),
    }
    Ok(found)
}

/// Forgets this instance's copy of a member: after a change to them.
fn forget(state: &AppState, id: i64) {
    state.memos.get::<RecentMembers>().0.forget(&id);
}

/// Loads a member by id: a hot read, as every authenticated request makes it once a
/// second ([`find_recent`]).
pub async fn find(db: &Db, id: i64) -> Result<Option<Member>, ReadFault> {
    let mut binds = Binds::default();
    let sql = format!("{MEMBER_SELECT} WHERE m.id = {}", binds.push(Bind::Int(id)));
    db.reads().one(&sql, &binds).await
}

/// The member registered with this email (compared case-insensitively), if any, and
/// their password hash.
async fn find_with_hash(pool: &AnyPool, email: &str) -> Result<Option<(Member, String)>, sqlx::Error> {
    let sql = format!("{MEMBER_SELECT} WHERE m.email_lower = $1");
    let row = sqlx::query(&sql)
        .bind(email.to_lowercase())
        .fetch_optional(pool)
        .await?;
    row.map(|row| Ok((Member::read(&row)?, row.try_get(15)?))).transpose()
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
    match input {
        "" => Ok(String::new()),
        url => http_url(url, 200, "Enter a valid URL."),
    }
}

/// A password exactly as typed: not trimmed, not blank.
fn password_field() -> Parser<String> {
    Box::new(|value| match as_text(value)? {
        "" => Err("This field may not be blank.".into()),
        s => Ok(s.to_owned()),
    })
}

/// A new password and its confirmation, which must match.
fn confirmed(f: &mut Fields<'_>, key: &str, confirmation_key: &str) -> (Option<String>, Option<String>) {
    let password = f.required(key, password_field());
    let confirmation = f.required(confirmation_key, password_field());
    if password.is_some() && confirmation.is_some() && password != confirmation {
        f.error(confirmation_key, "passwords do not match");
    }
    (password, confirmation)
}

/// Runs the password rules off the async workers (the estimator is CPU-bound).
/// Checks a new password; call it last. The strength estimate, the costly part, runs
/// only when everything else in the request is valid: a request that fails anyway gets
/// the cheap rules' verdict and costs next to nothing.
async fn check_password(fields: &mut Fields<'_>, key: &str, password: &str, inputs: Vec<String>) -> ApiResult<()> {
    let problems = if fields.errors.is_empty() {
        let password = password.to_owned();
        passwords::estimating(move || {
            let refs: Vec<&str> = inputs.iter().map(String::as_str).collect();
            passwords::password_problems(&password, &refs)
        })
        .await?
    } else {
        passwords::basic_password_problems(password)
    };
    for problem in problems {
        fields.error(key, problem);
    }
    Ok(())
}

// Each field as read: `None` where it is missing or invalid, the problem in the form's
// errors, so that every problem is reported at once.
/// A registration: an artist or a collector joins.
#[derive(utoipa::ToSchema)]
#[schema(as = RegisterRequest)]
pub struct Registration {
    #[schema(required = true, value_type = String)]
    pub email: Option<String>,
    #[schema(required = true, value_type = String)]
    pub username: Option<String>,
    #[schema(required = true, value_type = String)]
    pub first_name: Option<String>,
    #[schema(required = true, value_type = String)]
    pub last_name: Option<String>,
    #[schema(required = true, value_type = UserType)]
    pub user_type: Option<UserType>,
    #[schema(required = true, value_type = String)]
    pub address: Option<String>,
    /// A UK postcode.
    #[schema(required = true, value_type = String)]
    pub postcode: Option<Postcode>,
    pub bio: Option<String>,
    pub website: Option<String>,
    #[schema(required = true, value_type = String)]
    pub password: Option<String>,
    /// The password again.
    #[schema(required = true, value_type = String)]
    pub password_confirmation: Option<String>,
}

impl Registration {
    fn read(f: &mut Fields<'_>) -> Self {
        let mut registration = Self {
            email: f.required("email", parsed(parse_email)),
            username: f.required("username", parsed(parse_username)),
            first_name: f.required("first_name", name()),
            last_name: f.required("last_name", name()),
            user_type: f.required("user_type", parsed(UserType::parse)),
            address: f.required("address", text(1..=255)),
            postcode: f.required("postcode", parsed(Postcode::parse)),
            bio: f.optional("bio", text(0..=700)),
            website: f.optional("website", parsed(parse_website)),
            password: None,
            password_confirmation: None,
        };
        (registration.password, registration.password_confirmation) = confirmed(f, "password", "password_confirmation");
        registration
    }
}

const REGISTRATION_FAILED: &str = "Registration failed. Please correct the following errors:";
const EMAIL_TAKEN: &str = "a member with this email already exists.";
const USERNAME_TAKEN: &str = "a member with this username already exists.";

/// A member to create, every field already checked.
pub struct NewMember {
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub user_type: UserType,
    pub address: String,
    pub postcode: Postcode,
    pub bio: String,
    pub website: String,
    pub is_staff: bool,
}

/// The one way a member is written: with a gallery for a collector, in one transaction.
/// A duplicate email or username (in any letter case, even in a race) is a 400.
pub async fn create(db: &Db, now: DateTime<Utc>, new: &NewMember, password_hash: &str) -> ApiResult<i64> {
    let now = clock::to_db(now);
    let mut tx = db.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO members (email, email_lower, username, username_lower, username_skeleton, first_name, last_name, \
         user_type, address, postcode, bio, website, password_hash, is_staff, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15) RETURNING id",
    )
    .bind(&new.email)
    .bind(new.email.to_lowercase())
    .bind(&new.username)
    .bind(new.username.to_lowercase())
    .bind(username_skeleton(&new.username))
    .bind(&new.first_name)
    .bind(&new.last_name)
    .bind(new.user_type.as_str())
    .bind(&new.address)
    .bind(new.postcode.as_str())
    .bind(&new.bio)
    .bind(&new.website)
    .bind(password_hash)
    .bind(new.is_staff)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await;
    let id: i64 = match inserted {
        Ok(row) => row.try_get("id")?,
        Err(e) => return Err(registration_conflict(e)),
    };
    if new.user_type == UserType::Collector {
        sqlx::query("INSERT INTO galleries (curator_id, created_at) VALUES ($1, $2)")
            .bind(id)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    tracing::info!(
        member.id = id,
        member.user_type = new.user_type.as_str(),
        "member registered"
    );
    Ok(id)
}

/// Registers an artist or a collector from a submitted form (the JSON body or the web
/// page's fields), with the first version's rules and messages, every problem at once.
pub async fn register(state: &AppState, ip: Option<IpAddr>, form: &Map<String, Value>) -> ApiResult<i64> {
    state.limits.count_request(ip, state.clock.now()).await?;
    let mut f = Fields::new(form);
    let Registration {
        email,
        username,
        first_name,
        last_name,
        user_type,
        address,
        postcode,
        bio,
        website,
        password,
        ..
    } = Registration::read(&mut f);
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
    let complete = || {
        let (email, username, first_name, last_name) = (email?, username?, first_name?, last_name?);
        let (user_type, address, postcode) = (user_type?, address?, postcode?);
        let new = NewMember {
            email,
            username,
            first_name,
            last_name,
            user_type,
            address,
            postcode,
            bio: bio.unwrap_or_default(),
            website: website.unwrap_or_default(),
            is_staff: false,
        };
        Some((new, password?))
    };
    let Some((new, password)) = complete() else {
        return Err(ApiError::Validation {
            message: Some(REGISTRATION_FAILED),
            errors: f.errors,
        });
    };
    f.finish_with(Some(REGISTRATION_FAILED))?;
    let hash = passwords::hash_password(password).await?;
    create(&state.db, state.clock.now(), &new, &hash).await
}

/// An email and password, as the login form sends them.
#[derive(utoipa::ToSchema)]
#[schema(as = LoginRequest)]
pub struct Credentials {
    pub email: String,
    pub password: String,
}

impl Credentials {
    fn read(form: &Map<String, Value>) -> ApiResult<Self> {
        let mut f = Fields::new(form);
        match (
            f.required("email", text(1..=254)),
            f.required("password", password_field()),
        ) {
            (Some(email), Some(password)) => Ok(Self { email, password }),
            _ => Err(ApiError::invalid(f.errors)),
        }
    }
}

/// Checks an email and password, within the login rate limits; an unknown email and a
/// wrong password get the same 401 after the same amount of work.
pub async fn authenticate(state: &AppState, ip: Option<IpAddr>, form: &Map<String, Value>) -> ApiResult<Member> {
    state.limits.count_request(ip, state.clock.now()).await?;
    let Credentials { email, password } = Credentials::read(form)?;
    let account = email.to_lowercase();
    state.limits.check(&account, ip, state.clock.now()).await?;
    let (member, hash) = find_with_hash(state.db.pool(), &account).await?.unzip();
    let verified = passwords::verify_password(hash.clone(), password.clone()).await?;
    let Some(member) = member.filter(|_| verified) else {
        // Counted for unknown emails too, so the limit reveals nothing either.
        state.limits.failed(&account, ip, state.clock.now()).await?;
        return Err(ApiError::InvalidCredentials);
    };
    state.limits.succeeded(&account, ip).await?;
    if let Some(old) = hash.filter(|hash| passwords::needs_rehash(hash)) {
        upgrade_hash(state, member.id, &old, password).await?;
    }
    Ok(member)
}

/// Replaces a first version's password hash (kept by the import) with Argon2id once its
/// password is known, in the request that logged in with it. Only while the stored hash
/// is still that one: a password changed meanwhile wins. Tokens and sessions stay valid,
/// as the password did not change.
async fn upgrade_hash(state: &AppState, member_id: i64, old: &str, password: String) -> ApiResult<()> {
    let new = passwords::hash_password(password).await?;
    let mut tx = state.db.begin().await?;
    sqlx::query("UPDATE members SET password_hash = $1 WHERE id = $2 AND password_hash = $3")
        .bind(new)
        .bind(member_id)
        .bind(old)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    tracing::info!(
        member.id = member_id,
        "a first version's password hash replaced with Argon2id"
    );
    Ok(())
}

/// Changes to a member's profile: each field is optional; an empty `bio` or `website`
/// clears it.
#[derive(utoipa::ToSchema)]
pub struct ProfileUpdate {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub address: Option<String>,
    #[schema(value_type = Option<String>)]
    pub postcode: Option<Postcode>,
    pub bio: Option<String>,
    pub website: Option<String>,
    /// Whether notifications also go by email.
    pub email_notifications: Option<bool>,
}

impl ProfileUpdate {
    fn read(f: &mut Fields<'_>, form: &Map<String, Value>) -> Self {
        // Sent, even as null, clears; not sent keeps.
        let clearable = |f: &mut Fields<'_>, key: &str, parser| {
            form.contains_key(key)
                .then(|| f.optional(key, parser).unwrap_or_default())
        };
        Self {
            first_name: f.optional("first_name", name()),
            last_name: f.optional("last_name", name()),
            address: f.optional("address", text(1..=255)),
            postcode: f.optional("postcode", parsed(Postcode::parse)),
            bio: clearable(f, "bio", text(0..=700)),
            website: clearable(f, "website", parsed(parse_website)),
            email_notifications: f.optional("email_notifications", boolean()),
        }
    }
}

/// Changes some of a member's names, address, postcode, bio and website (registration's
/// rules); returns the member as they are now.
pub async fn update_profile(state: &AppState, member: &Member, form: &Map<String, Value>) -> ApiResult<Member> {
    let mut f = Fields::new(form);
    let changes = ProfileUpdate::read(&mut f, form);
    f.finish()?;
    let first_name = changes.first_name.unwrap_or_else(|| member.first_name.clone());
    let last_name = changes.last_name.unwrap_or_else(|| member.last_name.clone());
    let address = changes.address.unwrap_or_else(|| member.address.clone());
    let postcode = changes.postcode.unwrap_or_else(|| member.postcode.clone());
    let bio = changes.bio.unwrap_or_else(|| member.bio.clone());
    let website = changes.website.unwrap_or_else(|| member.website.clone());
    let email_notifications = changes.email_notifications.unwrap_or(member.email_notifications);
    let mut tx = state.db.begin().await?;
    sqlx::query(
        "UPDATE members SET first_name = $1, last_name = $2, address = $3, postcode = $4, bio = $5, website = $6, \
         updated_at = $7, email_notifications = $9 WHERE id = $8",
    )
    .bind(&first_name)
    .bind(&last_name)
    .bind(&address)
    .bind(postcode.as_str())
    .bind(&bio)
    .bind(&website)
    .bind(clock::to_db(state.clock.now()))
    .bind(member.id)
    .bind(email_notifications)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    forget(state, member.id);
    // Artists' names and postcodes show on their artworks.
    state.catalogue.invalidate();
    find(&state.db, member.id)
        .await?
        .ok_or_else(|| ApiError::not_found("Member not found."))
}

/// A new password, with the current one.
#[derive(utoipa::ToSchema)]
pub struct PasswordChange {
    #[schema(required = true, value_type = String)]
    pub current_password: Option<String>,
    #[schema(required = true, value_type = String)]
    pub new_password: Option<String>,
    #[schema(required = true, value_type = String)]
    pub new_password_confirmation: Option<String>,
}

impl PasswordChange {
    fn read(f: &mut Fields<'_>) -> Self {
        let current_password = f.required("current_password", password_field());
        let (new_password, new_password_confirmation) = confirmed(f, "new_password", "new_password_confirmation");
        Self {
            current_password,
            new_password,
            new_password_confirmation,
        }
    }
}

/// Changes a member's password; every token issued before stops working. Wrong current
/// passwords count like failed logins: a stolen token must not become a way to guess
/// the password.
pub async fn change_password(
    state: &AppState,
    ip: Option<IpAddr>,
    member: &Member,
    form: &Map<String, Value>,
) -> ApiResult<()> {
    let account = member.email.to_lowercase();
    let mut f = Fields::new(form);
    let PasswordChange {
        current_password: current,
        new_password: new,
        ..
    } = PasswordChange::read(&mut f);
    if let Some(current) = &current {
        let hash = password_hash(state.db.pool(), member.id).await?;
        state.limits.check(&account, ip, state.clock.now()).await?;
        if passwords::verify_password(Some(hash), current.clone()).await? {
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
    let hash = passwords::hash_password(new).await?;
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
    forget(state, member.id);
    tracing::info!(member.id = member.id, "password changed");
    Ok(())
}

async fn password_hash(pool: &AnyPool, id: i64) -> Result<String, sqlx::Error> {
    sqlx::query("SELECT password_hash FROM members WHERE id = $1")
        .bind(id)
        .fetch_one(pool)
        .await?
        .try_get(0)
}

/// The member registered with this email (compared case-insensitively), if any.
pub async fn find_by_email(db: &Db, email: &str) -> Result<Option<Member>, sqlx::Error> {
    Ok(find_with_hash(db.pool(), email).await?.map(|(member, _)| member))
}

/// Whether a username, or one that looks like it, is taken.
pub async fn username_taken(db: &Db, username: &str) -> Result<bool, sqlx::Error> {
    taken(db.pool(), "username_skeleton", &username_skeleton(username)).await
}

/// Makes a member staff.
pub async fn make_staff(db: &Db, now: DateTime<Utc>, id: i64) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE members SET is_staff = TRUE, updated_at = $1 WHERE id = $2")
        .bind(clock::to_db(now))
        .bind(id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await
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
