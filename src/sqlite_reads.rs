//! SQLite's hot reads, outside sqlx.
//!
//! sqlx runs each SQLite connection on a worker thread of its own and hands every
//! statement and every row across a channel to it and back: for a read of one row, that
//! hand-off and the two task switches cost more than SQLite's work (BENCHMARKS.md, the
//! profile of the detail). The hot reads (an artwork, a page of the catalogue, a list of
//! orders, the unviewed count) run here instead, on read-only connections of the same
//! SQLite library, each with its prepared statements kept.
//!
//! - [`Readers::run`] runs a read of a few rows on the request's own thread, between two
//!   awaits: tens of microseconds.
//! - [`Readers::run_blocking`] runs a read of many rows on tokio's blocking threads, so
//!   no request's worker thread is held for a millisecond.
//!
//! Every statement has the pool's deadline (`sqlite_deadline`). A connection whose read
//! failed, for whatever reason, is closed, and the next read opens a fresh one: a fault
//! passes with the fault.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, ToSql};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::sql::{Bind, Binds, Columns};

/// Statements kept prepared on each connection: every read's shape, and the catalogue's
/// filters and pages in their common combinations.
const STATEMENTS_KEPT: usize = 128;

/// How long a read waits on SQLite's locks. A reader of a WAL database waits only while
/// another connection recovers the log, which is short; and a point read waits on the
/// request's thread, which must not be held long.
const BUSY_TIMEOUT: Duration = Duration::from_millis(250);

/// Why a read gave no answer.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// SQLite was busy, the statement ran past its deadline, the file could not be read,
    /// or no connection was free in time: the environment's doing, worth trying again.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// Anything else: ours.
    #[error(transparent)]
    Failed(anyhow::Error),
}

pub type ReadResult<T> = Result<T, ReadError>;

/// Read-only connections to one SQLite file, at most `limit` in use at once.
#[derive(Debug)]
pub struct Readers(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
    limit: usize,
    acquire_timeout: Duration,
    deadline_ms: u128,
}

impl Readers {
    /// Readers of the database file at `path`; connections open when first needed (after
    /// the migrations have made the schema).
    pub fn new(path: PathBuf, limit: usize, acquire_timeout: Duration, deadline: Duration) -> Self {
        let limit = limit.max(1);
        Self(Arc::new(Inner {
            path,
            idle: Mutex::new(Vec::with_capacity(limit)),
            permits: Arc::new(Semaphore::new(limit)),
            limit,
            acquire_timeout,
            deadline_ms: deadline.as_millis(),
        }))
    }

    /// Runs `read` on a connection, on this thread: for reads of a few rows.
    pub async fn run<T>(&self, read: impl FnOnce(&Connection) -> anyhow::Result<T>) -> ReadResult<T> {
        let _permit = self.permit().await?;
        self.0.read_with(read)
    }

    /// Runs `read` on a connection, on tokio's blocking threads: for reads of many rows.
    /// The read keeps its place among the `limit` even if the request is dropped while it
    /// runs, and gives its connection back when it ends.
    pub async fn run_blocking<T, F>(&self, read: F) -> ReadResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> anyhow::Result<T> + Send + 'static,
    {
        let permit = self.permit().await?;
        let inner = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            inner.read_with(read)
        })
        .await
        .map_err(|e| ReadError::Failed(anyhow::anyhow!("a database read stopped: {e}")))?
    }

    /// Closes the idle connections; reads after this answer 503.
    pub fn close(&self) {
        self.0.permits.close();
        if let Ok(mut idle) = self.0.idle.lock() {
            idle.clear();
        }
    }

    async fn permit(&self) -> ReadResult<OwnedSemaphorePermit> {
        let acquire = self.0.permits.clone().acquire_owned();
        match tokio::time::timeout(self.0.acquire_timeout, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(ReadError::Unavailable("no connection was free in time".to_owned())),
        }
    }
}

impl Inner {
    /// Runs `read` on an idle connection (or a new one), here.
    fn read_with<T>(&self, read: impl FnOnce(&Connection) -> anyhow::Result<T>) -> ReadResult<T> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.open().map_err(|e| read_error(e.into()))?,
        };
        let result = read(&conn);
        // A connection whose read failed is closed (dropped), never reused.
        if result.is_ok() {
            if let Ok(mut idle) = self.idle.lock() {
                if idle.len() < self.limit && !self.permits.is_closed() {
                    idle.push(conn);
                }
            }
        }
        result.map_err(read_error)
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS_KEPT);
        let deadline = format!("SELECT {}({})", crate::sqlite_deadline::SET_DEADLINE, self.deadline_ms);
        conn.query_row(&deadline, [], |_| Ok(()))?;
        Ok(conn)
    }
}

/// A failed read as the client is told it: SQLite busy, interrupted at its deadline,
/// unable to read its file: unavailable, try again; anything else is ours.
fn read_error(error: anyhow::Error) -> ReadError {
    use rusqlite::ErrorCode::*;
    let code = error
        .downcast_ref::<rusqlite::Error>()
        .and_then(|e| e.sqlite_error_code());
    match code {
        Some(DatabaseBusy | DatabaseLocked | OperationInterrupted | SystemIoFailure | CannotOpen) => {
            ReadError::Unavailable(error.to_string())
        }
        _ => ReadError::Failed(error),
    }
}

impl ToSql for Bind {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Bind::Int(n) => ValueRef::Integer(*n),
            Bind::Text(text) => ValueRef::Text(text.as_bytes()),
            Bind::Bool(b) => ValueRef::Integer(i64::from(*b)),
        }))
    }
}

impl Columns for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn int(&self, i: usize) -> rusqlite::Result<i64> {
        self.get(i)
    }

    fn optional_int(&self, i: usize) -> rusqlite::Result<Option<i64>> {
        self.get(i)
    }

    fn str(&self, i: usize) -> rusqlite::Result<&str> {
        let value = self.get_ref(i)?;
        value.as_str().map_err(|e| text_error(self, i, value, e))
    }

    fn optional_str(&self, i: usize) -> rusqlite::Result<Option<&str>> {
        let value = self.get_ref(i)?;
        value.as_str_or_null().map_err(|e| text_error(self, i, value, e))
    }

    fn flag(&self, i: usize) -> rusqlite::Result<bool> {
        self.get(i)
    }

    fn key(&self, i: usize) -> rusqlite::Result<Bind> {
        Ok(match self.get_ref(i)? {
            ValueRef::Integer(n) => Bind::Int(n),
            _ => Bind::Text(self.get(i)?),
        })
    }

    fn invalid(&self, i: usize, why: sqlx::error::BoxDynError) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, why)
    }
}

/// Why column `i` (`value`) is not a text, as `Row::get` says it: its name and type, or
/// bytes that are not UTF-8.
fn text_error(
    row: &rusqlite::Row<'_>,
    i: usize,
    value: ValueRef<'_>,
    error: rusqlite::types::FromSqlError,
) -> rusqlite::Error {
    match error {
        rusqlite::types::FromSqlError::InvalidType => {
            let name = row.as_ref().column_name(i).unwrap_or_default().to_owned();
            rusqlite::Error::InvalidColumnType(i, name, value.data_type())
        }
        other => rusqlite::Error::FromSqlConversionFailure(i, value.data_type(), Box::new(other)),
    }
}

/// The target of the debug event each statement run here makes, as sqlx's are
/// `sqlx::query`.
pub const STATEMENT_EVENTS: &str = "openstudio::sqlite_reads";

/// The rows of `sql` with `binds` (its `$n` placeholders), each read by `map`.
pub fn rows<T>(
    conn: &Connection,
    sql: &str,
    binds: &Binds,
    mut map: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> anyhow::Result<Vec<T>> {
    tracing::debug!(target: STATEMENT_EVENTS, statement = sql);
    let mut statement = conn.prepare_cached(sql)?;
    // SQLite numbers `$n` parameters in the order they first appear: each is bound by
    // its name's number.
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok());
        match number.and_then(|n| binds.numbered(n)) {
            Some(value) => statement.raw_bind_parameter(index, value)?,
            None => anyhow::bail!("no value for parameter {index} of: {sql}"),
        }
    }
    let mut rows = statement.raw_query();
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(map(row)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_bound_by_their_number_in_any_order_and_repeated() {
        let conn = Connection::open_in_memory().unwrap();
        let binds = Binds::from([Bind::Int(7), Bind::Text("b".into()), Bind::Bool(true)]);
        let rows = rows(&conn, "SELECT $2 || $1, $1 + $1, $3", &binds, |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
        })
        .unwrap();
        assert_eq!(rows, vec![("b7".to_owned(), 14, 1)]);
    }

    #[test]
    fn a_text_is_borrowed_and_nothing_else_reads_as_one() {
        let conn = Connection::open_in_memory().unwrap();
        let read = rows(&conn, "SELECT 'é', NULL, 7", &Binds::default(), |row| {
            assert_eq!((row.str(0)?, row.optional_str(0)?), ("é", Some("é")));
            assert_eq!(row.optional_str(1)?, None);
            assert!(row.str(1).is_err() && row.str(2).is_err() && row.optional_str(2).is_err());
            Ok(())
        });
        assert!(read.is_ok());
    }

    #[test]
    fn a_placeholder_without_its_value_is_an_error_not_a_null() {
        let conn = Connection::open_in_memory().unwrap();
        let binds = Binds::from([Bind::Int(1)]);
        let error = rows(&conn, "SELECT $1, $2", &binds, |row| row.get::<_, i64>(0)).unwrap_err();
        assert!(error.to_string().contains("no value for parameter 2"), "{error}");
    }
}
