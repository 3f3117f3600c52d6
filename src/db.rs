//! The database: one data path for SQLite and PostgreSQL through sqlx's `Any` driver.
//!
//! SQL is written once, in the dialect both engines share: `$n` placeholders,
//! `RETURNING`, `ON CONFLICT`, partial indexes, `TRUE`/`FALSE`. Flags are read through
//! [`Flag`] because SQLite has no boolean type. SQLite gets one writer connection whose
//! transactions start with `BEGIN IMMEDIATE`, so a transaction that reads before it
//! writes waits for the lock instead of failing with SQLITE_BUSY.

use std::borrow::Cow;
use std::time::Duration;

use anyhow::Context;
use futures::future::BoxFuture;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};
use sqlx::{Any, AnyPool, Decode, Executor, Row, Transaction, Type, TypeInfo, ValueRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Clone)]
pub struct Db {
    /// Reads (and, on PostgreSQL, writes).
    read: AnyPool,
    /// Writes: on SQLite a single connection, so writers queue in the process.
    write: AnyPool,
    backend: Backend,
}

pub type Tx = Transaction<'static, Any>;

impl Db {
    pub async fn connect(url: &str, max_connections: u32) -> anyhow::Result<Self> {
        sqlx::any::install_default_drivers();
        if url.starts_with("sqlite:") {
            ensure_sqlite_dir(url)?;
            let options = || {
                AnyPoolOptions::new()
                    .acquire_timeout(Duration::from_secs(30))
                    .test_before_acquire(false)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            for pragma in [
                                "PRAGMA journal_mode = WAL",
                                "PRAGMA foreign_keys = ON",
                                "PRAGMA busy_timeout = 10000",
                                "PRAGMA synchronous = NORMAL",
                            ] {
                                conn.execute(pragma).await?;
                            }
                            Ok(())
                        })
                    })
            };
            // The writer first: it creates the file and switches it to WAL.
            let write = options()
                .max_connections(1)
                .connect(url)
                .await
                .with_context(|| format!("opening {url}"))?;
            let read = options()
                .max_connections(max_connections.clamp(1, 8))
                .connect(url)
                .await?;
            Ok(Self {
                read,
                write,
                backend: Backend::Sqlite,
            })
        } else {
            // No ping before each use: it would double every query's round trips. A
            // connection that broke while idle fails its next query and is replaced.
            let pool = AnyPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(30))
                .test_before_acquire(false)
                .connect(url)
                .await
                .context("connecting to PostgreSQL")?;
            Ok(Self {
                read: pool.clone(),
                write: pool,
                backend: Backend::Postgres,
            })
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool for reads outside a transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.read
    }

    /// A write transaction that holds the write lock from its first statement.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.write.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.write.begin().await,
        }
    }

    /// Applies the migrations that have not run yet (locked on PostgreSQL, so two
    /// instances starting together do not race).
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = Migrator::new(Embedded(self.backend))
            .await
            .context("loading migrations")?;
        migrator.run(&self.write).await.context("running migrations")?;
        Ok(())
    }

    /// Applies the migrations up to and including `version` only: for checking that
    /// an upgrade from an older schema carries its data forward.
    pub async fn migrate_to(&self, version: i64) -> anyhow::Result<()> {
        let mut migrator = Migrator::new(Embedded(self.backend))
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
        migrator.run(&self.write).await.context("running migrations")?;
        Ok(())
    }

    /// Whether every embedded migration has been applied.
    pub async fn is_migrated(&self) -> bool {
        let expected = migrations(self.backend).len() as i64;
        let applied = sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_one(&self.read)
            .await
            .and_then(|row| row.try_get::<i64, _>(0));
        matches!(applied, Ok(n) if n >= expected)
    }

    pub async fn close(&self) {
        self.read.close().await;
        self.write.close().await;
    }
}

fn ensure_sqlite_dir(url: &str) -> anyhow::Result<()> {
    let path = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
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

/// A value for a query built at run time.
#[derive(Debug, Clone)]
pub enum Bind {
    Int(i64),
    Text(String),
    Bool(bool),
}

/// The values of a query built at run time, numbered as they are pushed.
#[derive(Debug, Clone, Default)]
pub struct Binds(Vec<Bind>);

impl Binds {
    /// Adds a value and returns its placeholder (`$n`).
    pub fn push(&mut self, value: Bind) -> String {
        self.0.push(value);
        format!("${}", self.0.len())
    }

    pub fn apply<'q>(
        &self,
        mut query: sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>> {
        for value in &self.0 {
            query = match value {
                Bind::Int(n) => query.bind(*n),
                Bind::Text(text) => query.bind(text.clone()),
                Bind::Bool(b) => query.bind(*b),
            };
        }
        query
    }
}

/// Reads a stored timestamp column.
pub fn timestamp(row: &AnyRow, column: &str) -> Result<chrono::DateTime<chrono::Utc>, sqlx::Error> {
    let text: String = row.try_get(column)?;
    crate::clock::from_db(&text).map_err(|e| sqlx::Error::ColumnDecode {
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
