//! Writes an evaluation's verdicts into `control_results` as Arrow batches: at enterprise size (700,000 verdicts)
//! a value-by-value append took 1.3 s, batches of columns 0.9 s (DuckDB's own insert of the same rows, 0.4 s).

use std::sync::Arc;

use anyhow::Result;
use duckdb::arrow::array::{ArrayRef, Int64Array, StringArray};
use duckdb::arrow::record_batch::RecordBatch;
use duckdb::Connection;

use super::{ControlOutcome, ResourceResult, Status};

/// A verdict and the outcome of the control it belongs to.
type Row<'a> = (&'a ControlOutcome, &'a ResourceResult);

/// Verdicts per batch: bounds the copy held beside the outcomes.
const BATCH_ROWS: usize = 65_536;

/// Appends every verdict of `outcomes` under `evaluation_id`, in outcome and result order.
pub fn append(conn: &Connection, evaluation_id: i64, outcomes: &[ControlOutcome]) -> Result<()> {
    let rows = outcomes.iter().flat_map(|outcome| outcome.results.iter().map(move |result| (outcome, result)));
    let mut appender = conn.appender("control_results")?;
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    for row in rows {
        batch.push(row);
        if batch.len() == BATCH_ROWS {
            appender.append_record_batch(record_batch(evaluation_id, &batch)?)?;
            batch.clear();
        }
    }
    if !batch.is_empty() {
        appender.append_record_batch(record_batch(evaluation_id, &batch)?)?;
    }
    appender.flush()?;
    Ok(())
}

/// One batch, its columns in the table's order.
fn record_batch(evaluation_id: i64, rows: &[Row]) -> Result<RecordBatch> {
    let waivers = rows
        .iter()
        .map(|(_, result)| result.waiver.as_ref().map(serde_json::to_string).transpose())
        .collect::<Result<StringArray, _>>()?;
    let throughout = rows
        .iter()
        .map(|(_, result)| result.throughout.as_ref().map(serde_json::to_string).transpose())
        .collect::<Result<StringArray, _>>()?;
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("evaluation_id", Arc::new(Int64Array::from(vec![evaluation_id; rows.len()]))),
        ("control_id", text(rows, |(outcome, _)| outcome.control_id.as_str())),
        ("resource", text(rows, |(_, result)| result.resource.as_str())),
        ("status", text(rows, |(_, result)| result.status.as_str())),
        ("reason", text(rows, |(_, result)| result.reason.as_str())),
        ("evidence_id", Arc::new(rows.iter().map(|(_, result)| result.evidence_id).collect::<Int64Array>())),
        (
            "underlying_status",
            Arc::new(rows.iter().map(|(_, result)| result.underlying.map(Status::as_str)).collect::<StringArray>()),
        ),
        ("waiver", Arc::new(waivers)),
        ("throughout", Arc::new(throughout)),
    ];
    Ok(RecordBatch::try_from_iter(columns)?)
}

/// A text column of every row.
fn text<'a>(rows: &[Row<'a>], value: impl Fn(&Row<'a>) -> &'a str) -> ArrayRef {
    Arc::new(rows.iter().map(|row| Some(value(row))).collect::<StringArray>())
}
