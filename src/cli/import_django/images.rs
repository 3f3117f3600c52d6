//! `import-django --copy-images`: each external image of the imported artworks downloaded
//! (a few at a time, each with a timeout and retries) and passed through this server's
//! own upload pipeline (checked, stripped of metadata, resized, stored), then its
//! artwork points at the stored copy. It runs after the import has committed, and each
//! image stands alone: a failed download or a file that is not an image keeps the
//! external URL and is reported, and running the import's copy again (it skips stored
//! images) tries the failed ones once more. The server may be live meanwhile: a copy is
//! attached only if its image is still the one downloaded.

use std::time::Duration;

use futures::StreamExt;

use super::plan::Anomaly;
use crate::media;
use crate::state::AppState;

/// How images are fetched.
#[derive(Debug, Clone, Copy)]
pub struct Fetching {
    pub timeout: Duration,
    pub attempts: u32,
    pub at_once: usize,
}

impl Default for Fetching {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(20),
            attempts: 3,
            at_once: 4,
        }
    }
}

/// Copies every imported image that is not stored here yet; returns how many were
/// copied, and each failure with what was done.
pub async fn copy(state: &AppState, fetching: Fetching) -> anyhow::Result<(usize, Vec<Anomaly>)> {
    let images: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT i.id, a.artist_id, i.image_url FROM artwork_images i JOIN artworks a ON a.id = i.artwork_id \
         WHERE i.upload_id IS NULL ORDER BY i.id",
    )
    .fetch_all(state.db.pool())
    .await?;
    let client = reqwest::Client::builder()
        .timeout(fetching.timeout)
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()?;
    let outcomes: Vec<(i64, String, Result<(), Failure>)> = futures::stream::iter(images)
        .map(|(id, artist, url)| {
            let client = client.clone();
            async move {
                let outcome = copy_one(state, &client, fetching, id, artist, &url).await;
                (id, url, outcome)
            }
        })
        .buffer_unordered(fetching.at_once.max(1))
        .collect()
        .await;
    let mut copied = 0;
    let mut failures = Vec::new();
    for (id, url, outcome) in outcomes {
        match outcome {
            Ok(()) => copied += 1,
            Err(Failure::NotCopied(why)) => failures.push(Anomaly {
                table: "artwork images",
                id,
                found: format!("{url} could not be copied: {why}"),
                done: "the external URL is kept".into(),
            }),
            Err(Failure::ChangedMeanwhile) => failures.push(Anomaly {
                table: "artwork images",
                id,
                found: format!("{url} was changed or removed on this server while it was copied"),
                done: "the change is kept; the copy is not used (the sweep of unused uploads removes it)".into(),
            }),
        }
    }
    failures.sort();
    Ok((copied, failures))
}

/// Why an image was not copied.
enum Failure {
    /// The download, the upload pipeline or the write failed: the external URL stays.
    NotCopied(String),
    /// The server is live while the copy runs: the artist replaced or removed the image
    /// after it was read, and their change wins.
    ChangedMeanwhile,
}

async fn copy_one(
    state: &AppState,
    client: &reqwest::Client,
    fetching: Fetching,
    id: i64,
    artist: i64,
    url: &str,
) -> Result<(), Failure> {
    let bytes = download(client, fetching, url, state.media.max_upload_bytes)
        .await
        .map_err(Failure::NotCopied)?;
    let upload = media::store_upload(state, artist, bytes)
        .await
        .map_err(|e| Failure::NotCopied(e.to_string()))?;
    // Attached only if the row is still the external image that was downloaded.
    let attach = async {
        let mut tx = state.db.begin().await?;
        let attached = sqlx::query(
            "UPDATE artwork_images SET upload_id = $1, image_url = $2 \
             WHERE id = $3 AND upload_id IS NULL AND image_url = $4",
        )
        .bind(upload.id)
        .bind(&upload.image_url)
        .bind(id)
        .bind(url)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok::<_, sqlx::Error>(attached == 1)
    };
    match attach.await {
        Ok(true) => Ok(()),
        Ok(false) => Err(Failure::ChangedMeanwhile),
        Err(e) => Err(Failure::NotCopied(format!("recording the copy failed: {e}"))),
    }
}

/// The file at `url`, at most `max` bytes; retried after a failure that may pass (no
/// answer, a timeout, a server error), not after a refusal (4xx).
async fn download(client: &reqwest::Client, fetching: Fetching, url: &str, max: u64) -> Result<Vec<u8>, String> {
    let mut attempt = 1;
    loop {
        let failure = match client.get(url).send().await {
            Ok(res) if res.status().is_client_error() => return Err(format!("the server answered {}", res.status())),
            Ok(res) if res.status().is_success() => match read_capped(res, max).await {
                Ok(bytes) => return Ok(bytes),
                Err(Capped::TooLarge) => return Err(format!("larger than {max} bytes")),
                Err(Capped::Failed(e)) => e,
            },
            Ok(res) => format!("the server answered {}", res.status()),
            Err(e) if e.is_timeout() => format!("no answer within {:?}", fetching.timeout),
            Err(e) => e.to_string(),
        };
        if attempt >= fetching.attempts {
            return Err(format!("{failure} (tried {attempt} times)"));
        }
        tokio::time::sleep(Duration::from_millis(250 * u64::from(attempt))).await;
        attempt += 1;
    }
}

enum Capped {
    TooLarge,
    Failed(String),
}

async fn read_capped(mut res: reqwest::Response, max: u64) -> Result<Vec<u8>, Capped> {
    if res.content_length().is_some_and(|n| n > max) {
        return Err(Capped::TooLarge);
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = res.chunk().await.map_err(|e| Capped::Failed(e.to_string()))? {
        if (bytes.len() + chunk.len()) as u64 > max {
            return Err(Capped::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}
