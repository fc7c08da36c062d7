//! Durations as the policy file writes them: `30m`, `2h`, `24h`, `2d`.
//!
//! The procedure speaks in minutes, hours and days ("deployed within 2 hours",
//! "post-incident review within 24 hours"), so those are the only units; seconds
//! and compound forms (`1h30m`) would only invite typos in a file people edit
//! under pressure.

use std::time::Duration;

/// The JSON Schema's pattern for a duration. It admits `0m`, which
/// [`parse_duration`] rejects with its own message.
pub const DURATION_PATTERN: &str = r"^[0-9]+[mhd]$";

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// Parses `<positive integer><m|h|d>`, e.g. `30m`, `2h`, `2d`; nothing else,
/// not even surrounding spaces (the JSON Schema's pattern says the same).
///
/// The error is a complete sentence for the person editing the file.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let not_a_duration = || format!("`{s}` is not a duration: write it like 30m, 2h, 24h or 2d");
    let text = s;
    let Some(unit) = text.chars().last() else {
        return Err(not_a_duration());
    };
    let unit_seconds = match unit {
        'm' => MINUTE,
        'h' => HOUR,
        'd' => DAY,
        _ => return Err(not_a_duration()),
    };
    let digits = text.strip_suffix(unit).unwrap_or_default();
    // `u64::from_str` accepts a leading `+`; the file format does not.
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(not_a_duration());
    }
    let amount: u64 = digits.parse().map_err(|_| not_a_duration())?;
    if amount == 0 {
        return Err(format!("`{s}` is zero: a duration must be at least 1m"));
    }
    let seconds = amount
        .checked_mul(unit_seconds)
        .ok_or_else(|| format!("`{s}` is too long a duration"))?;
    Ok(Duration::from_secs(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit() {
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(30 * 60)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(2 * 3600)));
        assert_eq!(parse_duration("24h"), Ok(Duration::from_secs(24 * 3600)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(2 * 86400)));
    }

    #[test]
    fn rejects_everything_else_with_a_hint() {
        for bad in [
            "", "h", "2", "2 hours", "2hours", "2H", "1.5h", "-2h", "+2h", "2s", "1h30m", "2w",
            "h2", "２h", "2 h", " 1h", "1h ",
        ] {
            let err = parse_duration(bad).expect_err(bad);
            assert!(err.contains(&format!("`{bad}`")), "{bad}: {err}");
            assert!(err.contains("30m, 2h, 24h or 2d"), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_zero_and_overflow() {
        assert!(parse_duration("0h").expect_err("zero").contains("zero"));
        assert!(parse_duration("0m").is_err());
        let huge = format!("{}d", u64::MAX / 2);
        assert!(
            parse_duration(&huge)
                .expect_err("overflow")
                .contains("too long")
        );
        let huger = format!("{}0d", u64::MAX);
        assert!(parse_duration(&huger).is_err());
    }

    #[test]
    fn schema_pattern_agrees_with_the_parser() {
        let pattern = regex::Regex::new(DURATION_PATTERN).expect("pattern compiles");
        for sample in [
            "30m", "2h", "2d", "007h", "1", "2 hours", "1.5h", "-2h", "+2h", "2s", " 1h", "1h ",
            "1h30m", "２h", "",
        ] {
            assert_eq!(
                pattern.is_match(sample),
                parse_duration(sample).is_ok(),
                "{sample:?}"
            );
        }
    }
}
