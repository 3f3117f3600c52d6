//! Exact fixed-point quantities with two decimals: money in pence, dimensions in
//! hundredths of a centimetre, weights in hundredths of a kilogram.
//!
//! Nothing here is ever a binary float. Values arrive as JSON number text (serde_json
//! keeps the original digits with `arbitrary_precision`) or strings, are parsed as exact
//! decimals, and leave as JSON number text again.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Serialize, Serializer};

macro_rules! hundredths {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(i64);

        impl $name {
            /// From a count of hundredths (pence for money).
            pub const fn from_hundredths(value: i64) -> Self {
                Self(value)
            }

            /// The count of hundredths, as stored in the database.
            pub const fn hundredths(self) -> i64 {
                self.0
            }

            /// The exact decimal value.
            pub fn to_decimal(self) -> Decimal {
                Decimal::new(self.0, 2)
            }

            /// From an exact decimal with at most two decimal places.
            pub fn from_decimal(value: Decimal) -> Option<Self> {
                let value = value.normalize();
                if value.scale() > 2 {
                    return None;
                }
                value.checked_mul(Decimal::ONE_HUNDRED)?.to_i64().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hundredths(self.0, f)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serialize_hundredths(self.0, serializer)
            }
        }
    };
}

hundredths!(
    /// An amount of pounds sterling, held as integer pence.
    Money
);
hundredths!(
    /// A physical measure (cm or kg) with two decimals, held as integer hundredths.
    Measure
);

/// Writes a count of hundredths as decimal text without trailing zeros (`1250.5`,
/// `12`, `-0.05`): integer arithmetic only, as a list writes five of them per artwork.
fn write_hundredths(hundredths: i64, out: &mut impl fmt::Write) -> fmt::Result {
    out.write_str(Digits::of(hundredths).as_str())
}

/// Writes a count of hundredths as a JSON number without trailing zeros.
fn serialize_hundredths<S: Serializer>(hundredths: i64, serializer: S) -> Result<S::Ok, S::Error> {
    if hundredths % 100 == 0 {
        return serializer.serialize_i64(hundredths / 100);
    }
    let number = serde_json::Number::from_str(Digits::of(hundredths).as_str()).map_err(serde::ser::Error::custom)?;
    number.serialize(serializer)
}

/// A count of hundredths as decimal text, written right to left into a buffer on the
/// stack: no formatting machinery and no allocation (`core::fmt` was a twentieth of a
/// page of the catalogue's time, BENCHMARKS.md).
struct Digits {
    /// Room for `-92233720368547758.08`, the longest: 21 bytes.
    bytes: [u8; 24],
    start: usize,
}

impl Digits {
    fn of(hundredths: i64) -> Self {
        let mut digits = Self {
            bytes: [0; 24],
            start: 24,
        };
        let abs = hundredths.unsigned_abs();
        let (mut whole, fraction) = (abs / 100, abs % 100);
        // The fraction without its trailing zeros: `.5` for 50, `.05` for 5, none for 0.
        match (fraction / 10, fraction % 10) {
            (0, 0) => {}
            (tenths, 0) => digits.push_all(&[b'.', b'0' + tenths as u8]),
            (tenths, last) => digits.push_all(&[b'.', b'0' + tenths as u8, b'0' + last as u8]),
        }
        loop {
            digits.push_all(&[b'0' + (whole % 10) as u8]);
            whole /= 10;
            if whole == 0 {
                break;
            }
        }
        if hundredths < 0 {
            digits.push_all(b"-");
        }
        digits
    }

    /// Puts `bytes` before what is written so far.
    fn push_all(&mut self, bytes: &[u8]) {
        self.start -= bytes.len();
        self.bytes[self.start..self.start + bytes.len()].copy_from_slice(bytes);
    }

    fn as_str(&self) -> &str {
        // Only ASCII digits, '.' and '-' are ever written.
        std::str::from_utf8(&self.bytes[self.start..]).unwrap_or_default()
    }
}

/// Parses decimal text exactly: `12`, `12.5`, `-3.25`, `1e3`. Rejects anything else.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() || text.len() > 40 {
        return None;
    }
    if text.contains(['e', 'E']) {
        Decimal::from_scientific(text).ok()
    } else {
        Decimal::from_str_exact(text).ok()
    }
}

/// Rounds to two decimals, half away from zero.
pub fn round2(value: Decimal) -> Decimal {
    value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_without_trailing_zeros() {
        assert_eq!(Money::from_hundredths(125050).to_string(), "1250.5");
        assert_eq!(Money::from_hundredths(9999999).to_string(), "99999.99");
        assert_eq!(Money::from_hundredths(1200).to_string(), "12");
        assert_eq!(Money::from_hundredths(1).to_string(), "0.01");
    }

    #[test]
    fn hundredths_read_as_their_exact_decimal() {
        let mut values: Vec<i64> = (-1_000..=1_000).collect();
        values.extend([i64::MIN, i64::MIN + 1, i64::MAX, 123_456_789_012, -99_999_999_900]);
        for n in values {
            let decimal = Decimal::new(n, 2).normalize().to_string();
            assert_eq!(Money::from_hundredths(n).to_string(), decimal, "{n}");
            let json = serde_json::to_string(&Measure::from_hundredths(n)).unwrap();
            assert_eq!(json, decimal, "{n}");
        }
    }

    #[test]
    fn serializes_as_exact_json_numbers() {
        let json = serde_json::to_string(&Money::from_hundredths(125050)).unwrap();
        assert_eq!(json, "1250.5");
        let json = serde_json::to_string(&Money::from_hundredths(1)).unwrap();
        assert_eq!(json, "0.01");
    }

    #[test]
    fn parses_exact_decimals() {
        let d = parse_decimal("1250.50").unwrap();
        assert_eq!(Money::from_decimal(d), Some(Money::from_hundredths(125050)));
        assert_eq!(Money::from_decimal(parse_decimal("0.001").unwrap()), None);
        assert_eq!(
            Money::from_decimal(parse_decimal("1.2300").unwrap()),
            Some(Money::from_hundredths(123))
        );
        assert_eq!(
            Money::from_decimal(parse_decimal("1e2").unwrap()),
            Some(Money::from_hundredths(10000))
        );
        assert!(parse_decimal("abc").is_none());
        assert!(parse_decimal("").is_none());
        assert!(parse_decimal("NaN").is_none());
        // Too large for pence: refused, not a panic.
        let huge = parse_decimal("79228162514264337593543950335").unwrap();
        assert_eq!(Money::from_decimal(huge), None);
    }

    #[test]
    fn rounds_half_away_from_zero() {
        assert_eq!(round2(parse_decimal("0.125").unwrap()), parse_decimal("0.13").unwrap());
        assert_eq!(
            round2(parse_decimal("0.124999").unwrap()),
            parse_decimal("0.12").unwrap()
        );
        assert_eq!(
            round2(parse_decimal("-0.125").unwrap()),
            parse_decimal("-0.13").unwrap()
        );
    }
}
