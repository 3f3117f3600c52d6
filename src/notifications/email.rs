//! Email: each pending notification is sent through SMTP by a background worker, never
//! inside a request. At least once: a row is marked sent only after the server accepted
//! the message; a refusal or a dropped connection is retried with a growing delay.
//! Several instances may run the worker: a row is claimed for a minute before sending.

use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::Row;

use crate::clock;
use crate::state::AppState;

/// How many times a message is tried before it is given up.
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a claimed row is left to its claimant.
const CLAIM: chrono::Duration = chrono::Duration::seconds(60);
const BATCH: i64 = 20;

/// The SMTP server and the sender, from `SMTP_URL` and `SMTP_FROM`.
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl Mailer {
    /// `url`: `smtp://host:port` (plain, or STARTTLS with `?tls=required`) or
    /// `smtps://host:port`, with credentials as `user:password@`.
    pub fn new(url: &str, from: &str) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("SMTP_URL is not usable: {e}"))?
            .timeout(Some(Duration::from_secs(20)))
            .build();
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("SMTP_FROM is not an address: {e}"))?;
        Ok(Self { transport, from })
    }
}

/// The delay before attempt `n + 1`: 1, 2, 4 … times `base`, at most an hour.
pub fn backoff(base: Duration, attempts: i64) -> Duration {
    let factor = 2u32.saturating_pow(u32::try_from(attempts.clamp(0, 20)).unwrap_or(20));
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

struct Due {
    id: i64,
    to: String,
    name: String,
    text: String,
    order: i64,
    attempts: i64,
}

/// Claims the next due rows for this worker.
async fn claim(state: &AppState, now: DateTime<Utc>) -> Result<Vec<Due>, sqlx::Error> {
    let at = clock::to_db(now);
    let mut tx = state.db.begin().await?;
    // The claim is re-checked on the row itself: two workers cannot both take one.
    let ids: Vec<i64> = sqlx::query(
        "UPDATE notifications SET email_claimed_until = $2 \
         WHERE id IN (SELECT id FROM notifications WHERE email = 'pending' AND email_due_at <= $1 \
           AND (email_claimed_until IS NULL OR email_claimed_until <= $1) ORDER BY id LIMIT $3) \
         AND email = 'pending' AND (email_claimed_until IS NULL OR email_claimed_until <= $1) RETURNING id",
    )
    .bind(&at)
    .bind(clock::to_db(now + CLAIM))
    .bind(BATCH)
    .fetch_all(&mut *tx)
    .await?
    .iter()
    .map(|row| row.try_get("id"))
    .collect::<Result<_, _>>()?;
    tx.commit().await?;
    let mut due = Vec::with_capacity(ids.len());
    for id in ids {
        let row = sqlx::query(
            "SELECT n.id, n.text, n.order_id, n.email_attempts, m.email, m.first_name, m.last_name \
             FROM notifications n JOIN members m ON m.id = n.recipient_id WHERE n.id = $1",
        )
        .bind(id)
        .fetch_one(state.db.pool())
        .await?;
        due.push(Due {
            id,
            to: row.try_get("email")?,
            name: format!(
                "{} {}",
                row.try_get::<String, _>("first_name")?,
                row.try_get::<String, _>("last_name")?
            ),
            text: row.try_get("text")?,
            order: row.try_get("order_id")?,
            attempts: row.try_get("email_attempts")?,
        });
    }
    Ok(due)
}

fn message(state: &AppState, mailer: &Mailer, due: &Due) -> anyhow::Result<Message> {
    let to = Mailbox::new(Some(due.name.clone()), due.to.parse()?);
    let link = format!("{}/orders/{}", state.config.public_url.trim_end_matches('/'), due.order);
    let body = format!(
        "{}\n\nSee the order: {link}\n\nYou can turn these emails off in your account: {}/account\n",
        due.text,
        state.config.public_url.trim_end_matches('/')
    );
    Ok(Message::builder()
        .from(mailer.from.clone())
        .to(to)
        .subject(format!("OpenStudio: {}", due.text))
        .body(body)?)
}

/// Sends one claimed row, and records what happened.
async fn send(state: &AppState, mailer: &Mailer, due: Due) -> Result<(), sqlx::Error> {
    let outcome = match message(state, mailer, &due) {
        Ok(message) => mailer.transport.send(message).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    let now = state.clock.now();
    let mut tx = state.db.begin().await?;
    match outcome {
        Ok(_) => {
            sqlx::query("UPDATE notifications SET email = 'sent', email_claimed_until = NULL WHERE id = $1")
                .bind(due.id)
                .execute(&mut *tx)
                .await?;
        }
        Err(error) => {
            let attempts = due.attempts + 1;
            let gave_up = attempts >= MAX_ATTEMPTS;
            let delay = backoff(Duration::from_millis(state.config.email_retry_ms), due.attempts);
            let next = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::hours(1));
            sqlx::query(
                "UPDATE notifications SET email = $2, email_attempts = $3, email_due_at = $4, \
                 email_claimed_until = NULL WHERE id = $1",
            )
            .bind(due.id)
            .bind(if gave_up { "failed" } else { "pending" })
            .bind(attempts)
            .bind(clock::to_db(next))
            .execute(&mut *tx)
            .await?;
            if gave_up {
                tracing::error!(notification.id = due.id, %error, "gave up emailing a notification");
            } else {
                tracing::warn!(notification.id = due.id, %error, attempts, "emailing a notification failed; will retry");
            }
        }
    }
    tx.commit().await
}

/// How old a notification may be and still be emailed: one written while email was off
/// (no SMTP_URL) is not sent days later when it is turned on.
const STALE: chrono::Duration = chrono::Duration::days(1);

/// Gives up emailing notifications too old to be news.
async fn drop_stale(state: &AppState, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut tx = state.db.begin().await?;
    let dropped = sqlx::query("UPDATE notifications SET email = 'off' WHERE email = 'pending' AND created_at < $1")
        .bind(clock::to_db(now - STALE))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(dropped)
}

/// Sends what is due, every `interval`, until the process stops.
pub async fn run(state: AppState, mailer: Mailer, interval: Duration) {
    let mut last_sweep: Option<std::time::Instant> = None;
    loop {
        if last_sweep.is_none_or(|at| at.elapsed() > Duration::from_secs(60)) {
            match drop_stale(&state, state.clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "notifications older than a day will not be emailed"),
                Err(e) => tracing::warn!(error = %e, "dropping stale emails failed; retrying later"),
            }
            last_sweep = Some(std::time::Instant::now());
        }
        match claim(&state, state.clock.now()).await {
            Ok(due) if !due.is_empty() => {
                for row in due {
                    if let Err(e) = send(&state, &mailer, row).await {
                        tracing::warn!(error = %e, "recording an email's outcome failed; it will be retried");
                    }
                }
                continue;
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "claiming notifications to email failed; retrying"),
        }
        tokio::time::sleep(interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        let base = Duration::from_secs(5);
        assert_eq!(backoff(base, 0), Duration::from_secs(5));
        assert_eq!(backoff(base, 3), Duration::from_secs(40));
        assert_eq!(backoff(base, 30), Duration::from_secs(3600));
    }
}
