//! Command-line administration: making staff members, through the members operations.

use anyhow::bail;

use crate::clock::Clock;
use crate::db::Db;
use crate::members::{self, Member, NewMember, UserType};
use crate::passwords;
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

/// Makes an existing member staff, leaving their password as it is. Says what was done.
pub async fn promote(db: &Db, clock: &Clock, member: &Member) -> anyhow::Result<String> {
    if member.is_staff {
        return Ok(format!(
            "Member {} ({}) is already staff; nothing changed.",
            member.id, member.username
        ));
    }
    members::make_staff(db, clock.now(), member.id).await?;
    Ok(format!(
        "Member {} ({}) is now staff. Their password is unchanged: no password was used.",
        member.id, member.username
    ))
}

/// Creates a staff member (a collector, with a gallery). An email that is already
/// registered is refused: promoting someone is [`promote`], asked for explicitly,
/// because anyone could have registered `admin@…` first.
pub async fn create_admin(db: &Db, clock: &Clock, new: NewAdmin) -> anyhow::Result<String> {
    if let Some(existing) = members::find_by_email(db, &new.email).await? {
        bail!(
            "{} is already registered (member {}); nothing was changed. Run again with --promote to make that member staff.",
            new.email,
            existing.id
        );
    }
    if members::username_taken(db, &new.username).await? {
        bail!("the username {:?} belongs to a member with another email", new.username);
    }
    let postcode = Postcode::parse(&new.postcode).map_err(|e| anyhow::anyhow!("postcode: {e}"))?;
    let problems = passwords::password_problems(
        &new.password,
        &[&new.email, &new.username, &new.first_name, &new.last_name],
    );
    if !problems.is_empty() {
        bail!("the password is not acceptable: {}", problems.join(" "));
    }
    if !new.email.contains('@') || new.username.trim().is_empty() {
        bail!("an email address and a username are required");
    }
    let hash = passwords::hash_password(new.password).await?;
    let member = NewMember {
        email: new.email,
        username: new.username,
        first_name: new.first_name,
        last_name: new.last_name,
        user_type: UserType::Collector,
        address: new.address,
        postcode,
        bio: String::new(),
        website: String::new(),
        is_staff: true,
    };
    let id = members::create(db, clock.now(), &member, &hash).await?;
    Ok(format!("Staff member {id} created."))
}
