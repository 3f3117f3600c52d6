//! UK postcodes, parsed once and kept normalised (`SW1A 1AA`).

use std::fmt;

/// A syntactically valid UK postcode, upper case with one space before the inward code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

impl Postcode {
    /// Parses any spacing and letter case: `sw1a1aa`, ` SW1A  1AA `.
    pub fn parse(input: &str) -> Result<Self, &'static str> {
        const INVALID: &str = "Enter a valid UK postcode.";
        let compact: String = input
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if !compact.is_ascii() || !(5..=7).contains(&compact.len()) {
            return Err(INVALID);
        }
        let (outward, inward) = compact.split_at(compact.len() - 3);
        if !(valid_outward(outward) && valid_inward(inward)) && compact != "GIR0AA" {
            return Err(INVALID);
        }
        Ok(Self(format!("{outward} {inward}")))
    }

    /// A postcode read back from the database, normalised again (one stored before
    /// normalisation reads as `SW1A 1AA`); one that never parsed (imported from the first
    /// version) is kept as given.
    pub fn stored(text: String) -> Self {
        Self::parse(&text).unwrap_or(Self(text))
    }

    /// The full normalised postcode.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The outward code (`SW1A`, `N1`): the district, without the street-level part.
    pub fn outward(&self) -> &str {
        outward_code(&self.0)
    }
}

/// The outward code of a stored, normalised postcode.
pub fn outward_code(normalised: &str) -> &str {
    normalised.split(' ').next().unwrap_or_default()
}

impl serde::Serialize for Postcode {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl fmt::Display for Postcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn valid_inward(inward: &str) -> bool {
    let b = inward.as_bytes();
    b.len() == 3 && b[0].is_ascii_digit() && b[1].is_ascii_alphabetic() && b[2].is_ascii_alphabetic()
}

/// Outward codes: A9, A99, AA9, AA99, A9A, AA9A.
fn valid_outward(outward: &str) -> bool {
    let shape: String = outward
        .bytes()
        .map(|b| {
            if b.is_ascii_digit() {
                '9'
            } else if b.is_ascii_alphabetic() {
                'A'
            } else {
                '?'
            }
        })
        .collect();
    matches!(shape.as_str(), "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_valid_postcodes() {
        for (input, expected) in [
            ("SW1A 1AA", "SW1A 1AA"),
            ("sw1a1aa", "SW1A 1AA"),
            ("  n1   9gu ", "N1 9GU"),
            ("EH1 1YZ", "EH1 1YZ"),
            ("B33 8TH", "B33 8TH"),
            ("W1A 0AX", "W1A 0AX"),
            ("CR2 6XH", "CR2 6XH"),
            ("M1 1AE", "M1 1AE"),
        ] {
            assert_eq!(Postcode::parse(input).unwrap().as_str(), expected, "{input}");
        }
    }

    #[test]
    fn rejects_invalid_postcodes() {
        for input in [
            "",
            "SW1A",
            "12345",
            "SW1A 1A",
            "ABCDE 1AA",
            "SW1A-1AA",
            "1W1 1AA",
            "SW1A 11A",
            "ÄB1 1AA",
        ] {
            assert!(Postcode::parse(input).is_err(), "{input}");
        }
    }

    #[test]
    fn outward_code_is_the_district() {
        assert_eq!(Postcode::parse("SW1A 1AA").unwrap().outward(), "SW1A");
        assert_eq!(Postcode::parse("n19gu").unwrap().outward(), "N1");
        assert_eq!(outward_code("EH1 1YZ"), "EH1");
    }
}
