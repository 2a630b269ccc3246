//! Time handling: everything is stored and compared as naive UTC.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

use crate::error::input_error;

/// Parses an RFC 3339 timestamp, a `YYYY-MM-DDTHH:MM:SS` UTC time, or a date (end of that day, UTC).
pub fn parse_as_of(text: &str) -> Result<NaiveDateTime> {
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Ok(moment.with_timezone(&Utc).naive_utc());
    }
    if let Ok(moment) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        return Ok(moment);
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(23, 59, 59).expect("valid end of day"));
    }
    Err(input_error(format!(
        "invalid time {text:?}: expected a date (2026-09-30) or a UTC time (2026-09-30T23:59:59Z)"
    )))
}

/// Parses a moment something began: a date means the start of that day (UTC); a time is taken as given.
pub fn parse_start(text: &str) -> Option<NaiveDateTime> {
    match NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        Ok(day) => day.and_hms_opt(0, 0, 0),
        Err(_) => parse_as_of(text).ok(),
    }
}

/// Parses a timestamp as written by the GitHub API and SARIF (RFC 3339), into naive UTC.
pub fn parse_api_time(text: &str) -> Option<NaiveDateTime> {
    DateTime::parse_from_rfc3339(text).ok().map(|moment| moment.with_timezone(&Utc).naive_utc())
}

/// Parses a wait such as `30s`, `10m`, `1h` or plain seconds.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| format!("{text:?} is not a duration like 30s, 10m or 1h"))?;
    let seconds = match unit {
        "" | "s" => number,
        "m" => number * 60,
        "h" => number * 3600,
        _ => return Err(format!("{text:?}: the unit must be s, m or h")),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

/// The current time as naive UTC, truncated to whole seconds.
pub fn now_utc() -> NaiveDateTime {
    let now = Utc::now().naive_utc();
    now - chrono::Duration::nanoseconds(i64::from(now.and_utc().timestamp_subsec_nanos()))
}

/// Formats a naive UTC time the way reports show it: `2026-09-30 23:59:59 UTC`.
pub fn display_utc(moment: &NaiveDateTime) -> String {
    moment.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_date_means_the_end_of_that_day() {
        let moment = parse_as_of("2026-09-30").unwrap();
        assert_eq!(display_utc(&moment), "2026-09-30 23:59:59 UTC");
    }

    #[test]
    fn a_start_date_means_the_start_of_that_day() {
        assert_eq!(display_utc(&parse_start("2026-07-01").unwrap()), "2026-07-01 00:00:00 UTC");
        assert_eq!(display_utc(&parse_start("2026-07-01T08:30:00Z").unwrap()), "2026-07-01 08:30:00 UTC");
        assert!(parse_start("soon").is_none());
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let moment = parse_as_of("2026-09-30T10:00:00+02:00").unwrap();
        assert_eq!(display_utc(&moment), "2026-09-30 08:00:00 UTC");
    }

    #[test]
    fn nonsense_is_an_input_error() {
        let error = parse_as_of("last tuesday").unwrap_err();
        assert_eq!(crate::error::exit_code_for(&error), crate::error::EXIT_INPUT);
    }
}
