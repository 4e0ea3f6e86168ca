//! Periods: calendar months (`YYYY-MM`), stored as months since year 0.

use super::error::{EngineError, EngineResult};
use std::fmt;

/// A commission period: one calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Period(u32);

impl Period {
    /// Parses exactly `YYYY-MM` (years 1900 to 2999).
    pub fn parse(field: &str, text: &str) -> EngineResult<Period> {
        let b = text.as_bytes();
        let bad = || {
            EngineError::invalid(
                field,
                format!("'{}' is not a period of the form YYYY-MM", super::id_index::truncate(text)),
            )
        };
        if b.len() != 7 || b[4] != b'-' || !b[..4].iter().chain(&b[5..]).all(u8::is_ascii_digit) {
            return Err(bad());
        }
        let year: u32 = text[..4].parse().map_err(|_| bad())?;
        let month: u32 = text[5..].parse().map_err(|_| bad())?;
        if !(1900..=2999).contains(&year) || !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Period(year * 12 + month - 1))
    }

    /// The stored code (months since year 0).
    pub fn code(self) -> u32 {
        self.0
    }

    /// The period of a stored code.
    pub fn from_code(code: u32) -> Period {
        Period(code)
    }

    /// Whether a day falls in this period.
    pub fn contains(self, day: super::date::Date) -> bool {
        let (y, m, _) = day.ymd();
        y >= 0 && (y as u32) * 12 + m - 1 == self.0
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.0 / 12, self.0 % 12 + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats() {
        let p = Period::parse("period", "2026-11").unwrap();
        assert_eq!(p.to_string(), "2026-11");
        assert!(p.contains(super::super::date::Date::parse("2026-11-30").unwrap()));
        assert!(!p.contains(super::super::date::Date::parse("2026-12-01").unwrap()));
        for bad in ["2026-13", "2026-00", "26-11", "2026-1", "2026/11", "", "1899-12"] {
            assert!(Period::parse("period", bad).is_err(), "{bad}");
        }
    }
}
