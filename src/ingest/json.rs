//! Reading evidence JSON as found in the wild: BOMs, empty files, JSON Lines, and tolerant field access.

use anyhow::Result;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use crate::error::input_error;

/// The bytes without a UTF-8 byte-order mark.
pub fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Whether the bytes hold nothing but whitespace.
pub fn is_blank(bytes: &[u8]) -> bool {
    without_bom(bytes).iter().all(u8::is_ascii_whitespace)
}

/// Parses one JSON document; errors name the file, line and column, and what was `expected`.
pub fn parse_document(bytes: &[u8], origin: &str, expected: &str) -> Result<Value> {
    if is_blank(bytes) {
        return Err(input_error(format!("{origin}: the file is empty: expected {expected}")));
    }
    let document: Value = serde_json::from_slice(without_bom(bytes)).map_err(|error| {
        input_error(format!(
            "{origin}: line {}, column {}: invalid JSON: {error}: expected {expected}",
            error.line(),
            error.column()
        ))
    })?;
    if document.is_null() {
        return Err(input_error(format!("{origin}: the document is `null`: expected {expected}")));
    }
    Ok(document)
}

/// Parses JSON Lines: one value per non-blank line, with its 1-based line number.
pub fn parse_lines(bytes: &[u8], origin: &str, expected: &str) -> Result<Vec<(usize, Value)>> {
    if is_blank(bytes) {
        return Err(input_error(format!("{origin}: the file is empty: expected {expected}")));
    }
    let mut records = Vec::new();
    for (index, line) in without_bom(bytes).split(|byte| *byte == b'\n').enumerate() {
        if is_blank(line) {
            continue;
        }
        let value: Value = serde_json::from_slice(line).map_err(|error| {
            input_error(format!(
                "{origin}: line {}, column {}: invalid JSON: {error}: expected {expected}",
                index + 1,
                error.column()
            ))
        })?;
        records.push((index + 1, value));
    }
    Ok(records)
}

/// Whether the bytes look like JSON Lines: several lines, the first a complete object.
pub fn looks_like_lines(bytes: &[u8]) -> bool {
    let bytes = without_bom(bytes);
    let mut lines = bytes.split(|byte| *byte == b'\n').filter(|line| !is_blank(line));
    match (lines.next(), lines.next()) {
        (Some(first), Some(_)) => serde_json::from_slice::<Value>(first).is_ok_and(|value| value.is_object()),
        (Some(first), None) => {
            serde_json::from_slice::<Value>(first).is_ok_and(|value| value.is_object()) && bytes.ends_with(b"\n")
        }
        _ => false,
    }
}

/// The string at a JSON pointer, when it is a non-empty string (numbers are written as text).
pub fn text(value: &Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        Value::String(text) if !text.trim().is_empty() => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

/// The first of several pointers that holds text.
pub fn first_text(value: &Value, pointers: &[&str]) -> Option<String> {
    pointers.iter().find_map(|pointer| text(value, pointer))
}

/// The array at a pointer, or an empty slice.
pub fn array<'a>(value: &'a Value, pointer: &str) -> &'a [Value] {
    value.pointer(pointer).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
}

/// The number at a pointer, also when written as a string.
pub fn number(value: &Value, pointer: &str) -> Option<f64> {
    match value.pointer(pointer)? {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

/// The time at a pointer (see [`time_of`]).
pub fn time(value: &Value, pointer: &str) -> Option<NaiveDateTime> {
    value.pointer(pointer).and_then(time_of)
}

/// A time written as RFC 3339, RFC 2822 (`Tue, 15 Nov 2022 09:44:13 GMT`, or without a zone as OWASP ZAP writes it,
/// read as UTC), `YYYY-MM-DD HH:MM:SS[.f] [UTC|+0000]`, a date, or epoch seconds or milliseconds.
pub fn time_of(value: &Value) -> Option<NaiveDateTime> {
    match value {
        Value::Number(number) => epoch(number.as_f64()?),
        Value::String(text) => parse_time_text(text.trim()),
        _ => None,
    }
}

fn epoch(number: f64) -> Option<NaiveDateTime> {
    let millis = if number.abs() >= 1e11 { number } else { number * 1000.0 };
    DateTime::from_timestamp_millis(millis as i64).map(|moment| moment.naive_utc())
}

fn parse_time_text(text: &str) -> Option<NaiveDateTime> {
    if let Ok(moment) = DateTime::parse_from_rfc3339(text) {
        return Some(moment.with_timezone(&Utc).naive_utc());
    }
    let without_zone_name = text.trim_end_matches(" UTC");
    for format in ["%Y-%m-%d %H:%M:%S%.f %z", "%Y-%m-%dT%H:%M:%S%.f%z"] {
        if let Ok(moment) = DateTime::parse_from_str(without_zone_name, format) {
            return Some(moment.with_timezone(&Utc).naive_utc());
        }
    }
    let trimmed = without_zone_name.trim_end_matches('Z');
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
        if let Ok(moment) = NaiveDateTime::parse_from_str(trimmed, format) {
            return Some(moment);
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return day.and_hms_opt(0, 0, 0);
    }
    if let Ok(moment) = DateTime::parse_from_rfc2822(text) {
        return Some(moment.with_timezone(&Utc).naive_utc());
    }
    for format in ["%a, %d %b %Y %H:%M:%S", "%a, %e %b %Y %H:%M:%S"] {
        if let Ok(moment) = NaiveDateTime::parse_from_str(text, format) {
            return Some(moment);
        }
    }
    text.parse::<f64>().ok().and_then(epoch)
}

/// A severity word in our vocabulary: critical, high, medium, low, negligible or unknown.
pub fn severity_word(text: Option<&str>) -> String {
    let lower = text.unwrap_or("").trim().to_ascii_lowercase();
    match lower.as_str() {
        "critical" | "blocker" => "critical",
        "high" | "error" | "major" | "important" => "high",
        "medium" | "moderate" | "warning" => "medium",
        "low" | "minor" | "note" => "low",
        "negligible" | "info" | "informational" | "none" => "negligible",
        _ => "unknown",
    }
    .to_string()
}

/// The SARIF-style level for a severity word: error, warning, note or none.
pub fn level_for(severity: &str) -> String {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        "low" => "note",
        "negligible" => "none",
        _ => "warning",
    }
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn times_in_the_wild_parse() {
        let expected = NaiveDate::from_ymd_opt(2019, 10, 9).unwrap().and_hms_opt(14, 8, 24).unwrap();
        for written in [
            json!("2019-10-09T14:08:24Z"),
            json!("2019-10-09T16:08:24+02:00"),
            json!("2019-10-09 14:08:24 +0000 UTC"),
            json!("2019-10-09 14:08:24 UTC"),
            json!(1570630104),
            json!(1570630104000i64),
            json!("2019-10-09T14:08:24.000000Z"),
        ] {
            assert_eq!(time_of(&written), Some(expected), "{written}");
        }
    }

    #[test]
    fn json_lines_errors_name_the_line() {
        let error = parse_lines(b"{\"a\":1}\n\n{\"a\":\n", "log.jsonl", "an audit log").unwrap_err().to_string();
        assert!(error.starts_with("log.jsonl: line 3, column"), "{error}");
        assert_eq!(parse_lines(b"{\"a\":1}\n\n{\"a\":2}\n", "x", "y").unwrap().len(), 2);
    }

    #[test]
    fn empty_and_null_documents_are_refused() {
        assert!(parse_document(b"  \n", "e.json", "a report").unwrap_err().to_string().contains("empty"));
        assert!(parse_document(b"null", "n.json", "a report").unwrap_err().to_string().contains("`null`"));
    }
}
