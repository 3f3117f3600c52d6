//! The catalogue's search index ([`crate::search`]): the text of every artwork on show,
//! read from the database and kept in step with it.
//!
//! The database counts every change to that text or to what is on show
//! (`search_generation`, raised by triggers in the same transaction). A search uses the
//! index as it is while this process has changed nothing in the catalogue and the count
//! was checked within [`RECHECK`]; otherwise it reads the count, and when it moved, the
//! text again. So this instance's changes are found at once, another instance's within a
//! second.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::{Binds, Columns, Reads};
use crate::error::ApiResult;
use crate::search::{Builder, Index};
use crate::sqlite_reads;
use crate::state::AppState;

/// How long a search trusts the index before asking whether another instance changed
/// the catalogue.
pub const RECHECK: Duration = Duration::from_secs(1);

/// Title, description, material, artist (names and username): the title matters most,
/// then the artist, the material and the description.
const WEIGHTS: &[f32] = &[10.0, 1.0, 3.0, 5.0];

const GENERATION: &str = "SELECT generation FROM search_generation";

const TEXTS: &str = "SELECT a.id, a.created_at, a.title, a.description, a.material, \
     m.first_name || ' ' || m.last_name || ' ' || m.username \
     FROM artworks a JOIN members m ON m.id = a.artist_id WHERE a.archived_at IS NULL";

/// The ids of the artworks on show that hold every word, best first.
pub async fn ranked(state: &AppState, words: &[String]) -> ApiResult<Arc<[i64]>> {
    Ok(current(state).await?.find(words).into())
}

/// The index, read again first if the catalogue's text has changed.
async fn current(state: &AppState) -> ApiResult<Arc<Index>> {
    let slot = &state.search;
    // Read before the database is asked: a change committed here after this moment
    // moves the mark, and the next search asks again.
    let mark = state.catalogue.generation();
    if let Some(index) = slot.fresh(mark, RECHECK) {
        return Ok(index);
    }
    let _refreshing = slot.refreshing().await;
    if let Some(index) = slot.fresh(mark, RECHECK) {
        return Ok(index);
    }
    // The index is as new as the database at this moment, however long the reading takes.
    let checked = Instant::now();
    let generation = generation(state).await?;
    let index = match slot.latest() {
        Some(index) if index.generation() == generation => index,
        _ => {
            let index = Arc::new(load(state, generation).await?);
            tracing::info!(artworks = index.len(), generation, "search index read");
            index
        }
    };
    slot.store(index.clone(), mark, checked);
    Ok(index)
}

async fn generation(state: &AppState) -> ApiResult<i64> {
    Ok(state.db.reads().int(GENERATION, &Binds::default()).await?)
}

/// Every artwork on show, indexed; labelled `generation`, read before the text, so the
/// label is never newer than the text.
async fn load(state: &AppState, generation: i64) -> ApiResult<Index> {
    Ok(match state.db.reads() {
        Reads::Sqlite(readers) => {
            readers
                .run_blocking(move |conn| {
                    let mut builder = Builder::new(WEIGHTS);
                    sqlite_reads::rows(conn, TEXTS, &Binds::default(), |row| add(&mut builder, row))?;
                    Ok(builder.build(generation))
                })
                .await?
        }
        Reads::Postgres(readers) => {
            // The rows are read, then indexed on the blocking pool: stemming a large
            // catalogue would hold up every request sharing this worker.
            let rows = readers
                .read(|conn, _| Box::pin(sqlx::query(TEXTS).fetch_all(conn)))
                .await?;
            tokio::task::spawn_blocking(move || {
                let mut builder = Builder::new(WEIGHTS);
                for row in &rows {
                    add(&mut builder, row)?;
                }
                Ok::<_, sqlx::Error>(builder.build(generation))
            })
            .await
            .map_err(anyhow::Error::from)??
        }
    })
}

/// One row of [`TEXTS`] into the index.
fn add<R: Columns>(builder: &mut Builder, row: &R) -> Result<(), R::Error> {
    let created = row.timestamp(1)?.timestamp_micros();
    builder.add(
        row.int(0)?,
        created,
        &[row.str(2)?, row.str(3)?, row.str(4)?, row.str(5)?],
    );
    Ok(())
}
