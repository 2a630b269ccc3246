//! `pipeproof export`: the store as an open lake (`store::export`).

use std::path::Path;

use anyhow::Result;

use super::ExportArgs;
use crate::error::EXIT_OK;
use crate::store::Store;

/// Exports what is new in the store into the lake folder and says what it added.
pub fn export(store_path: &Path, args: &ExportArgs) -> Result<u8> {
    let conn = Store::open_read_only(store_path)?;
    let now = crate::time::now_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let summary = crate::store::export::export_parquet(&conn, &args.output, &now)?;
    println!(
        "exported {} rows in {} new Parquet files to {} (runs {}–{}, evaluations {}–{}); manifest.json lists every file",
        summary.rows,
        summary.files,
        summary.dir.display(),
        summary.runs.0,
        summary.runs.1,
        summary.evaluations.0,
        summary.evaluations.1
    );
    Ok(EXIT_OK)
}
