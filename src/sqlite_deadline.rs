//! A deadline for every SQLite statement, like PostgreSQL's `statement_timeout`: a
//! statement still running after it is interrupted (SQLITE_INTERRUPT, answered 503), so
//! no request, however its query is planned, holds a connection or the write lock for
//! longer than a request may take. sqlx's `Any` driver gives no way to the connection's
//! handle, so this is installed as an auto-extension: SQLite runs it for every
//! connection it opens, and it registers, per connection,
//!
//! - a trace callback noting when each statement starts and ends,
//! - a progress handler interrupting the statement once it is over its deadline,
//! - and the SQL function `openstudio_statement_deadline(ms)` that sets the deadline
//!   (0: none, the default), which the pool calls on each new connection.

use std::ffi::{c_char, c_int, c_uint, c_void, CStr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use libsqlite3_sys as ffi;

/// The SQL function that sets a connection's deadline, in milliseconds.
pub const SET_DEADLINE: &str = "openstudio_statement_deadline";

/// A connection's deadline and when its current statement began.
struct Deadline {
    epoch: Instant,
    /// Milliseconds; 0: no deadline.
    limit_ms: AtomicU64,
    /// Milliseconds after `epoch` at which the current statement began, plus one (0:
    /// none is running).
    started_ms: AtomicU64,
    /// The running top-level statement (its address), whose end stops the clock.
    statement: AtomicUsize,
}

impl Deadline {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// Installs the deadline machinery for every SQLite connection opened from now on.
pub fn install() -> anyhow::Result<()> {
    static STATUS: OnceLock<c_int> = OnceLock::new();
    let status = *STATUS.get_or_init(|| {
        // No memory statistics: keeping them takes one process-wide mutex on every
        // allocation SQLite makes, which its reader threads then queue on. Only possible
        // before SQLite initialises (auto_extension below does); refused harmlessly after.
        // SAFETY: a plain configuration call with the one int argument this option takes.
        unsafe { ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int) };
        // SAFETY: `init` has the signature SQLite expects of an extension entry point.
        unsafe { ffi::sqlite3_auto_extension(Some(init)) }
    });
    if status == ffi::SQLITE_OK {
        Ok(())
    } else {
        anyhow::bail!("installing SQLite's statement deadline failed (SQLite status {status})")
    }
}

/// Runs inside `sqlite3_open_v2` for each new connection.
unsafe extern "C" fn init(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    let deadline = Box::into_raw(Box::new(Deadline {
        epoch: Instant::now(),
        limit_ms: AtomicU64::new(0),
        started_ms: AtomicU64::new(0),
        statement: AtomicUsize::new(0),
    }));
    let context = deadline.cast::<c_void>();
    let name: &CStr = c"openstudio_statement_deadline";
    // SAFETY: `db` is the connection being opened; the function owns `context` and frees
    // it through `destroy` when the connection closes, after which neither callback runs.
    unsafe {
        let created = ffi::sqlite3_create_function_v2(
            db,
            name.as_ptr(),
            1,
            // Callable by the connection's own statements only, never from a trigger
            // or a view.
            ffi::SQLITE_UTF8 | ffi::SQLITE_DIRECTONLY,
            context,
            Some(set_deadline),
            None,
            None,
            Some(destroy),
        );
        if created != ffi::SQLITE_OK {
            // On failure SQLite has already called `destroy`.
            return created;
        }
        let events = (ffi::SQLITE_TRACE_STMT | ffi::SQLITE_TRACE_PROFILE) as c_uint;
        ffi::sqlite3_trace_v2(db, events, Some(on_trace), context);
        ffi::sqlite3_progress_handler(db, PROGRESS_STEPS, Some(on_progress), context);
    }
    ffi::SQLITE_OK
}

/// Virtual-machine steps between two looks at the clock: a few microseconds' work.
const PROGRESS_STEPS: c_int = 1000;

unsafe extern "C" fn destroy(context: *mut c_void) {
    if !context.is_null() {
        // SAFETY: `context` is the `Deadline` made by `init`, freed only here.
        drop(unsafe { Box::from_raw(context.cast::<Deadline>()) });
    }
}

unsafe extern "C" fn set_deadline(context: *mut ffi::sqlite3_context, argc: c_int, argv: *mut *mut ffi::sqlite3_value) {
    // SAFETY: SQLite passes the function's user data, the `Deadline` of this connection,
    // and `argc` (here 1) valid values.
    unsafe {
        let deadline = &*ffi::sqlite3_user_data(context).cast::<Deadline>();
        if argc == 1 && !argv.is_null() {
            let ms = ffi::sqlite3_value_int64(*argv);
            deadline
                .limit_ms
                .store(u64::try_from(ms).unwrap_or(0), Ordering::Relaxed);
        }
        ffi::sqlite3_result_null(context);
    }
}

unsafe extern "C" fn on_trace(
    event: c_uint,
    context: *mut c_void,
    statement: *mut c_void,
    detail: *mut c_void,
) -> c_int {
    // SAFETY: `context` is this connection's `Deadline`. For a statement's start,
    // `detail` is its text (or NULL); nothing else is read through a pointer.
    unsafe {
        let deadline = &*context.cast::<Deadline>();
        if event == ffi::SQLITE_TRACE_STMT as c_uint {
            // A trigger's program ("-- TRIGGER …") and a statement run from within
            // another (a virtual table's own) report "-- …": part of the statement already running,
            // whose clock keeps going.
            let sql = detail.cast::<c_char>();
            if sql.is_null() || *sql != b'-' as c_char {
                deadline.statement.store(statement as usize, Ordering::Relaxed);
                deadline.started_ms.store(deadline.now_ms() + 1, Ordering::Relaxed);
            }
        } else if event == ffi::SQLITE_TRACE_PROFILE as c_uint
            && deadline.statement.load(Ordering::Relaxed) == statement as usize
        {
            // The statement is done: until the next one starts (preparing it included,
            // which also calls the progress handler) there is no clock.
            deadline.started_ms.store(0, Ordering::Relaxed);
            deadline.statement.store(0, Ordering::Relaxed);
        }
    }
    0
}

unsafe extern "C" fn on_progress(context: *mut c_void) -> c_int {
    // SAFETY: `context` is this connection's `Deadline`.
    let deadline = unsafe { &*context.cast::<Deadline>() };
    let limit = deadline.limit_ms.load(Ordering::Relaxed);
    let started = deadline.started_ms.load(Ordering::Relaxed);
    let over = limit > 0 && started > 0 && deadline.now_ms() + 1 - started > limit;
    c_int::from(over)
}
