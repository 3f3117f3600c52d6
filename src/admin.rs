//! Command-line administration: making staff members.

use anyhow::{bail, Context};
use sqlx::Row;

use crate::auth;
use crate::clock::{self, Clock};
use crate::db::Db;
use crate::postcode::Postcode;

pub struct NewAdmin {
    pub email: String,
    pub username: String,
    pub first_name: String,
    pub last_name: String,
    pub address: String,
    pub postcode: String,
    pub password: String,
}

/// A member already registered with an email.
#[derive(Debug)]
pub struct Existing {
    pub id: i64,
    pub username: String,
    pub is_staff: bool,
}

/// The member registered with this email (compared case-insensitively), if any.
pub async fn find_by_email(db: &Db, email: &str) -> anyhow::Result<Option<Existing>> {
    let row = sqlx::query("SELECT id, username, is_staff FROM members WHERE email_lower = $1")
        .bind(email.to_lowercase())
        .fetch_optional(db.pool())
        .await?;
    row.map(|row| {
        Ok(Existing {
            id: row.try_get("id")?,
            username: row.try_get("username")?,
            is_staff: crate::db::flag(&row, "is_staff")?,
        })
    })
    .transpose()
}

/// Makes an existing member staff, leaving their password as it is. Says what was done.
pub async fn promote(db: &Db, clock: &Clock, member: &Existing) -> anyhow::Result<String> {
    if member.is_staff {
        return Ok(format!(
            "Member {} ({}) is already staff; nothing changed.",
            member.id, member.username
        ));
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE members SET is_staff = TRUE, updated_at = $1 WHERE id = $2")
        .bind(clock::to_db(clock.now()))
        .bind(member.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(format!(
        "Member {} ({}) is now staff. Their password is unchanged: no password was used.",
        member.id, member.username
    ))
}

/// Creates a staff member (a collector, with a gallery). An email that is already
/// registered is refused: promoting someone is [`promote`], asked for explicitly,
/// because anyone could have registered `admin@…` first.
pub async fn create_admin(db: &Db, clock: &Clock, new: NewAdmin) -> anyhow::Result<String> {
    let now = clock::to_db(clock.now());
    let mut tx = db.begin().await?;
    let by_email: Option<i64> = sqlx::query_scalar("SELECT id FROM members WHERE email_lower = $1")
        .bind(new.email.to_lowercase())
        .fetch_optional(&mut *tx)
        .await?;
    if let Some(id) = by_email {
        bail!(
            "{} is already registered (member {id}); nothing was changed. Run again with --promote to make that member staff.",
            new.email
        );
    }
    let skeleton = crate::members::username_skeleton(&new.username);
    let by_username: Option<i64> = sqlx::query_scalar("SELECT id FROM members WHERE username_skeleton = $1")
        .bind(&skeleton)
        .fetch_optional(&mut *tx)
        .await?;
    if by_username.is_some() {
        bail!("the username {:?} belongs to a member with another email", new.username);
    }
    let postcode = Postcode::parse(&new.postcode).map_err(|e| anyhow::anyhow!("postcode: {e}"))?;
    let problems = auth::password_problems(
        &new.password,
        &[&new.email, &new.username, &new.first_name, &new.last_name],
    );
    if !problems.is_empty() {
        bail!("the password is not acceptable: {}", problems.join(" "));
    }
    if !new.email.contains('@') || new.username.trim().is_empty() {
        bail!("an email address and a username are required");
    }
    let hash = auth::hash_password(new.password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let id: i64 = sqlx::query(
        "INSERT INTO members (email, email_lower, username, username_lower, username_skeleton, first_name, last_name, \
         user_type, address, postcode, password_hash, is_staff, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $11, $5, $6, $12, $7, $8, $9, TRUE, $10, $10) RETURNING id",
    )
    .bind(&new.email)
    .bind(new.email.to_lowercase())
    .bind(&new.username)
    .bind(new.username.to_lowercase())
    .bind(&new.first_name)
    .bind(&new.last_name)
    .bind(&new.address)
    .bind(postcode.as_str())
    .bind(&hash)
    .bind(&now)
    .bind(&skeleton)
    .bind(crate::members::UserType::Collector.as_str())
    .fetch_one(&mut *tx)
    .await
    .context("creating the member")?
    .try_get("id")?;
    sqlx::query("INSERT INTO galleries (curator_id, created_at) VALUES ($1, $2)")
        .bind(id)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(format!("Staff member {id} created."))
}
