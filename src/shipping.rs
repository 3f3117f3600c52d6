//! The UK shipping quote (SPEC Part A): a pure function over exact decimals.

use rust_decimal::Decimal;
use serde::Serialize;

use crate::money::{round2, Measure, Money};

const ZONE_1: &[&str] = &["EC", "WC", "N", "E", "SE", "SW", "W", "NW"];
const ZONE_2: &[&str] = &[
    "BR", "CR", "DA", "KT", "ME", "RH", "SM", "TN", "TW", "AL", "CB", "CM", "CO", "EN", "HP", "IG", "LU", "RM", "SG",
    "SS", "B", "CV", "DY", "HR", "ST", "TF", "WR", "WS", "WV", "DE", "DN", "LE", "LN", "NG", "NN", "PE",
];
const ZONE_3: &[&str] = &[
    "BA", "BH", "BS", "DT", "EX", "GL", "PL", "PO", "SN", "SP", "TA", "TQ", "TR", "BD", "HD", "HG", "HU", "HX", "LS",
    "S", "WF", "YO", "BB", "BL", "CA", "CH", "CW", "FY", "L", "LA", "M", "OL", "PR", "SK", "WA", "WN", "DH", "DL",
    "NE", "SR", "TS", "CF", "LD", "LL", "NP", "SA", "SY",
];
const ZONE_4: &[&str] = &[
    "AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "TD", "ZE", "BT", "GY", "IM",
    "JE",
];

fn listed_zone(area: &str) -> Option<u8> {
    [(1, ZONE_1), (2, ZONE_2), (3, ZONE_3), (4, ZONE_4)]
        .into_iter()
        .find(|(_, areas)| areas.contains(&area))
        .map(|(zone, _)| zone)
}

/// The zone of a postcode: its first two characters if listed, else its first
/// character if listed, else zone 4.
pub fn zone(postcode: &str) -> u8 {
    let upper = postcode.trim().to_ascii_uppercase();
    let two: String = upper.chars().take(2).collect();
    let one: String = upper.chars().take(1).collect();
    listed_zone(&two).or_else(|| listed_zone(&one)).unwrap_or(4)
}

/// What the artwork is and where it travels.
#[derive(Debug, Clone, Copy)]
pub struct Parcel {
    pub price: Money,
    pub width: Measure,
    pub depth: Measure,
    pub height: Measure,
    pub weight: Measure,
}

/// A shipping quote; every amount rounded to pence from the unrounded values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Quote {
    #[schema(value_type = f64)]
    pub artwork_price: Money,
    #[schema(value_type = f64)]
    pub base_shipping_cost: Money,
    #[schema(value_type = f64)]
    pub insurance_cost: Money,
    #[schema(value_type = f64)]
    pub total_shipping_cost: Money,
    #[schema(value_type = f64)]
    pub total_price: Money,
    pub from_zone: u8,
    pub to_zone: u8,
}

/// Quotes shipping `parcel` from the seller's postcode to the buyer's.
pub fn quote(parcel: Parcel, from_postcode: &str, to_postcode: &str) -> Quote {
    let from_zone = zone(from_postcode);
    let to_zone = zone(to_postcode);
    let distance = Decimal::from(from_zone.abs_diff(to_zone));
    let volume = parcel.width.to_decimal() * parcel.depth.to_decimal() * parcel.height.to_decimal();
    let base = (Decimal::from(5) + Decimal::from(2) * parcel.weight.to_decimal() + Decimal::new(1, 3) * volume)
        * (Decimal::ONE + Decimal::new(2, 1) * distance);
    let insurance = Decimal::new(1, 2) * parcel.price.to_decimal();
    let total_shipping = base + insurance;
    let total = parcel.price.to_decimal() + total_shipping;
    let pence = |value: Decimal| Money::from_decimal(round2(value)).unwrap_or_default();
    Quote {
        artwork_price: parcel.price,
        base_shipping_cost: pence(base),
        insurance_cost: pence(insurance),
        total_shipping_cost: pence(total_shipping),
        total_price: pence(total),
        from_zone,
        to_zone,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pence: i64) -> Money {
        Money::from_hundredths(pence)
    }
    fn cm(hundredths: i64) -> Measure {
        Measure::from_hundredths(hundredths)
    }

    #[test]
    fn zones_follow_the_listed_areas_and_fall_backs() {
        assert_eq!(zone("SW1A 1AA"), 1);
        assert_eq!(zone("N1 9GU"), 1); // "N1" is not listed, "N" is
        assert_eq!(zone("B33 8TH"), 2); // "B3" is not listed, "B" is
        assert_eq!(zone("CR2 6XH"), 2);
        assert_eq!(zone("M1 1AE"), 3);
        assert_eq!(zone("S1 2HE"), 3);
        assert_eq!(zone("EH1 1YZ"), 4);
        assert_eq!(zone("G1 1AA"), 4);
        assert_eq!(zone("XX1 1AA"), 4); // unlisted: zone 4
        assert_eq!(zone("sw1a 1aa"), 1);
        assert_eq!(zone(""), 4);
    }

    #[test]
    fn quote_matches_the_formula() {
        // 50 × 40 × 3 cm, 2.5 kg, £1,250.50, London (1) to Edinburgh (4).
        let parcel = Parcel {
            price: m(125050),
            width: cm(5000),
            depth: cm(4000),
            height: cm(300),
            weight: cm(250),
        };
        let q = quote(parcel, "SW1A 1AA", "EH1 1YZ");
        // base = (5 + 5 + 6) × 1.6 = 25.6; insurance = 12.505 → 12.51 (half away from zero)
        assert_eq!(q.base_shipping_cost, m(2560));
        assert_eq!(q.insurance_cost, m(1251));
        // total shipping from unrounded values: 25.6 + 12.505 = 38.105 → 38.11
        assert_eq!(q.total_shipping_cost, m(3811));
        // total: 1250.50 + 38.105 = 1288.605 → 1288.61
        assert_eq!(q.total_price, m(128861));
        assert_eq!((q.from_zone, q.to_zone), (1, 4));
    }

    #[test]
    fn same_zone_has_no_distance_surcharge() {
        let parcel = Parcel {
            price: m(10000),
            width: cm(1000),
            depth: cm(1000),
            height: cm(1000),
            weight: cm(100),
        };
        let q = quote(parcel, "N1 9GU", "E1 6AN");
        // (5 + 2 + 1) × 1 = 8; insurance 1
        assert_eq!(q.base_shipping_cost, m(800));
        assert_eq!(q.insurance_cost, m(100));
        assert_eq!(q.total_price, m(10900));
    }

    #[test]
    fn rounding_uses_unrounded_parts() {
        // insurance 0.01 × 0.05 = 0.0005 → 0.00; base with 0.001 × 0.01³ volume.
        let parcel = Parcel {
            price: m(5),
            width: cm(1),
            depth: cm(1),
            height: cm(1),
            weight: cm(1),
        };
        let q = quote(parcel, "SW1A 1AA", "SW1A 1AA");
        assert_eq!(q.base_shipping_cost, m(502)); // 5.020000001
        assert_eq!(q.insurance_cost, m(0));
        assert_eq!(q.total_shipping_cost, m(502)); // 5.020500001
        assert_eq!(q.total_price, m(507)); // 5.070500001
    }
}
