//! Grafana-style durations (`30s`, `5m`, `6h`, `1d`, `2w`) as seconds.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DurationError {
    Empty,
    Malformed(String),
    NotPositive(String),
    TooLarge(String),
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => f.write_str("is empty; use e.g. 30m, 6h, 1d or 2w"),
            DurationError::Malformed(s) => write!(
                f,
                "{s:?} is not a duration; use a whole number followed by s, m, h, d, w or y (e.g. 30m, 1d)"
            ),
            DurationError::NotPositive(s) => write!(f, "{s:?} must be longer than zero"),
            DurationError::TooLarge(s) => write!(f, "{s:?} is too large (at most 100 years)"),
        }
    }
}

impl std::error::Error for DurationError {}

/// The longest duration, 100 years.
pub const MAX_SECONDS: i64 = 100 * 365 * 86_400;

/// Each unit a duration may end in and its seconds. Also told to the
/// editors (`tests/contract.rs`), so both read one grammar.
pub const UNITS: [(&str, i64); 6] = [
    ("s", 1),
    ("m", 60),
    ("h", 3_600),
    ("d", 86_400),
    ("w", 7 * 86_400),
    ("y", 365 * 86_400),
];

/// Parses a duration such as `5m` into seconds.
pub fn parse_duration(input: &str) -> Result<i64, DurationError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(DurationError::Empty);
    }
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| DurationError::Malformed(input.to_string()))?;
    let (digits, unit) = s.split_at(split);
    let unit_seconds = UNITS
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|(_, secs)| *secs)
        .ok_or_else(|| DurationError::Malformed(input.to_string()))?;
    if digits.is_empty() {
        return Err(DurationError::Malformed(input.to_string()));
    }
    let too_large = || DurationError::TooLarge(input.to_string());
    let count: i64 = digits.parse().map_err(|_| too_large())?;
    let seconds = count.checked_mul(unit_seconds).ok_or_else(too_large)?;
    if seconds == 0 {
        return Err(DurationError::NotPositive(input.to_string()));
    }
    if seconds > MAX_SECONDS {
        return Err(too_large());
    }
    Ok(seconds)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn grafana_units() {
        assert_eq!(parse_duration("30s"), Ok(30));
        assert_eq!(parse_duration("5m"), Ok(300));
        assert_eq!(parse_duration("6h"), Ok(21_600));
        assert_eq!(parse_duration(" 1d "), Ok(86_400));
        assert_eq!(parse_duration("2w"), Ok(1_209_600));
        assert_eq!(parse_duration("1y"), Ok(31_536_000));
    }

    #[test]
    fn bad_durations_say_what_is_wrong() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        assert!(matches!(
            parse_duration("5x"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("d"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("-5m"),
            Err(DurationError::Malformed(_))
        ));
        assert!(matches!(
            parse_duration("0m"),
            Err(DurationError::NotPositive(_))
        ));
        assert!(matches!(
            parse_duration("99999999999999999999d"),
            Err(DurationError::TooLarge(_))
        ));
        assert!(matches!(
            parse_duration("101y"),
            Err(DurationError::TooLarge(_))
        ));
    }

    proptest! {
        #[test]
        fn never_panics_and_accepts_only_positive_bounded(s in "\\PC{0,12}") {
            if let Ok(secs) = parse_duration(&s) {
                prop_assert!(secs > 0 && secs <= MAX_SECONDS);
            }
        }
    }
}
