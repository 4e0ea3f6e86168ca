//! Exact volumes as fixed-point integers: one unit is 0.0001, so every
//! decimal of at most 4 places is exact, and the hot rollup arrays are
//! plain `i64`. Texts are read by [`super::decimal_text`].

use super::decimal_text::{parse_units, too_long_message, DecimalError};
use super::error::{EngineError, EngineResult};
use rust_decimal::Decimal;

/// Units per 1.0 of volume.
pub const UNITS_PER_ONE: i64 = 10_000;
/// Decimal places of a volume.
pub const SCALE: u32 = 4;
/// The largest absolute volume of one order, in units (1,000,000,000.0000).
pub const MAX_ORDER_UNITS: i64 = 1_000_000_000 * UNITS_PER_ONE;

/// Parses a volume: a plain decimal (`-12.5`, `100.0000`) of at most 4
/// places once trailing zeros are dropped, with absolute value at most
/// 1,000,000,000. Returns units of 0.0001. The message says what is wrong.
pub fn parse_volume(field: &str, text: &str) -> EngineResult<i64> {
    parse_units(text, SCALE as usize, MAX_ORDER_UNITS).map_err(|e| EngineError::invalid(field, volume_error(text, e)))
}

/// What is wrong with a volume's text.
fn volume_error(text: &str, error: DecimalError) -> String {
    let shown = super::id_index::truncate(text);
    match error {
        DecimalError::Malformed => format!("'{shown}' is not a decimal number such as 49.90 or -12.5"),
        DecimalError::TooLong => too_long_message(text),
        DecimalError::TooManyPlaces => format!("'{shown}' has more than {SCALE} decimal places"),
        DecimalError::OutOfRange => {
            format!("'{shown}' is out of range: the absolute value may be at most 1000000000")
        }
    }
}

/// The exact decimal of a number of units.
pub fn to_decimal(units: i64) -> Decimal {
    Decimal::new(units, SCALE)
}

/// Formats units as a decimal with at least 2 and at most 4 places
/// (`100.00`, `12.3456`, `-0.50`).
pub fn format_units(units: i128) -> String {
    let negative = units < 0;
    let abs = units.unsigned_abs();
    let whole = abs / UNITS_PER_ONE as u128;
    let mut frac = format!("{:04}", abs % UNITS_PER_ONE as u128);
    while frac.len() > 2 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{}{whole}.{frac}", if negative { "-" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_exact_volumes() {
        assert_eq!(parse_volume("volume", "49.9").unwrap(), 499_000);
        assert_eq!(parse_volume("volume", "-200.00").unwrap(), -2_000_000);
        assert_eq!(parse_volume("volume", "0.0001").unwrap(), 1);
        assert_eq!(parse_volume("volume", "1.50000").unwrap(), 15_000);
        assert_eq!(parse_volume("volume", "1000000000").unwrap(), MAX_ORDER_UNITS);
        assert_eq!(parse_volume("volume", "-1000000000.0000").unwrap(), -MAX_ORDER_UNITS);
    }

    #[test]
    fn refuses_malformed_volumes() {
        for bad in ["", "abc", "1e5", "0.00001", "1000000000.0001", "+5", " 5", "1,5", "NaN", "--1", "1.2.3"] {
            let err = parse_volume("volume", bad).unwrap_err();
            assert!(matches!(err, EngineError::InvalidArgument { .. }), "{bad}");
            assert!(err.to_string().starts_with("volume: "), "{err}");
        }
    }

    #[test]
    fn says_what_is_wrong_with_a_volume() {
        let message = |text: &str| parse_volume("volume", text).unwrap_err().to_string();
        assert!(message(&"9".repeat(30)).ends_with("is out of range: the absolute value may be at most 1000000000"));
        assert!(message(&format!("0.{}1", "0".repeat(30))).ends_with("has more than 4 decimal places"));
        assert!(message("12x").ends_with("is not a decimal number such as 49.90 or -12.5"));
        assert!(message(&"1".repeat(101)).ends_with("a decimal number has at most 100"));
        assert_eq!(parse_volume("volume", &format!("0.{}", "0".repeat(36))).unwrap(), 0);
        assert_eq!(parse_volume("volume", "-0.000").unwrap(), 0);
    }

    proptest::proptest! {
        /// Any volume in range, written with 2 to 4 places, extra trailing
        /// zeros and leading zeros, reads back as its units.
        #[test]
        fn valid_texts_round_trip(units in -MAX_ORDER_UNITS..=MAX_ORDER_UNITS, zeros in 0..20_usize, lead in 0..20_usize) {
            let text = format_units(i128::from(units));
            let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |rest| ("-", rest));
            let padded = format!("{sign}{}{digits}{}", "0".repeat(lead), "0".repeat(zeros));
            proptest::prop_assert_eq!(parse_volume("volume", &padded).unwrap(), units);
        }

        /// Any text with a non-zero fifth place is refused for its places,
        /// whatever its size.
        #[test]
        fn a_fifth_place_is_refused(whole in "-?[0-9]{1,40}", four in "[0-9]{4}", fifth in 1..10_u8, rest in "[0-9]{0,30}") {
            let text = format!("{whole}.{four}{fifth}{rest}");
            let message = parse_volume("volume", &text).unwrap_err().to_string();
            proptest::prop_assert!(message.ends_with("has more than 4 decimal places"), "{}", message);
        }
    }

    #[test]
    fn formats_units() {
        assert_eq!(format_units(1_000_000), "100.00");
        assert_eq!(format_units(123_456), "12.3456");
        assert_eq!(format_units(-5_000), "-0.50");
        assert_eq!(format_units(0), "0.00");
        assert_eq!(format_units(10), "0.001");
    }
}
