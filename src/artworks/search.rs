//! The catalogue's search index ([`crate::search`]): the text of every artwork on show,
//! read from the database and kept in step with it.
//!
//! The database counts every change to that text or to what is on show
//! (`search_generation`, raised by triggers in the same transaction), and marks each
//! changed artwork, and each renamed artist, with the count it raised (`search_mark`). A
//! search uses the index as it is while this process has changed nothing in the
//! catalogue and the count was checked within [`RECHECK`]; otherwise it reads the count,
//! and when it moved, the artworks marked since the index's count ([`CHANGED`]), which
//! it puts into the index or takes out of it. So this instance's changes are found
//! at once, another instance's within a second, and a change costs the reading of what
//! changed, not of the whole catalogue. An artwork deleted outright leaves no mark: the
//! index then holds more artworks than the catalogue shows, and is read again whole.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::db::{Bind, Binds, Columns, FromColumns, Reads};
use crate::error::ApiResult;
use crate::search::Index;
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

/// How many artworks are on show (as the database keeps the count), then [`TEXTS`] of
/// the artworks marked after a count (`$1`), by their own change or their artist's new
/// name, with whether each is on show (those withdrawn are taken out): one statement,
/// so the count and the changes are of one moment, and one row with no change when
/// there is none. Each part walks its mark's index up from the count, whatever the
/// statistics say, and stops at [`FOLLOW_AT_MOST`] (`$2`): a longer list is read whole
/// instead.
const CHANGED: &str = "SELECT t.shown, c.* FROM \
     (SELECT CAST(COALESCE(SUM(artworks), 0) AS BIGINT) AS shown FROM catalogue_counts) t LEFT JOIN (\
     SELECT a.id, a.created_at, a.title, a.description, a.material, \
     m.first_name || ' ' || m.last_name || ' ' || m.username AS artist, a.archived_at IS NULL AS on_show \
     FROM artworks a JOIN members m ON m.id = a.artist_id \
     WHERE a.id IN (\
     SELECT id FROM (SELECT id FROM artworks WHERE search_mark > $1 ORDER BY search_mark LIMIT $2) AS edited \
     UNION SELECT id FROM (SELECT w.id FROM members s JOIN artworks w ON w.artist_id = s.id \
     WHERE s.search_mark > $1 ORDER BY s.search_mark LIMIT $2) AS renamed)) c ON TRUE";

/// More changed artworks than this are not followed: the text is read whole again.
const FOLLOW_AT_MOST: i64 = 200;

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
        // Followed while the count has only risen (one that went back, as after a
        // restore, is not followed) and the index has not retired more documents than it
        // holds; otherwise read whole again, which numbers them afresh.
        Some(index) if index.generation() < generation && index.retired() <= index.len() => {
            let since = index.generation();
            drop(index);
            match follow(state, since, generation, mark, checked).await? {
                Some(index) => index,
                None => Arc::new(load(state, generation).await?),
            }
        }
        _ => Arc::new(load(state, generation).await?),
    };
    slot.store(index.clone(), mark, checked);
    Ok(index)
}

async fn generation(state: &AppState) -> ApiResult<i64> {
    Ok(state.db.reads().int(GENERATION, &Binds::default()).await?)
}

/// The slot's index with the artworks marked after `since` (its count) put in or taken
/// out, labelled `generation` (read before the changes, so the label is never newer than
/// the text), and put back; `None` when there are too many changes to follow, or the
/// index then holds another number of artworks than the catalogue showed when the
/// changes were read (an artwork deleted outright leaves no mark).
///
/// The changes are read first, with the index still in the slot. Then the index is
/// taken out and changed in place on the blocking pool, which puts it back itself, so a
/// search abandoned meanwhile does not leave the slot empty (nor puts it over a newer one
/// that a later search stored). The caller holds the right
/// to refresh, so nothing else stores an index meanwhile, and searches that find the slot
/// empty wait for that right, as they would for any refresh. Only when a search still
/// holds the index is it copied (a copy of 10,000 artworks' index costs about as much as
/// following a change).
async fn follow(
    state: &AppState,
    since: i64,
    generation: i64,
    mark: u64,
    checked: Instant,
) -> ApiResult<Option<Arc<Index>>> {
    let mut binds = Binds::default();
    binds.push(Bind::Int(since));
    binds.push(Bind::Int(FOLLOW_AT_MOST));
    let rows: Vec<Changed> = match state.db.reads() {
        Reads::Sqlite(readers) => {
            readers
                .run_blocking(move |conn| sqlite_reads::rows(conn, CHANGED, &binds, |row| Changed::read(row)))
                .await?
        }
        Reads::Postgres(readers) => {
            let binds = &binds;
            let rows = readers
                .read(|conn, _| Box::pin(binds.apply(sqlx::query(CHANGED)).fetch_all(conn)))
                .await?;
            rows.iter().map(Changed::read).collect::<Result<_, _>>()?
        }
    };
    let shown = rows.first().map_or(0, |row| row.shown);
    let changes: Vec<Change> = rows.into_iter().filter_map(|row| row.change).collect();
    if i64::try_from(changes.len()).map_or(true, |n| n >= FOLLOW_AT_MOST) {
        return Ok(None);
    }
    let Some(index) = state.search.take() else {
        return Ok(None);
    };
    let count = changes.len();
    let state = state.clone();
    let next = tokio::task::spawn_blocking(move || {
        let mut next = Arc::try_unwrap(index).unwrap_or_else(|shared| Index::clone(&shared));
        for change in &changes {
            match change.shown {
                true => next.put(change.id, change.created, &change.fields.each_ref().map(String::as_str)),
                false => next.remove(change.id),
            }
        }
        next.set_generation(generation);
        if i64::try_from(next.len()).ok() != Some(shown) {
            tracing::info!(held = next.len(), shown, "the search index is read again whole");
            return None;
        }
        let next = Arc::new(next);
        state.search.put_back(next.clone(), mark, checked);
        Some(next)
    })
    .await
    .map_err(anyhow::Error::from)?;
    if next.is_some() {
        tracing::debug!(changes = count, generation, "search index followed");
    }
    Ok(next)
}

/// One row of [`CHANGED`]: how many artworks are on show, and a change, if any.
struct Changed {
    shown: i64,
    change: Option<Change>,
}

/// An artwork marked since the index's count.
struct Change {
    id: i64,
    created: i64,
    fields: [String; 4],
    shown: bool,
}

impl FromColumns for Changed {
    fn read<R: Columns>(row: &R) -> Result<Self, R::Error> {
        let change = match row.optional_int(1)? {
            None => None,
            Some(id) => Some(Change {
                id,
                created: row.timestamp(2)?.timestamp_micros(),
                fields: [row.text(3)?, row.text(4)?, row.text(5)?, row.text(6)?],
                shown: row.flag(7)?,
            }),
        };
        Ok(Self {
            shown: row.int(0)?,
            change,
        })
    }
}

/// Every artwork on show, indexed; labelled `generation`, read before the text, so the
/// label is never newer than the text.
async fn load(state: &AppState, generation: i64) -> ApiResult<Index> {
    let index = match state.db.reads() {
        Reads::Sqlite(readers) => {
            readers
                .run_blocking(move |conn| {
                    let mut index = Index::new(WEIGHTS, generation);
                    sqlite_reads::rows(conn, TEXTS, &Binds::default(), |row| add(&mut index, row))?;
                    Ok(index)
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
                let mut index = Index::new(WEIGHTS, generation);
                for row in &rows {
                    add(&mut index, row)?;
                }
                Ok::<_, sqlx::Error>(index)
            })
            .await
            .map_err(anyhow::Error::from)??
        }
    };
    tracing::info!(artworks = index.len(), generation, "search index read");
    Ok(index)
}

/// One row of [`TEXTS`] into the index.
fn add<R: Columns>(index: &mut Index, row: &R) -> Result<(), R::Error> {
    let created = row.timestamp(1)?.timestamp_micros();
    index.put(
        row.int(0)?,
        created,
        &[row.str(2)?, row.str(3)?, row.str(4)?, row.str(5)?],
    );
    Ok(())
}
