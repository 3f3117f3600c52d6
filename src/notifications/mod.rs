//! Notifications: each order transition tells the other party, in the transaction of the
//! change (a rolled-back change announces nothing; a committed one is never missed). The
//! inbox is read from the table; live streams are fed from it by [`run_fanout`]; email
//! goes from it by [`email::run`].

pub mod email;

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::clock;
use crate::db::{placeholders, timestamp, Backend, Db, Tx};
use crate::error::ApiResult;
use crate::live;
use crate::paging::Page;
use crate::state::AppState;

/// The PostgreSQL channel the committing transaction NOTIFYs (payload: the id).
pub const CHANNEL: &str = "openstudio_notifications";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    OrderRequested,
    OrderAccepted,
    OrderRejected,
    OrderCancelled,
    OrderPaid,
    OrderShipped,
    OrderCompleted,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderRequested => "order_requested",
            Self::OrderAccepted => "order_accepted",
            Self::OrderRejected => "order_rejected",
            Self::OrderCancelled => "order_cancelled",
            Self::OrderPaid => "order_paid",
            Self::OrderShipped => "order_shipped",
            Self::OrderCompleted => "order_completed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::OrderRequested,
            Self::OrderAccepted,
            Self::OrderRejected,
            Self::OrderCancelled,
            Self::OrderPaid,
            Self::OrderShipped,
            Self::OrderCompleted,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == text)
    }
}

/// A notification as its recipient reads it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Notification {
    pub id: i64,
    pub kind: Kind,
    pub text: String,
    /// The order's id.
    pub order: i64,
    /// The artwork's id.
    pub artwork: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created: DateTime<Utc>,
    pub read: bool,
    #[serde(skip)]
    pub recipient: i64,
}

const COLUMNS: &str = "id, recipient_id, kind, text, order_id, artwork_id, created_at, read_at";

fn from_row(row: &AnyRow) -> Result<Notification, sqlx::Error> {
    let kind: String = row.try_get("kind")?;
    Ok(Notification {
        id: row.try_get("id")?,
        recipient: row.try_get("recipient_id")?,
        kind: Kind::parse(&kind).ok_or_else(|| sqlx::Error::ColumnDecode {
            index: "kind".into(),
            source: format!("{kind:?} is not a notification kind").into(),
        })?,
        text: row.try_get("text")?,
        order: row.try_get("order_id")?,
        artwork: row.try_get("artwork_id")?,
        created: timestamp(row, "created_at")?,
        read: row.try_get::<Option<String>, _>("read_at")?.is_some(),
    })
}

/// A notification to write.
pub struct New {
    pub recipient: i64,
    pub kind: Kind,
    pub order: i64,
    pub artwork: i64,
    pub text: String,
    /// The recipient wants it by email too.
    pub email: bool,
}

/// Writes a notification inside the transaction of the change it reports. On PostgreSQL
/// the transaction also NOTIFYs its id: delivered at commit, never for a rollback.
pub async fn record(tx: &mut Tx, new: New, at: &str) -> Result<i64, sqlx::Error> {
    let id: i64 = sqlx::query(
        "INSERT INTO notifications (recipient_id, kind, order_id, artwork_id, text, created_at, email, email_due_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $6) RETURNING id",
    )
    .bind(new.recipient)
    .bind(new.kind.as_str())
    .bind(new.order)
    .bind(new.artwork)
    .bind(new.text)
    .bind(at)
    .bind(if new.email { "pending" } else { "off" })
    .fetch_one(&mut **tx)
    .await?
    .try_get("id")?;
    if tx.backend_name().eq_ignore_ascii_case("postgresql") {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANNEL)
            .bind(id.to_string())
            .execute(&mut **tx)
            .await?;
    }
    Ok(id)
}

/// A member's notifications, newest first (ties in `created` by id): one page, with the
/// total; only unread ones if asked.
pub async fn list(db: &Db, member: i64, unread_only: bool, page: Page) -> ApiResult<(i64, Vec<Notification>)> {
    let unread = if unread_only { " AND read_at IS NULL" } else { "" };
    let total: i64 = sqlx::query(&format!(
        "SELECT COUNT(*) FROM notifications WHERE recipient_id = $1{unread}"
    ))
    .bind(member)
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE recipient_id = $1{unread} \
         ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
    ))
    .bind(member)
    .bind(page.per_page)
    .bind(page.offset())
    .fetch_all(db.pool())
    .await?;
    let found = rows.iter().map(from_row).collect::<Result<_, _>>()?;
    Ok((total, found))
}

pub async fn unread_count(db: &Db, member: i64) -> ApiResult<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) FROM notifications WHERE recipient_id = $1 AND read_at IS NULL")
            .bind(member)
            .fetch_one(db.pool())
            .await?
            .try_get(0)?,
    )
}

/// Marks the member's notifications read: those of `ids` (others' are ignored), or all.
pub async fn mark_read(db: &Db, member: i64, ids: Option<&[i64]>, now: DateTime<Utc>) -> ApiResult<u64> {
    let mut sql = "UPDATE notifications SET read_at = $2 WHERE recipient_id = $1 AND read_at IS NULL".to_owned();
    if let Some(ids) = ids {
        if ids.is_empty() {
            return Ok(0);
        }
        sql.push_str(&format!(" AND id IN ({})", placeholders(3, ids.len())));
    }
    let mut query = sqlx::query(&sql).bind(member).bind(clock::to_db(now));
    for id in ids.into_iter().flatten() {
        query = query.bind(*id);
    }
    let mut tx = db.begin().await?;
    let changed = query.execute(&mut *tx).await?.rows_affected();
    tx.commit().await?;
    Ok(changed)
}

/// A member's notifications after `id`, oldest first (a reconnecting stream's replay).
pub async fn since(db: &Db, member: i64, id: i64) -> ApiResult<Vec<Notification>> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM notifications WHERE recipient_id = $1 AND id > $2 ORDER BY id LIMIT 1000"
    ))
    .bind(member)
    .bind(id)
    .fetch_all(db.pool())
    .await?;
    Ok(rows.iter().map(from_row).collect::<Result<_, _>>()?)
}

/// A notification as a stream event.
pub fn event(notification: &Notification) -> live::Event {
    live::Event {
        id: notification.id,
        recipient: notification.recipient,
        data: serde_json::to_string(notification).unwrap_or_default(),
    }
}

/// Publishes to this instance's streams what was committed since the last look.
async fn publish_new(state: &AppState) -> Result<(), sqlx::Error> {
    loop {
        let rows = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE id > $1 ORDER BY id LIMIT 500"
        ))
        .bind(state.live.latest())
        .fetch_all(state.db.pool())
        .await?;
        let count = rows.len();
        let events = rows
            .iter()
            .map(|row| from_row(row).map(|n| event(&n)))
            .collect::<Result<Vec<_>, _>>()?;
        state.live.publish(events);
        if count < 500 {
            return Ok(());
        }
    }
}

/// Feeds this instance's streams from the table: woken by this process's commits, by
/// PostgreSQL's NOTIFY from any instance, and at least every `NOTIFICATION_POLL_MS` (the
/// safety net under LISTEN, and what shows other processes' changes on SQLite). A dropped
/// connection loses nothing: the next look reads everything after the last id seen.
pub async fn run_fanout(state: AppState) {
    match sqlx::query("SELECT COALESCE(MAX(id), 0) FROM notifications")
        .fetch_one(state.db.pool())
        .await
        .and_then(|row| row.try_get::<i64, _>(0))
    {
        Ok(latest) => state.live.start_after(latest),
        Err(e) => tracing::warn!(error = %e, "reading the newest notification failed; streams start from now"),
    }
    if state.db.backend() == Backend::Postgres {
        tokio::spawn(listen(state.clone()));
    }
    let poll = Duration::from_millis(state.config.notification_poll_ms);
    let mut failed = false;
    loop {
        let wait = if failed { Duration::from_millis(250) } else { poll };
        tokio::select! {
            () = state.live.woken() => {}
            () = tokio::time::sleep(wait) => {}
        }
        // A failed read (a dropped connection) is tried again shortly, not at the next poll.
        failed = match publish_new(&state).await {
            Ok(()) => false,
            Err(e) => {
                tracing::warn!(error = %e, "reading new notifications failed; retrying");
                true
            }
        };
    }
}

/// LISTENs on PostgreSQL and wakes the fan-out for every NOTIFY; reconnects (and wakes
/// it, to catch up) after a dropped connection.
async fn listen(state: AppState) {
    loop {
        match sqlx::postgres::PgListener::connect(&state.config.database_url).await {
            Ok(mut listener) => {
                if let Err(e) = listener.listen(CHANNEL).await {
                    tracing::warn!(error = %e, "LISTEN failed; retrying");
                } else {
                    state.live.poke();
                    loop {
                        match listener.try_recv().await {
                            Ok(Some(_)) => state.live.poke(),
                            // The connection was lost: reconnect, then catch up.
                            Ok(None) => {
                                tracing::warn!("the LISTEN connection was lost; reconnecting");
                                state.live.poke();
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "the LISTEN connection failed; reconnecting");
                                break;
                            }
                        }
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "connecting for LISTEN failed; retrying"),
        }
        state.live.poke();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Tickets: what a browser's EventSource sends where it cannot send a header.
pub mod tickets {
    use super::*;
    use crate::members::sessions;

    /// How long a ticket opens a stream.
    pub const VALID_FOR: chrono::Duration = chrono::Duration::seconds(60);

    /// A single-use ticket for `member`, valid for a minute.
    pub async fn issue(db: &Db, member: i64, now: DateTime<Utc>) -> ApiResult<String> {
        let ticket = sessions::new_secret();
        let mut tx = db.begin().await?;
        sqlx::query("DELETE FROM stream_tickets WHERE expires_at <= $1")
            .bind(clock::to_db(now))
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO stream_tickets (id_hash, member_id, expires_at) VALUES ($1, $2, $3)")
            .bind(sessions::digest(&ticket))
            .bind(member)
            .bind(clock::to_db(now + VALID_FOR))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(ticket)
    }

    /// The member a ticket was issued to, if it is unused and unexpired; it is used up.
    pub async fn redeem(db: &Db, ticket: &str, now: DateTime<Utc>) -> ApiResult<Option<i64>> {
        let mut tx = db.begin().await?;
        let row = sqlx::query("DELETE FROM stream_tickets WHERE id_hash = $1 RETURNING member_id, expires_at")
            .bind(sessions::digest(ticket))
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        let Some(row) = row else { return Ok(None) };
        let expires: String = row.try_get("expires_at")?;
        if expires <= clock::to_db(now) {
            return Ok(None);
        }
        Ok(Some(row.try_get("member_id")?))
    }
}
