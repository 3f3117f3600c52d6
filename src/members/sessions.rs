//! Web sessions: the browser keeps a random value in an HttpOnly cookie, the table keeps
//! its SHA-256. A session ends at logout, when it expires, or when the member's password
//! changes (like the API's tokens, it carries the password generation it was opened at).

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{find_recent, Member};
use crate::cache::Recent;
use crate::clock;
use crate::db::{Bind, Binds, Columns, Db, FromColumns, ReadFault};
use crate::state::AppState;

/// The random value the browser holds: 32 bytes, as 64 hex digits.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

/// A cookie's value is ours only if it has the shape we give them; anything else is
/// not looked up.
fn well_formed(secret: &str) -> bool {
    secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Opens a session for `member`, valid for `ttl`; returns the cookie's value.
pub async fn open(db: &Db, member: &Member, now: DateTime<Utc>, ttl: Duration) -> Result<String, sqlx::Error> {
    let secret = new_secret();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO sessions (id_hash, member_id, generation, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(digest(&secret))
    .bind(member.id)
    .bind(member.token_generation)
    .bind(clock::to_db(now))
    .bind(clock::to_db(now + ttl))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// Sessions recently found open on this instance, by their cookie's digest: the member,
/// the password generation the session was opened at, and its end. A page checks its
/// session against a copy at most a second old, and the member against their own recent
/// copy ([`find_recent`]), so most pages cost no query for either. Logging out here
/// forgets the copy at once; a password change here forgets the member's copy, whose
/// generation then no longer matches. Another instance's logout or password change
/// shows here within a second.
#[derive(Default)]
pub struct RecentSessions(Recent<String, Session>);

#[derive(Clone)]
struct Session {
    member_id: i64,
    generation: i64,
    expires_at: DateTime<Utc>,
}

impl FromColumns for Session {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        Ok(Self {
            member_id: row.int(0)?,
            generation: row.int(1)?,
            expires_at: row.timestamp(2)?,
        })
    }
}

/// The member whose live session this cookie value opens, if any, as read at most a
/// second ago on this instance (see [`RecentSessions`]).
pub async fn member_recent(state: &AppState, secret: &str, now: DateTime<Utc>) -> Result<Option<Member>, ReadFault> {
    if !well_formed(secret) {
        return Ok(None);
    }
    let key = digest(secret);
    let recent = state.memos.get::<RecentSessions>();
    let session = match recent.0.get(&key) {
        Some(session) => session,
        None => {
            let mut binds = Binds::default();
            let sql = format!(
                "SELECT member_id, generation, expires_at FROM sessions WHERE id_hash = {}",
                binds.push(Bind::Text(key.clone()))
            );
            let Some(session) = state.db.reads().one::<Session>(&sql, &binds).await? else {
                recent.0.forget(&key);
                return Ok(None);
            };
            recent.0.put(key, session.clone());
            session
        }
    };
    if session.expires_at <= now {
        return Ok(None);
    }
    let member = find_recent(state, session.member_id).await?;
    Ok(member.filter(|m| m.token_generation == session.generation))
}

/// Ends the session this cookie value opened (logout) and forgets this instance's copy
/// of it.
pub async fn close_recent(state: &AppState, secret: &str) -> Result<(), sqlx::Error> {
    if well_formed(secret) {
        state.memos.get::<RecentSessions>().0.forget(&digest(secret));
    }
    close(&state.db, secret).await
}

/// Ends the session this cookie value opened (logout). Ending one that is not there is
/// not an error.
async fn close(db: &Db, secret: &str) -> Result<(), sqlx::Error> {
    if !well_formed(secret) {
        return Ok(());
    }
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(digest(secret))
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Forgets expired sessions and those a password change revoked.
pub async fn purge(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut tx = db.begin().await?;
    let removed = sqlx::query(
        "DELETE FROM sessions WHERE expires_at <= $1 \
         OR generation <> (SELECT token_generation FROM members WHERE members.id = sessions.member_id)",
    )
    .bind(clock::to_db(now))
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(removed)
}

/// The token a form carries to prove it was served to this browser: an HMAC of the
/// browser's cookie value under the server's key. A page on another site can neither
/// read the cookie nor compute the token.
pub fn form_token(key: &[u8], secret: &str) -> String {
    // HMAC takes a key of any length.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return String::new();
    };
    mac.update(b"csrf:");
    mac.update(secret.as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// Whether `token` is the form token for `secret`, compared in constant time.
pub fn form_token_matches(key: &[u8], secret: &str, token: &str) -> bool {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return false;
    };
    mac.update(b"csrf:");
    mac.update(secret.as_bytes());
    let Some(bytes) = unhex(token) else {
        return false;
    };
    mac.verify_slice(&bytes).is_ok()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if text.len() % 2 != 0 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| text.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_tokens_belong_to_one_browser() {
        let key = b"server key";
        let a = new_secret();
        let b = new_secret();
        assert!(well_formed(&a));
        let token = form_token(key, &a);
        assert!(form_token_matches(key, &a, &token));
        assert!(!form_token_matches(key, &b, &token));
        assert!(!form_token_matches(b"another key", &a, &token));
        assert!(!form_token_matches(key, &a, ""));
        assert!(!form_token_matches(key, &a, "zz"));
        assert!(!well_formed("../etc"));
    }
}
