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

/// A stored timestamp with its text in the stored form, which is what the API writes:
/// the stored text itself when it has that form (every write leaves it so), else the
/// text written again.
pub struct Stored<'a> {
    pub at: DateTime<Utc>,
    text: std::borrow::Cow<'a, str>,
}

impl<'a> Stored<'a> {
    pub fn read(text: &'a str) -> Result<Self, chrono::ParseError> {
        const FORM: &[u8; 27] = b"0000-00-00T00:00:00.000000Z";
        let at = from_db(text)?;
        let same = text.len() == FORM.len()
            && text
                .bytes()
                .zip(FORM)
                .all(|(b, f)| if *f == b'0' { b.is_ascii_digit() } else { b == *f });
        let text = match same {
            true => std::borrow::Cow::Borrowed(text),
            false => std::borrow::Cow::Owned(to_db(at)),
        };
        Ok(Self { at, text })
    }
}

impl serde::Serialize for Stored<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

/// Reads the stored form back.
pub fn from_db(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_text_is_passed_through_only_in_the_stored_form() {
        let stored = to_db(Utc::now());
        let read = Stored::read(&stored).unwrap();
        assert!(matches!(read.text, std::borrow::Cow::Borrowed(s) if s == stored));
        for other in [
            "2026-11-26T10:35:28+00:00",
            "2026-11-26T11:35:28.5+01:00",
            "2026-11-26T10:35:28.123Z",
        ] {
            let read = Stored::read(other).unwrap();
            assert!(matches!(read.text, std::borrow::Cow::Owned(_)), "{other}");
            assert_eq!(read.text, to_db(from_db(other).unwrap()), "{other}");
            assert_eq!(read.at, from_db(other).unwrap());
        }
        assert!(Stored::read("yesterday").is_err());
        assert!(
            Stored::read("2026-13-26T10:35:28.123456Z").is_err(),
            "the stored form, but no date"
        );
    }

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
