//! Fresh ids for runs, evidence and evaluations: a DuckDB sequence in a file store, a counter row in a DuckLake.

use anyhow::Result;
use duckdb::Connection;

/// `count` fresh ids of the sequence `name` (`run_ids`, `evidence_ids`, `evaluation_ids`), ascending.
pub fn next_ids(conn: &Connection, name: &str, count: usize) -> Result<Vec<i64>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if super::lake::is_lake(conn)? {
        return super::lake::next_ids(conn, name, count);
    }
    let mut ids: Vec<i64> = conn
        .prepare_cached(&format!("SELECT nextval('{name}') FROM range(?)"))?
        .query_map([count as i64], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    ids.sort_unstable();
    Ok(ids)
}
