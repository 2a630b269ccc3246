//! Reads fields of GitHub JSON answers as DuckDB cells for the fact Appenders.

use duckdb::types::{TimeUnit, Value as Cell};
use serde_json::Value;

/// The text at a JSON pointer (strings as they are, numbers and booleans written out), else NULL.
pub fn text(value: &Value, pointer: &str) -> Cell {
    match value.pointer(pointer) {
        Some(Value::String(text)) => Cell::Text(text.clone()),
        Some(Value::Number(number)) => Cell::Text(number.to_string()),
        Some(Value::Bool(flag)) => Cell::Text(flag.to_string()),
        _ => Cell::Null,
    }
}

/// The boolean at a JSON pointer, else NULL.
pub fn flag(value: &Value, pointer: &str) -> Cell {
    value.pointer(pointer).and_then(Value::as_bool).map(Cell::Boolean).unwrap_or(Cell::Null)
}

/// A repository object's visibility: `visibility`, else `private` as `private`/`public` (servers and minimal
/// repository objects that carry only that); `None` when it says neither.
pub fn visibility_of(repo: &Value) -> Option<String> {
    repo.get("visibility").and_then(Value::as_str).map(str::to_string).or_else(|| {
        repo.get("private")
            .and_then(Value::as_bool)
            .map(|private| if private { "private" } else { "public" }.to_string())
    })
}

/// The integer at a JSON pointer, else NULL.
pub fn int(value: &Value, pointer: &str) -> Cell {
    value.pointer(pointer).and_then(Value::as_i64).map(Cell::BigInt).unwrap_or(Cell::Null)
}

/// The ISO 8601 time at a JSON pointer as a UTC timestamp, else NULL.
pub fn time(value: &Value, pointer: &str) -> Cell {
    value
        .pointer(pointer)
        .and_then(Value::as_str)
        .and_then(crate::time::parse_api_time)
        .map(timestamp)
        .unwrap_or(Cell::Null)
}

/// A UTC moment as a cell.
pub fn timestamp(moment: chrono::NaiveDateTime) -> Cell {
    Cell::Timestamp(TimeUnit::Microsecond, moment.and_utc().timestamp_micros())
}

/// Optional text as a cell.
pub fn maybe_text(text: Option<&str>) -> Cell {
    text.map(|t| Cell::Text(t.to_string())).unwrap_or(Cell::Null)
}

/// A list of texts for a `VARCHAR[]` column.
pub fn texts<I: IntoIterator<Item = String>>(items: I) -> Cell {
    crate::store::list_text::text_list(items)
}

/// The strings of the array at a JSON pointer (other items skipped), as a `VARCHAR[]` cell; NULL when absent.
pub fn text_list(value: &Value, pointer: &str) -> Cell {
    match value.pointer(pointer).and_then(Value::as_array) {
        Some(items) => texts(items.iter().filter_map(|item| item.as_str().map(str::to_string))),
        None => Cell::Null,
    }
}
