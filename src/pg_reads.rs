//! PostgreSQL's connections for the hot reads (an artwork, the catalogue's pages and
//! chunks, the unviewed count): typed (`PgConnection`, not the `Any` driver) and pooled
//! by deadpool, which takes a connection back the moment a read ends. sqlx's own pool
//! pings every connection given back, on a task spawned for it: a second round trip to
//! the server, and a second wake-up of its process, for every read (BENCHMARKS.md).
//!
//! Without that ping, two things are this module's to handle: a connection whose read
//! was abandoned half-way (the request's deadline, a client gone) is closed rather than
//! given back, and a connection found broken (its server process killed or restarted
//! while it sat idle) is closed and the read run again on another.

use std::marker::PhantomData;
use std::str::FromStr;
use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, PoolError, RecycleError, RecycleResult};
use futures::future::BoxFuture;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{Connection, Executor};

/// A connection idle this long is asked whether it still answers before it is lent.
const IDLE_CHECK: Duration = Duration::from_secs(60);
/// A connection this old is closed and replaced when it comes back to be lent.
const MAX_AGE: Duration = Duration::from_secs(30 * 60);

/// Opens the connections: each with the statement timeout every connection has, set
/// when it starts.
#[derive(Debug)]
pub struct Connector {
    options: PgConnectOptions,
}

impl managed::Manager for Connector {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        let mut conn = PgConnection::connect_with(&self.options).await?;
        // A read abandoned half-way closes its connection (`Lent`); with this,
        // PostgreSQL 14 and later notice within a second and end the statement, rather
        // than run it to its timeout. Older servers do not know the setting: they run
        // it to the statement timeout, as before.
        if let Err(e) = conn.execute("SET client_connection_check_interval = 1000").await {
            tracing::debug!(error = %e, "the server does not check for closed clients");
        }
        Ok(conn)
    }

    /// A connection idle for a minute is pinged first (a firewall or the server may
    /// have dropped it); one older than half an hour is replaced. Otherwise nothing to
    /// check: a read that did not finish never gives its connection back, and a broken
    /// one is found by the next read ([`PgReaders::read`]).
    async fn recycle(&self, conn: &mut PgConnection, metrics: &Metrics) -> RecycleResult<sqlx::Error> {
        if metrics.age() > MAX_AGE {
            return Err(RecycleError::message("replaced after half an hour"));
        }
        if metrics.last_used() > IDLE_CHECK {
            conn.ping().await?;
        }
        Ok(())
    }
}

/// The hot reads' connections to PostgreSQL, opened when first needed.
#[derive(Debug, Clone)]
pub struct PgReaders {
    pool: managed::Pool<Connector>,
    acquire_timeout: Duration,
}

impl PgReaders {
    /// At most `size` connections to `url`; a read waits at most `acquire_timeout` for
    /// one (opening it included), and each statement runs at most `statement_ms`.
    pub fn new(url: &str, size: usize, acquire_timeout: Duration, statement_ms: u64) -> anyhow::Result<Self> {
        let options = PgConnectOptions::from_str(url)?.options([("statement_timeout", statement_ms.to_string())]);
        let pool = managed::Pool::builder(Connector { options })
            .max_size(size.max(1))
            .wait_timeout(Some(acquire_timeout))
            .create_timeout(Some(acquire_timeout))
            .runtime(deadpool::Runtime::Tokio1)
            .build()?;
        Ok(Self { pool, acquire_timeout })
    }

    /// Runs `read` on a connection, and again on another when the connection turns out
    /// to have broken while it sat idle: at most once for each connection the pool
    /// holds, then the error stands. A read changes nothing, so running it again is
    /// safe; a failure to connect, a timeout or any other error is not retried.
    ///
    /// `read` borrows the connection for `'c` and may borrow anything that outlives it
    /// (`'a`, which the [`Within`] argument bounds; it carries nothing).
    pub async fn read<'a, T, F>(&self, mut read: F) -> Result<T, sqlx::Error>
    where
        F: for<'c> FnMut(&'c mut PgConnection, Within<'c, 'a>) -> BoxFuture<'c, Result<T, sqlx::Error>>,
    {
        let mut tries = self.pool.status().max_size + 1;
        loop {
            let mut lent = Lent(Some(self.lend().await?));
            let result = match lent.0.as_mut() {
                Some(conn) => read(conn, PhantomData).await,
                None => Err(sqlx::Error::PoolClosed),
            };
            let conn = lent.0.take();
            match result {
                Err(error) if broke(&error) => {
                    // Closed, not given back; the pool opens another when needed.
                    drop(conn.map(Object::take));
                    if tries <= 1 {
                        return Err(error);
                    }
                    tries -= 1;
                }
                done => return done,
            }
        }
    }

    /// A connection, within the acquire timeout in all (waiting for one, and opening
    /// it).
    async fn lend(&self) -> Result<Object<Connector>, sqlx::Error> {
        match tokio::time::timeout(self.acquire_timeout, self.pool.get()).await {
            Ok(got) => got.map_err(pool_error),
            Err(_) => Err(sqlx::Error::PoolTimedOut),
        }
    }

    /// Whether a connection answers: each broken connection met on the way is closed,
    /// and a new one is opened when none is left idle. A check abandoned half-way (the
    /// readiness probe's own timeout) closes its connection like any read.
    pub async fn answers(&self) -> bool {
        self.read(|conn, _| Box::pin(conn.ping())).await.is_ok()
    }

    /// How many connections are open (lent or idle).
    pub fn held(&self) -> usize {
        self.pool.status().size
    }

    /// Closes every connection; reads fail from now on.
    pub fn close(&self) {
        self.pool.close();
    }
}

/// What tells the compiler that a read's connection (`'c`) is borrowed for no longer
/// than what the read borrows besides (`'a`).
pub type Within<'c, 'a> = PhantomData<&'c &'a ()>;

/// A connection lent to a read: closed, not given back, when the read is abandoned
/// before it ends (its future dropped), since the server may still be answering it.
struct Lent(Option<Object<Connector>>);

impl Drop for Lent {
    fn drop(&mut self) {
        if let Some(conn) = self.0.take() {
            drop(Object::take(conn));
        }
    }
}

fn pool_error(error: PoolError<sqlx::Error>) -> sqlx::Error {
    match error {
        PoolError::Backend(error) => error,
        PoolError::Timeout(_) => sqlx::Error::PoolTimedOut,
        PoolError::Closed => sqlx::Error::PoolClosed,
        // Mistakes in this module's set-up, not faults of the environment.
        PoolError::NoRuntimeSpecified | PoolError::PostCreateHook(_) => {
            sqlx::Error::Configuration("the hot reads' pool is not set up to run".into())
        }
    }
}

/// Whether `error` says the connection itself is gone: the server ended it (an
/// operator intervention `57P0…`: shut down, restarted, the database dropped, the
/// session idle too long; a connection exception `08…`) or the socket failed.
fn broke(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_) | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            code.starts_with("08") || code.starts_with("57P0")
        }
        _ => false,
    }
}
