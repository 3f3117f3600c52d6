//! The database: one data path for SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! SQL is written once, in the dialect both engines share: `$n` placeholders,
//! `RETURNING`, `ON CONFLICT`, partial indexes, `TRUE`/`FALSE`. Flags are read through
//! [`Flag`] because SQLite has no boolean type. SQLite gets one writer connection whose
//! transactions start with `BEGIN IMMEDIATE`, so a transaction that reads before it
//! writes waits for the lock instead of failing with SQLITE_BUSY.
//!
//! The hot reads run on each engine's own connections instead ([`Reads`]): on SQLite
//! the catalogue's pages, an artwork, the order lists and the unviewed count; on
//! PostgreSQL the catalogue's pages, an artwork, the unviewed count and the order lists;
//! on both, the member and the session a request is authenticated by. [`Columns`] reads
//! their rows and sqlx's with one decoder.

use std::borrow::Cow;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::error::DatabaseError;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::postgres::PgRow;
use sqlx::{Any, AnyPool, Decode, Executor, Row, Transaction, Type, TypeInfo, ValueRef};

use crate::pg_reads::PgReaders;
pub use crate::sql::{Bind, Binds, Columns, FromColumns};
use crate::sqlite_reads::Readers;

/// The advisory lock that orders notification commits on PostgreSQL.
const NOTIFICATION_ORDER_LOCK: i64 = 0x0057_0D10_0001;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Both engines, in the order of their discriminants: `Backend::ALL[b as usize] == b`.
    pub const ALL: [Backend; 2] = [Backend::Sqlite, Backend::Postgres];
}

/// The database handle: cheap to clone (one reference count), as every request does.
#[derive(Debug, Clone)]
pub struct Db(Arc<Pools>);

#[derive(Debug)]
pub struct Pools {
    /// Reads (and, on PostgreSQL, writes).
    read: AnyPool,
    /// Writes: on SQLite a single connection, so writers queue in the process.
    write: AnyPool,
    backend: Backend,
    /// When a write last failed for want of space (ms since the Unix epoch; 0: never).
    storage_full_at: AtomicI64,
    /// SQLite's `max_page_count` for new writer connections (0: SQLite's own limit).
    max_pages: Arc<AtomicI64>,
    /// The hot reads' own connections.
    reads: Reads,
}

/// The connections of the hot reads (a page of the catalogue, an artwork, a list of
/// orders), each engine's own.
#[derive(Debug)]
pub enum Reads {
    /// SQLite's read-only connections outside sqlx (`sqlite_reads`): sqlx hands each
    /// statement and row to a thread of its own and back.
    Sqlite(Readers),
    /// Typed PostgreSQL connections (`pg_reads`): the `Any` driver converts each row's
    /// list of columns and its values, which cost more than the rows themselves.
    Postgres(PgReaders),
}

/// A hot read that failed, on either engine's connections.
#[derive(Debug, thiserror::Error)]
pub enum ReadFault {
    #[error(transparent)]
    Sqlite(#[from] crate::sqlite_reads::ReadError),
    #[error(transparent)]
    Postgres(#[from] sqlx::Error),
}

impl Reads {
    /// The first row of `sql` (`None` without a row): a point read, run on the request's
    /// thread on SQLite. On PostgreSQL a connection that broke while idle is replaced
    /// and the read run again ([`PgReaders::read`]), where the `Any` pool would answer
    /// 503 once for each.
    pub async fn one<T: FromColumns>(&self, sql: &str, binds: &Binds) -> Result<Option<T>, ReadFault> {
        match self {
            Self::Sqlite(readers) => {
                let found = readers
                    .run(|conn| crate::sqlite_reads::rows(conn, sql, binds, |row| T::read(row)))
                    .await?;
                Ok(found.into_iter().next())
            }
            Self::Postgres(readers) => Ok(readers
                .read(|conn, _| {
                    Box::pin(async move {
                        let row = binds.apply(sqlx::query(sql)).fetch_optional(conn).await?;
                        row.map(|row| T::read(&row)).transpose()
                    })
                })
                .await?),
        }
    }

    /// The integer in the first column of `sql`'s first row (0 without a row).
    pub async fn int(&self, sql: &str, binds: &Binds) -> Result<i64, ReadFault> {
        Ok(self.one::<i64>(sql, binds).await?.unwrap_or_default())
    }
}

pub type Tx = Transaction<'static, Any>;

/// How the pools behave.
#[derive(Debug, Clone, Copy)]
pub struct DbOptions {
    pub max_connections: u32,
    /// How long a request waits for a connection before it answers 503: short, so an
    /// outage fails fast instead of piling requests up.
    pub acquire_timeout: Duration,
    /// Longest a PostgreSQL statement may run (0: no limit); the server cancels it.
    pub statement_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            max_connections: 10,
            acquire_timeout: Duration::from_secs(3),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

/// How long a write is taken to be refused for want of space after the last time it was.
const STORAGE_FULL_FOR: Duration = Duration::from_secs(10);

/// A PostgreSQL connection idle longer than this is pinged before it is lent.
const IDLE_PING: Duration = Duration::from_secs(1);

/// Checks a pooled connection before it is lent; a connection refused here is closed
/// and another taken.
///
/// - One left inside a transaction (its ROLLBACK failed after SQLite rolled back by
///   itself on a full disk, or a request was dropped just after `BEGIN`) would refuse
///   every later `BEGIN` forever.
/// - A PostgreSQL connection idle for over [`IDLE_PING`] is pinged: one whose server
///   process ended while it sat idle (a restart, a failover, an operator) would
///   otherwise fail its next request with a 503. A connection in steady use is never
///   pinged, so busy pools pay nothing; idle ones pay one round trip.
fn checked_before_use(
    conn: &mut sqlx::AnyConnection,
    meta: sqlx::pool::PoolConnectionMetadata,
) -> BoxFuture<'_, Result<bool, sqlx::Error>> {
    Box::pin(async move {
        if sqlx::Connection::is_in_transaction(conn) {
            tracing::warn!("discarding a pooled connection left inside a transaction");
            return Ok(false);
        }
        if meta.idle_for > IDLE_PING && conn.backend_name() == "PostgreSQL" {
            // An error closes the connection; the pool takes another.
            sqlx::Connection::ping(conn).await?;
        }
        Ok(true)
    })
}

/// Every SQLite connection's settings; `max_pages` (when above 0) caps the file's size,
/// and each statement may run for `deadline_ms` (0: no limit).
fn sqlite_pragmas(
    conn: &mut sqlx::AnyConnection,
    max_pages: i64,
    deadline_ms: u128,
) -> BoxFuture<'_, Result<(), sqlx::Error>> {
    Box::pin(async move {
        let deadline = format!("SELECT {}({deadline_ms})", crate::sqlite_deadline::SET_DEADLINE);
        conn.execute(deadline.as_str()).await?;
        for pragma in [
            "PRAGMA journal_mode = WAL",
            "PRAGMA foreign_keys = ON",
            "PRAGMA busy_timeout = 10000",
            "PRAGMA synchronous = NORMAL",
        ] {
            conn.execute(pragma).await?;
        }
        if max_pages > 0 {
            conn.execute(format!("PRAGMA max_page_count = {max_pages}").as_str())
                .await?;
        }
        Ok(())
    })
}

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        Self::connect_with(
            url,
            DbOptions {
                max_connections,
                ..DbOptions::default()
            },
        )
        .await
    }

    pub async fn connect_with(url: &str, options: DbOptions) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        let max_pages = Arc::new(AtomicI64::new(0));
        let pool_options = || {
            AnyPoolOptions::new()
                .acquire_timeout(options.acquire_timeout)
                // No ping before each use: it would double every query's round trips.
                // Only a connection idle for a while is checked ([`checked_before_use`]).
                .test_before_acquire(false)
                .before_acquire(checked_before_use)
        };
        let statement_ms = options.statement_timeout.as_millis();
        if url.starts_with("sqlite:") {
            let Some(path) = sqlite_path(url) else {
                anyhow::bail!("SQLite needs a database file (sqlite://path/to/file.db), not {url}");
            };
            ensure_sqlite_dir(path)?;
            crate::sqlite_deadline::install()?;
            // The writer first: it creates the file and switches it to WAL.
            let write = pool_options()
                .max_connections(1)
                .after_connect({
                    let max_pages = max_pages.clone();
                    move |conn, _| sqlite_pragmas(conn, max_pages.load(Ordering::Relaxed), statement_ms)
                })
                .connect(url)
                .await
                .with_context(|| format!("opening {url}"))?;
            let read = pool_options()
                .max_connections(options.max_connections.clamp(1, 8))
                .after_connect(move |conn, _| sqlite_pragmas(conn, 0, statement_ms))
                .connect(url)
                .await?;
            restrict_sqlite_files(url);
            // SQLite's reads are the server's own CPU work: more of them at once than
            // twice the cores only share the cores finer, and the slowest wait longer
            // (a page of 200 at 32 connections: p99 18-21 ms with 4 readers on 2 cores,
            // 24-27 ms with 8, at the same rate; BENCHMARKS.md, session 12).
            let cores = std::thread::available_parallelism().map_or(1, usize::from);
            let readers = Readers::new(
                path.into(),
                (options.max_connections.clamp(1, 8) as usize).min(2 * cores),
                options.acquire_timeout,
                options.statement_timeout,
            );
            Ok(Self(Arc::new(Pools {
                read,
                write,
                backend: Backend::Sqlite,
                storage_full_at: AtomicI64::default(),
                max_pages,
                reads: Reads::Sqlite(readers),
            })))
        } else {
            let pool = pool_options()
                .max_connections(options.max_connections)
                .after_connect(move |conn, _| {
                    Box::pin(async move {
                        conn.execute(format!("SET statement_timeout = {statement_ms}").as_str())
                            .await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            let pg_reads = PgReaders::new(
                url,
                usize::try_from(options.max_connections).unwrap_or(usize::MAX),
                options.acquire_timeout,
                u64::try_from(statement_ms).unwrap_or(u64::MAX),
            )
            .context("reading DATABASE_URL for PostgreSQL's hot reads")?;
            Ok(Self(Arc::new(Pools {
                read: pool.clone(),
                write: pool,
                backend: Backend::Postgres,
                storage_full_at: AtomicI64::default(),
                max_pages,
                reads: Reads::Postgres(pg_reads),
            })))
        }
    }

    /// Caps the SQLite file at `pages` pages (`PRAGMA max_page_count`), now and for every
    /// writer connection opened later: a full disk, reproducible. No effect on PostgreSQL.
    pub async fn limit_pages(&self, pages: i64) -> Result<(), sqlx::Error> {
        if self.0.backend != Backend::Sqlite {
            return Ok(());
        }
        self.0.max_pages.store(pages, Ordering::Relaxed);
        let mut conn = self.0.write.acquire().await?;
        conn.execute(format!("PRAGMA max_page_count = {pages}").as_str())
            .await?;
        Ok(())
    }

    /// Notes that a write failed for want of space.
    pub fn note_storage_full(&self) {
        let now = chrono::Utc::now().timestamp_millis();
        self.0.storage_full_at.store(now, Ordering::Relaxed);
    }

    /// Notes that a write succeeded: there is space again.
    pub fn clear_storage_full(&self) {
        self.0.storage_full_at.store(0, Ordering::Relaxed);
    }

    /// Whether a write failed for want of space within the last few seconds. Writes
    /// are still tried meanwhile, so the first one after space is freed succeeds.
    pub fn storage_full(&self) -> bool {
        let at = self.0.storage_full_at.load(Ordering::Relaxed);
        at > 0 && chrono::Utc::now().timestamp_millis() - at < STORAGE_FULL_FOR.as_millis() as i64
    }

    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    /// The pool for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.0.read
    }

    /// The hot reads' connections.
    pub fn reads(&self) -> &Reads {
        &self.0.reads
    }

    /// A write transaction that holds the write lock from its first statement.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.0.backend {
            Backend::Sqlite => self.0.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.0.write.begin().await,
        }
    }

    /// A transaction that will write notifications. On PostgreSQL it first takes one
    /// advisory lock, held to its end, so that notification ids commit in increasing
    /// order and a reader that has seen id N has seen every committed id below it (order
    /// transitions run one at a time, as every write does on SQLite). Taken before any
    /// row lock, it cannot be part of a deadlock.
    pub async fn begin_notifying(&self) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin().await?;
        if self.0.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(NOTIFICATION_ORDER_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx)
    }

    /// Applies the migrations that have not run yet (locked on PostgreSQL, so two
    /// instances starting together do not race).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = Migrator::new(Embedded(self.0.backend))
            .await
            .context("loading migrations")?;
        self.run_migrator(&migrator).await
    }

    /// Runs migrations on a connection of their own, free of the statement timeout that
    /// bounds requests, and closed afterwards rather than returned to the pool.
    async fn run_migrator(&self, migrator: &Migrator) -> anyhow::Result<()> {
        let mut conn = self.0.write.acquire().await.context("connecting to migrate")?;
        match self.0.backend {
            Backend::Postgres => conn.execute("SET statement_timeout = 0").await?,
            Backend::Sqlite => {
                let none = format!("SELECT {}(0)", crate::sqlite_deadline::SET_DEADLINE);
                conn.execute(none.as_str()).await?
            }
        };
        let result = migrator.run(&mut *conn).await.context("running migrations");
        // Not back to the pool without its deadline.
        conn.close().await.ok();
        result
    }

    /// Applies the migrations up to and including `version` only: for checking that
    /// an upgrade from an older schema carries its data forward.
    pub async fn migrate_to(&self, version: i64) -> anyhow::Result<()> {
        let mut migrator = Migrator::new(Embedded(self.0.backend))
            .await
            .context("loading migrations")?;
        migrator.migrations = Cow::Owned(
            migrator
                .migrations
                .iter()
                .filter(|m| m.version <= version)
                .cloned()
                .collect(),
        );
        self.run_migrator(&migrator).await
    }

    /// Whether the database answers a query.
    ///
    /// A connection that broke while idle (its server backend was killed or restarted)
    /// does not count against the database: it is closed and the next one is tried, so
    /// the answer is about the database, not about a stale socket. SQLite's hot reads
    /// are asked too: a reader whose read fails is closed, and the next read opens one.
    pub async fn ping(&self) -> bool {
        let reads = match &self.0.reads {
            Reads::Sqlite(readers) => readers
                // Reads the file's header: `SELECT 1` would answer without the file.
                .run(|conn| Ok(conn.query_row("PRAGMA schema_version", [], |row| row.get::<_, i64>(0))?))
                .await
                .is_ok(),
            Reads::Postgres(readers) => readers.answers().await,
        };
        reads && answers(&self.0.read).await
    }

    /// Whether every embedded migration has been applied.
    pub async fn is_migrated(&self) -> bool {
        let expected = migrations(self.0.backend).len() as i64;
        let applied = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.0.read)
            .await
            .and_then(|row| row.try_get::<i64, _>(0));
        matches!(applied, Ok(n) if n >= expected)
    }

    pub async fn close(&self) {
        self.0.read.close().await;
        self.0.write.close().await;
        match &self.0.reads {
            Reads::Sqlite(readers) => readers.close(),
            Reads::Postgres(readers) => readers.close(),
        }
    }
}

/// Whether `pool` hands out a connection that answers: each broken connection met on
/// the way is closed, and a new one is opened when none is left idle.
async fn answers<DB: sqlx::Database>(pool: &sqlx::Pool<DB>) -> bool {
    for _ in 0..=pool.size() {
        let Ok(mut conn) = pool.acquire().await else {
            return false;
        };
        if sqlx::Connection::ping(&mut *conn).await.is_ok() {
            return true;
        }
        conn.close_on_drop();
    }
    false
}

/// The database, its WAL and shared-memory files: readable by their owner only.
fn restrict_sqlite_files(url: &str) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let Some(path) = sqlite_path(url) else { return };
        for suffix in ["", "-wal", "-shm"] {
            let file = format!("{path}{suffix}");
            if let Err(e) = std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)) {
                if e.kind() != std::io::ErrorKind::NotFound {
                    tracing::warn!(file, error = %e, "could not make the database file private");
                }
            }
        }
    }
}

/// The file path in a `sqlite:` URL, unless it is in memory.
fn sqlite_path(url: &str) -> Option<&str> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// What a database error means for the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// No space left for the write.
    StorageFull,
    /// The database is unreachable, restarting, overloaded, or the statement took too
    /// long: try again shortly.
    Unavailable,
}

/// Classifies an error that is the environment's doing rather than a bug: a lost or
/// broken connection, an outage, a timeout, a full disk.
pub fn fault(error: &sqlx::Error) -> Option<Fault> {
    use sqlx::Error::*;
    match error {
        Io(_) | Tls(_) | PoolTimedOut | PoolClosed | WorkerCrashed => Some(Fault::Unavailable),
        Database(db) => {
            if let Some(e) = db.try_downcast_ref::<sqlx::sqlite::SqliteError>() {
                let code = e.code().and_then(|c| c.parse::<i32>().ok()).unwrap_or_default() & 0xff;
                return match code {
                    13 => Some(Fault::StorageFull),
                    // BUSY, LOCKED, INTERRUPT, IOERR, CANTOPEN.
                    5 | 6 | 9 | 10 | 14 => Some(Fault::Unavailable),
                    _ => None,
                };
            }
            let code = db.code().unwrap_or_default();
            match &*code {
                // disk_full
                "53100" => Some(Fault::StorageFull),
                // connection exceptions, admin/crash shutdown, cannot connect now, query
                // canceled (statement_timeout), insufficient resources, lock timeouts,
                // read-only after a failover, system errors.
                c if c.starts_with("08") || c.starts_with("53") || c.starts_with("58") => Some(Fault::Unavailable),
                "57P01" | "57P02" | "57P03" | "57014" | "55P03" | "25006" => Some(Fault::Unavailable),
                _ => None,
            }
        }
        _ => None,
    }
}

fn ensure_sqlite_dir(path: &str) -> anyhow::Result<()> {
    if let Some(parent) = std::path::Path::new(path)
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
    {
        std::fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}

type Embed = (i64, &'static str, &'static str);

const SQLITE_MIGRATIONS: &[Embed] = &[
    (1, "init", include_str!("../migrations/sqlite/0001_init.sql")),
    (
        2,
        "search and indexes",
        include_str!("../migrations/sqlite/0002_search_and_indexes.sql"),
    ),
    (3, "uploads", include_str!("../migrations/sqlite/0003_uploads.sql")),
    (
        4,
        "idempotency keys",
        include_str!("../migrations/sqlite/0004_idempotency.sql"),
    ),
    (
        5,
        "idempotency leases",
        include_str!("../migrations/sqlite/0005_idempotency_lease.sql"),
    ),
    (
        6,
        "rate limits",
        include_str!("../migrations/sqlite/0006_rate_limits.sql"),
    ),
    (
        7,
        "order delivery address",
        include_str!("../migrations/sqlite/0007_order_delivery.sql"),
    ),
    (
        8,
        "username skeleton",
        include_str!("../migrations/sqlite/0008_username_skeleton.sql"),
    ),
    (
        9,
        "search triggers only on change",
        include_str!("../migrations/sqlite/0009_search_triggers_when.sql"),
    ),
    (
        10,
        "web sessions",
        include_str!("../migrations/sqlite/0010_sessions.sql"),
    ),
    (
        11,
        "notifications",
        include_str!("../migrations/sqlite/0011_notifications.sql"),
    ),
    (
        12,
        "catalogue counts",
        include_str!("../migrations/sqlite/0012_catalogue_counts.sql"),
    ),
    (
        13,
        "artwork images column",
        include_str!("../migrations/sqlite/0013_artwork_images_column.sql"),
    ),
    (
        14,
        "drop the unfiltered created index",
        include_str!("../migrations/sqlite/0014_drop_unfiltered_created_index.sql"),
    ),
    (
        15,
        "filter indexes end with the id",
        include_str!("../migrations/sqlite/0015_filter_indexes_end_with_id.sql"),
    ),
    (
        16,
        "search generation, in place of the database's search",
        include_str!("../migrations/sqlite/0016_search_generation.sql"),
    ),
    (
        17,
        "search marks: the index follows what changed",
        include_str!("../migrations/sqlite/0017_search_marks.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[Embed] = &[
    (1, "init", include_str!("../migrations/postgres/0001_init.sql")),
    (
        2,
        "search and indexes",
        include_str!("../migrations/postgres/0002_search_and_indexes.sql"),
    ),
    (3, "uploads", include_str!("../migrations/postgres/0003_uploads.sql")),
    (
        4,
        "idempotency keys",
        include_str!("../migrations/postgres/0004_idempotency.sql"),
    ),
    (
        5,
        "idempotency leases",
        include_str!("../migrations/postgres/0005_idempotency_lease.sql"),
    ),
    (
        6,
        "rate limits",
        include_str!("../migrations/postgres/0006_rate_limits.sql"),
    ),
    (
        7,
        "order delivery address",
        include_str!("../migrations/postgres/0007_order_delivery.sql"),
    ),
    (
        8,
        "username skeleton",
        include_str!("../migrations/postgres/0008_username_skeleton.sql"),
    ),
    (
        9,
        "search triggers only on change",
        include_str!("../migrations/postgres/0009_search_triggers_when.sql"),
    ),
    (
        10,
        "web sessions",
        include_str!("../migrations/postgres/0010_sessions.sql"),
    ),
    (
        11,
        "notifications",
        include_str!("../migrations/postgres/0011_notifications.sql"),
    ),
    (
        12,
        "catalogue counts",
        include_str!("../migrations/postgres/0012_catalogue_counts.sql"),
    ),
    (
        13,
        "artwork images column",
        include_str!("../migrations/postgres/0013_artwork_images_column.sql"),
    ),
    (
        14,
        "drop the unfiltered created index",
        include_str!("../migrations/postgres/0014_drop_unfiltered_created_index.sql"),
    ),
    (
        15,
        "filter indexes end with the id",
        include_str!("../migrations/postgres/0015_filter_indexes_end_with_id.sql"),
    ),
    (
        16,
        "search generation, in place of the database's search",
        include_str!("../migrations/postgres/0016_search_generation.sql"),
    ),
    (
        17,
        "search marks: the index follows what changed",
        include_str!("../migrations/postgres/0017_search_marks.sql"),
    ),
];

fn migrations(backend: Backend) -> &'static [Embed] {
    match backend {
        Backend::Sqlite => SQLITE_MIGRATIONS,
        Backend::Postgres => POSTGRES_MIGRATIONS,
    }
}

/// The migrations compiled into the binary, so that it runs without its source tree.
#[derive(Debug)]
struct Embedded(Backend);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        let list = migrations(self.0)
            .iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*name),
                    MigrationType::Simple,
                    Cow::Borrowed(*sql),
                    false,
                )
            })
            .collect();
        Box::pin(async move { Ok(list) })
    }
}

/// A boolean column: PostgreSQL's BOOLEAN, SQLite's INTEGER 0/1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl Type<Any> for Flag {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        <bool as Type<Any>>::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        <bool as Type<Any>>::compatible(ty) || <i64 as Type<Any>>::compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        if value.type_info().name() == "BOOLEAN" {
            <bool as Decode<Any>>::decode(value).map(Flag)
        } else {
            <i64 as Decode<Any>>::decode(value).map(|n| Flag(n != 0))
        }
    }
}

/// Rows read through the `Any` driver. SQLite has no boolean type: through `Any` a flag
/// is an integer or a boolean ([`Flag`]).
impl Columns for AnyRow {
    type Error = sqlx::Error;

    fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
        self.try_get(i)
    }

    fn optional_int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(i)
    }

    fn str(&self, i: usize) -> Result<&str, sqlx::Error> {
        self.try_get(i)
    }

    fn optional_str(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        self.try_get(i)
    }

    fn flag(&self, i: usize) -> Result<bool, sqlx::Error> {
        self.try_get::<Flag, _>(i).map(bool::from)
    }

    fn key(&self, i: usize) -> Result<Bind, sqlx::Error> {
        self.try_get::<i64, _>(i)
            .map(Bind::Int)
            .or_else(|_| self.try_get::<String, _>(i).map(Bind::Text))
    }

    fn invalid(&self, i: usize, why: sqlx::error::BoxDynError) -> sqlx::Error {
        column_error(i, why)
    }
}

/// The error for column `i`, which could not be read as asked.
fn column_error(i: usize, why: sqlx::error::BoxDynError) -> sqlx::Error {
    sqlx::Error::ColumnDecode {
        index: i.to_string(),
        source: why,
    }
}

/// PostgreSQL's typed rows. sqlx's `try_get` checks that a column's type suits the Rust
/// type by building and comparing six type descriptions for a `String`: a tenth of the
/// server's time in a page of the catalogue (`Row::try_get` in `bench/profile.sh`). Here
/// the check compares the column's type OID with the few that each read accepts: the
/// schema's BIGINT (and any narrower integer), TEXT (and VARCHAR) and BOOLEAN.
impl Columns for PgRow {
    type Error = sqlx::Error;

    fn int(&self, i: usize) -> Result<i64, sqlx::Error> {
        required(i, pg_get(self, i, PG_INTEGERS)?)
    }

    fn optional_int(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        pg_get(self, i, PG_INTEGERS)
    }

    fn str(&self, i: usize) -> Result<&str, sqlx::Error> {
        required(i, pg_get(self, i, PG_TEXTS)?)
    }

    fn optional_str(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        pg_get(self, i, PG_TEXTS)
    }

    fn flag(&self, i: usize) -> Result<bool, sqlx::Error> {
        required(i, pg_get(self, i, PG_BOOLEAN)?)
    }

    fn key(&self, i: usize) -> Result<Bind, sqlx::Error> {
        let integer = self
            .try_get_raw(i)?
            .type_info()
            .oid()
            .is_some_and(|oid| PG_INTEGERS.contains(&oid.0));
        match integer {
            true => self.int(i).map(Bind::Int),
            false => self.text(i).map(Bind::Text),
        }
    }

    fn invalid(&self, i: usize, why: sqlx::error::BoxDynError) -> sqlx::Error {
        column_error(i, why)
    }
}

/// pg_type's fixed OIDs of what reads as an `i64` (int8, int4, int2), a `String` (text,
/// varchar) and a `bool`.
const PG_INTEGERS: &[u32] = &[20, 23, 21];
const PG_TEXTS: &[u32] = &[25, 1043];
const PG_BOOLEAN: &[u32] = &[16];

/// Column `i` of `row`, `None` when it is NULL, if its type is one of `oids`.
fn pg_get<'r, T: Decode<'r, sqlx::Postgres>>(row: &'r PgRow, i: usize, oids: &[u32]) -> Result<Option<T>, sqlx::Error> {
    let value = row.try_get_raw(i)?;
    if value.is_null() {
        return Ok(None);
    }
    let type_info = value.type_info();
    if !type_info.oid().is_some_and(|oid| oids.contains(&oid.0)) {
        let why = format!("a {type_info} column cannot be read as {}", std::any::type_name::<T>());
        return Err(column_error(i, why.into()));
    }
    T::decode(value).map(Some).map_err(|why| column_error(i, why))
}

/// The value of column `i`, which must not be NULL.
fn required<T>(i: usize, value: Option<T>) -> Result<T, sqlx::Error> {
    value.ok_or_else(|| column_error(i, Box::new(sqlx::error::UnexpectedNullError)))
}

impl From<Flag> for bool {
    fn from(flag: Flag) -> bool {
        flag.0
    }
}

/// Reads a flag column by name.
pub fn flag(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    row.try_get::<Flag, _>(column).map(|f| f.0)
}

/// `$start, $start+1, …` for `count` values, for `IN (…)` lists.
pub fn placeholders(start: usize, count: usize) -> String {
    (start..start + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a stored timestamp column.
pub fn timestamp(row: &AnyRow, column: &str) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
    optional_timestamp(row, column)?.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.to_owned(),
        source: "NULL where a timestamp was expected".into(),
    })
}

/// A timestamp column that may be NULL.
pub fn optional_timestamp(row: &AnyRow, column: &str) -> Result<Option<chrono::DateTime<chrono::Utc>>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|text| crate::clock::from_db(&text))
        .transpose()
        .map_err(|e| sqlx::Error::ColumnDecode {
            index: column.to_owned(),
            source: Box::new(e),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_start() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(placeholders(1, 0), "");
    }
}
