//! The server's notion of now, injectable so that tests can move time forward.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use chrono::{DateTime, Duration, SecondsFormat, Utc};

/// The system clock plus an offset that only tests change.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_seconds: Arc<AtomicI64>,
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::seconds(self.offset_seconds.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every clone of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_seconds.fetch_add(by.num_seconds(), Ordering::Relaxed);
    }
}

/// The one stored form of a timestamp: RFC 3339 in UTC with microseconds, fixed width,
/// so that text order is time order on both engines.
pub fn to_db(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Serialises a timestamp in its stored form, microseconds always written: as the
/// database's own JSON writes it, so one resource reads the same from either writer.
pub fn serialize_stored<S: serde::Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&to_db(*at))
}

/// Reads the stored form back.
pub fn from_db(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips_and_sorts() {
        let a = Utc::now();
        let b = a + Duration::microseconds(1);
        assert_eq!(from_db(&to_db(a)).unwrap(), a.with_nanosecond_truncated());
        assert!(to_db(a) < to_db(b));
        assert_eq!(to_db(a).len(), "2026-11-26T10:35:28.123456Z".len());
    }

    trait Truncate {
        fn with_nanosecond_truncated(self) -> Self;
    }
    impl Truncate for DateTime<Utc> {
        fn with_nanosecond_truncated(self) -> Self {
            use chrono::Timelike;
            let micros = self.nanosecond() / 1000 * 1000;
            self.with_nanosecond(micros).unwrap_or(self)
        }
    }

    #[test]
    fn advance_moves_every_clone() {
        let clock = Clock::default();
        let other = clock.clone();
        let before = other.now();
        clock.advance(Duration::days(15));
        assert!(other.now() - before >= Duration::days(15));
    }
}
