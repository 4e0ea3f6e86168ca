//! Decimal texts read by hand into exact integers: an optional `-`, digits,
//! an optional `.` and digits. rust_decimal holds at most 28 digits and
//! says only "invalid" beyond them, so a 30-digit volume or `0.000…01`
//! could not be told from `abc`; read digit by digit, a refusal says what
//! is wrong (not a number, too many places, out of range). Zeros past the
//! allowed places are not places (`1.50000` is 1.5, `-0.000` is 0), and
//! leading zeros are not digits of the value.

/// The longest decimal text read, in bytes (`0.` and 36 zeros is 38).
pub const MAX_DECIMAL_TEXT_BYTES: usize = 100;

/// The most decimal places a caller may ask for: units of 10⁻⁹ of a value
/// of 18 integer digits still fit an `i128` with room to spare.
const MAX_PLACES: usize = 9;

/// The most integer digits (leading zeros dropped) read before the value
/// is out of range of any `i64` limit.
const MAX_WHOLE_DIGITS: usize = 19;

/// Why a decimal text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecimalError {
    /// Not `[-]digits[.digits]` with at least one digit.
    Malformed,
    /// Longer than [`MAX_DECIMAL_TEXT_BYTES`].
    TooLong,
    /// A non-zero digit beyond the allowed places.
    TooManyPlaces,
    /// The absolute value is above the caller's limit.
    OutOfRange,
}

/// Reads `text` as a number of units of 10^-`places` whose absolute value
/// is at most `max_units`. Checks in this order: the syntax, the places
/// (so `99999999999.00001` is refused for its places), then the range.
pub fn parse_units(text: &str, places: usize, max_units: i64) -> Result<i64, DecimalError> {
    assert!(places <= MAX_PLACES && max_units >= 0, "a caller's scale is a constant");
    if text.len() > MAX_DECIMAL_TEXT_BYTES {
        return Err(DecimalError::TooLong);
    }
    let (negative, unsigned) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !all_digits(whole) || !all_digits(fraction) {
        return Err(DecimalError::Malformed);
    }
    let whole = whole.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    if fraction.len() > places {
        return Err(DecimalError::TooManyPlaces);
    }
    if whole.len() > MAX_WHOLE_DIGITS {
        return Err(DecimalError::OutOfRange);
    }
    let padding = std::iter::repeat_n(b'0', places - fraction.len());
    // At most 19 + 9 digits: below i128::MAX (39 digits), so no overflow.
    let units = whole.bytes().chain(fraction.bytes()).chain(padding).fold(0_i128, |n, b| n * 10 + i128::from(b - b'0'));
    let units = i64::try_from(units).ok().filter(|&u| u <= max_units).ok_or(DecimalError::OutOfRange)?;
    Ok(if negative { -units } else { units })
}

/// The message of [`DecimalError::TooLong`] (the other errors show the
/// text, which their callers describe in their own terms).
pub fn too_long_message(text: &str) -> String {
    format!("is {} bytes long; a decimal number has at most {MAX_DECIMAL_TEXT_BYTES}", text.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use DecimalError::*;

    #[test]
    fn reads_units_and_says_what_is_wrong() {
        let volume = |text: &str| parse_units(text, 4, 10_000_000_000_000);
        assert_eq!(volume("49.9"), Ok(499_000));
        assert_eq!(volume(".5"), Ok(5_000));
        assert_eq!(volume("5."), Ok(50_000));
        assert_eq!(volume("-0.000"), Ok(0));
        assert_eq!(volume(&format!("0.{}", "0".repeat(36))), Ok(0));
        assert_eq!(volume(&format!("{}7", "0".repeat(60))), Ok(70_000));
        assert_eq!(volume("1.50000"), volume("1.5"));
        assert_eq!(volume("0.00001"), Err(TooManyPlaces));
        assert_eq!(volume(&format!("0.{}1", "0".repeat(30))), Err(TooManyPlaces));
        assert_eq!(volume(&"9".repeat(30)), Err(OutOfRange));
        assert_eq!(volume("1000000000.0001"), Err(OutOfRange));
        assert_eq!(volume(&"1".repeat(101)), Err(TooLong));
        for bad in ["", "-", ".", "-.", "+5", " 5", "5 ", "1,5", "1.2.3", "--1", "1e5", "NaN", "٣", "1-"] {
            assert_eq!(volume(bad), Err(Malformed), "{bad:?}");
        }
    }
}
