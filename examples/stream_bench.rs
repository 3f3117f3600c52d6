//! Live notifications under load: opens STREAMS event streams (5 for each of STREAMS/5
//! artists) on a running server, reports the server's memory per open stream, then places
//! ORDERS purchase requests (each tells an artist with open streams) and reports the delay
//! from sending the request to the event's arrival on the artist's streams: an upper
//! bound of commit-to-delivery, as it includes the request itself.
//!
//! Usage (bench/run.sh runs it, with the catalogue benchmark loading the server meanwhile):
//!   BASE=http://127.0.0.1:18931 DATABASE_URL=… SECRET_KEY=… SERVER_PID=… \
//!     cargo run --release --example stream_bench

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use openstudio::db::Db;
use openstudio::tokens::{issue_token, Keys};
use sqlx::Row;
use tokio::sync::Mutex;

fn rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let base = std::env::var("BASE")?;
    let url = std::env::var("DATABASE_URL")?;
    let keys = Keys::new(&std::env::var("SECRET_KEY")?);
    let pid = std::env::var("SERVER_PID")?;
    let streams: usize = std::env::var("STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1000);
    let orders: usize = std::env::var("ORDERS").ok().and_then(|s| s.parse().ok()).unwrap_or(200);
    let per_artist = 5;
    let db = Db::connect(&url, 2).await?;
    let now = chrono::Utc::now();

    // Artists with a work for sale, and collectors to buy.
    let artists: Vec<(i64, i64)> = sqlx::query(
        "SELECT a.artist_id, MIN(a.id) AS artwork FROM artworks a WHERE a.is_for_sale = TRUE AND a.archived_at IS NULL \
         AND a.quantity_for_sale > 0 GROUP BY a.artist_id ORDER BY a.artist_id LIMIT $1",
    )
    .bind((streams / per_artist) as i64)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
    .collect::<Result<_, sqlx::Error>>()?;
    let collectors: Vec<i64> =
        sqlx::query("SELECT id FROM members WHERE user_type = 'collector' ORDER BY id LIMIT 1000")
            .fetch_all(db.pool())
            .await?
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
    let token = |id: i64| issue_token(&keys, id, 0, now, 1);

    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build()?;
    let before = rss_kib(&pid);
    // Arrival times of each order's event, by order id.
    let arrivals: Arc<Mutex<HashMap<i64, Vec<Instant>>>> = Arc::default();
    let mut tasks = Vec::new();
    for (artist, _) in &artists {
        for _ in 0..per_artist {
            let res = client
                .get(format!("{base}/api/notifications/stream"))
                .bearer_auth(token(*artist)?)
                .send()
                .await?;
            anyhow::ensure!(res.status() == 200, "a stream was refused: {}", res.status());
            let arrivals = arrivals.clone();
            tasks.push(tokio::spawn(async move {
                let mut res = res;
                let mut buffer = String::new();
                while let Ok(Some(chunk)) = res.chunk().await {
                    let at = Instant::now();
                    buffer.push_str(&String::from_utf8_lossy(&chunk));
                    while let Some(end) = buffer.find("\n\n") {
                        let block: String = buffer.drain(..end + 2).collect();
                        if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data:")) {
                            if let Ok(value) = serde_json::from_str::<serde_json::Value>(data.trim()) {
                                if let Some(order) = value["order"].as_i64() {
                                    arrivals.lock().await.entry(order).or_default().push(at);
                                }
                            }
                        }
                    }
                }
            }));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(&pid);
    let open = tasks.len();
    println!(
        "open streams: {open}; server RSS {:.1} MB → {:.1} MB: {:.1} KB a stream",
        before as f64 / 1024.0,
        after as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / open.max(1) as f64
    );

    // Purchase requests, four at a time, each to an artist whose streams are open.
    let mut sent: HashMap<i64, Instant> = HashMap::new();
    let mut refused = 0;
    for batch in (0..orders).collect::<Vec<_>>().chunks(4) {
        let mut requests = Vec::new();
        for &i in batch {
            let (_, artwork) = artists[i % artists.len()];
            let buyer = collectors[(i * 7) % collectors.len()];
            let client = client.clone();
            let base = base.clone();
            let token = token(buyer)?;
            requests.push(tokio::spawn(async move {
                let start = Instant::now();
                let res = client
                    .post(format!("{base}/api/orders/create/"))
                    .bearer_auth(token)
                    .json(&serde_json::json!({"artwork_id": artwork}))
                    .send()
                    .await;
                let id = match res {
                    Ok(res) if res.status() == 201 => res
                        .json::<serde_json::Value>()
                        .await
                        .ok()
                        .and_then(|v| v["id"].as_i64()),
                    _ => None,
                };
                (id, start)
            }));
        }
        for request in requests {
            match request.await? {
                (Some(id), start) => {
                    sent.insert(id, start);
                }
                _ => refused += 1,
            }
        }
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let arrivals = arrivals.lock().await;
    let mut delays = Vec::new();
    let mut missing = 0;
    for (order, start) in &sent {
        match arrivals.get(order) {
            Some(times) if times.len() == per_artist => delays.extend(times.iter().map(|t| t.duration_since(*start))),
            Some(times) => {
                missing += per_artist - times.len();
                delays.extend(times.iter().map(|t| t.duration_since(*start)));
            }
            None => missing += per_artist,
        }
    }
    delays.sort();
    println!(
        "{} requests ({refused} refused: an open order already, or sold), {} deliveries, {missing} missing: \
         request→delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        sent.len(),
        delays.len(),
        percentile(&delays, 0.50).as_secs_f64() * 1000.0,
        percentile(&delays, 0.99).as_secs_f64() * 1000.0,
        delays.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
    );
    for task in tasks {
        task.abort();
    }
    Ok(())
}
