//! Time formatting shared by rule notes and the report. Absolute times only:
//! the sticky comment must not change while nothing else changed, so nothing
//! may depend on the current time.

use std::time::Duration;

use chrono::{DateTime, Utc};

/// `2026-11-26 15:42 UTC`.
pub fn format_utc_minute(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2h`, `90m` → `1h 30m`, `2d`, `45s`: the policy file's own units, compact.
pub fn format_duration(duration: Duration) -> String {
    let secs = duration.as_secs();
    if secs == 0 {
        return "0m".to_string();
    }
    // Whole days read better as hours up to two days ("48h" is the procedure's wording).
    if secs.is_multiple_of(86_400) && secs > 2 * 86_400 {
        return format!("{}d", secs / 86_400);
    }
    let hours = secs / 3600;
    let minutes = (secs % 3600) / 60;
    let seconds = secs % 60;
    let mut parts = Vec::new();
    if hours > 0 {
        parts.push(format!("{hours}h"));
    }
    if minutes > 0 {
        parts.push(format!("{minutes}m"));
    }
    if seconds > 0 {
        parts.push(format!("{seconds}s"));
    }
    parts.join(" ")
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
    fn formats_durations_compactly() {
        let cases = [
            (7200, "2h"),
            (86_400, "24h"),
            (172_800, "48h"),
            (5400, "1h 30m"),
            (1800, "30m"),
            (604_800, "7d"),
            (45, "45s"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_duration(Duration::from_secs(secs)), want, "{secs}s");
        }
    }
}
