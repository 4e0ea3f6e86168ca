//! Exact volumes as fixed-point integers: one unit is 0.0001, so every
//! decimal of at most 4 places is exact, and the hot rollup arrays are
//! plain `i64`. rust_decimal does the parsing and formatting at the edge.

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
/// 1,000,000,000. Returns units of 0.0001.
pub fn parse_volume(field: &str, text: &str) -> EngineResult<i64> {
    let shown = super::id_index::truncate(text);
    let malformed = || EngineError::invalid(field, format!("'{shown}' is not a decimal number such as 49.90 or -12.5"));
    if text.is_empty() || text.len() > 40 || !text.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b'-') {
        return Err(malformed());
    }
    // from_str_exact: from_str silently rounds beyond 28 places (0.49999…9 became 0.5).
    let value = Decimal::from_str_exact(text).map_err(|_| malformed())?.normalize();
    if value.scale() > SCALE {
        return Err(EngineError::invalid(field, format!("'{shown}' has more than {SCALE} decimal places")));
    }
    let units = (value * Decimal::from(UNITS_PER_ONE)).normalize();
    let units = i64::try_from(units).ok().filter(|u| u.abs() <= MAX_ORDER_UNITS).ok_or_else(|| {
        EngineError::invalid(field, format!("'{shown}' is out of range: the absolute value may be at most 1000000000"))
    })?;
    Ok(units)
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
    fn formats_units() {
        assert_eq!(format_units(1_000_000), "100.00");
        assert_eq!(format_units(123_456), "12.3456");
        assert_eq!(format_units(-5_000), "-0.50");
        assert_eq!(format_units(0), "0.00");
        assert_eq!(format_units(10), "0.001");
    }
}
