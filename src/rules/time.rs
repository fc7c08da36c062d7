//! Time formatting shared by rule notes and the report. Absolute times only:
//! the sticky comment must not change while nothing else changed, so nothing
//! may depend on the current time.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// `2026-11-26 15:42 UTC`.
pub fn format_utc_minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// Every duration the app writes (policy limits, time left, time late,
/// time to resolve), spelled one way: the two largest units, rounded down:
/// `45s`, `12m`, `1h 30m`, `24h`, `48h`, `3d`, `3d 2h`. Hours up to two
/// days, as the procedure writes them ("within 48 hours"), days beyond.
/// Seconds only below a minute; zero is `0m`.
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs < 60 {
        return if secs == 0 {
            "0m".to_string()
        } else {
            format!("{secs}s")
        };
    }
    let minutes = secs / 60;
    let days = if minutes > 48 * 60 { minutes / 1440 } else { 0 };
    let (hours, mins) = ((minutes - days * 1440) / 60, minutes % 60);
    match (days, hours, mins) {
        (0, 0, m) => format!("{m}m"),
        (0, h, 0) => format!("{h}h"),
        (0, h, m) => format!("{h}h {m}m"),
        (d, 0, _) => format!("{d}d"),
        (d, h, _) => format!("{d}d {h}h"),
    }
}

/// [`format_duration`] of a signed span (`later - earlier`); a negative
/// span is `0m`.
pub fn format_span(span: chrono::Duration) -> String {
    format_duration(span.to_std().unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn formats_minutes_in_utc() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 26, 15, 42, 59)
            .single()
            .expect("a valid time");
        assert_eq!(format_utc_minute(at), "2026-11-26 15:42 UTC");
    }

    #[test]
    fn a_minute_is_spelled_in_minutes_not_seconds() {
        assert_eq!(format_duration(Duration::from_secs(59)), "59s");
        assert_eq!(format_duration(Duration::from_secs(60)), "1m");
    }

    #[test]
    fn formats_durations_compactly() {
        let cases = [
            (7200, "2h"),
            (86_400, "24h"),
            (172_800, "48h"),
            (5400, "1h 30m"),
            (1800, "30m"),
            (604_800, "7d"),
            (45, "45s"),
            (0, "0m"),
            (59 * 60 + 59, "59m"),
            (36 * 3600, "36h"),
            (48 * 3600 + 60, "2d"),
            (49 * 3600, "2d 1h"),
            (3 * 86_400 + 2 * 3600 + 59 * 60, "3d 2h"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_duration(Duration::from_secs(secs)), want, "{secs}s");
        }
        assert_eq!(format_span(chrono::Duration::minutes(-5)), "0m");
        assert_eq!(format_span(chrono::Duration::minutes(125)), "2h 5m");
    }
}
