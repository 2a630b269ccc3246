//! CSV exports read as JSON records (header names as keys, empty cells left out), with their line numbers and raw
//! bytes, so CSV logs go through the same field access as JSON ones.

use anyhow::Result;
use serde_json::{Map, Value};

use crate::error::input_error;

/// One record: its line number, its fields as a JSON object, and its raw bytes.
pub type Record = (usize, Value, Vec<u8>);

/// The header and the records of a CSV file; errors name the file and line.
pub fn read(bytes: &[u8], origin: &str) -> Result<(Vec<String>, Vec<Record>)> {
    let mut reader = csv::Reader::from_reader(super::json::without_bom(bytes));
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| input_error(format!("{origin}: line 1: cannot read the CSV header: {error}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let mut records = Vec::new();
    for row in reader.records() {
        let row = row.map_err(|error| {
            let line = error.position().map(|p| p.line()).unwrap_or(0);
            input_error(format!("{origin}: line {line}: invalid CSV record: {error}"))
        })?;
        let line = row.position().map(|p| p.line() as usize).unwrap_or(0);
        let object: Map<String, Value> = headers
            .iter()
            .zip(row.iter())
            .filter(|(_, value)| !value.is_empty())
            .map(|(header, value)| (header.clone(), Value::String(value.to_string())))
            .collect();
        records.push((line, Value::Object(object), row.as_slice().as_bytes().to_vec()));
    }
    Ok((headers, records))
}
