//! Which stored evaluation a command means, in one place: the latest, the latest for a period, one named by id or by
//! a moment (the latest as of then), the last two, the one before another, and the one a report compares with.

use anyhow::Result;
use duckdb::{params, Connection};

use crate::error::input_error;

/// The latest evaluation; an input error saying what to run when there is none.
pub fn latest(conn: &Connection) -> Result<i64> {
    conn.query_row("SELECT max(evaluation_id) FROM evaluations", [], |row| row.get::<_, Option<i64>>(0))?
        .ok_or_else(|| input_error("the store has no evaluation yet: run `pipeproof evaluate` first"))
}

/// The given evaluation, else the latest for the period (`2026-Q3`, …), else the latest of all.
pub fn chosen(conn: &Connection, evaluation: Option<i64>, period: Option<&str>) -> Result<i64> {
    if let Some(id) = evaluation {
        return Ok(id);
    }
    let Some(text) = period else { return latest(conn) };
    let period = crate::period::Period::parse(text)?;
    conn.query_row(
        "SELECT max(evaluation_id) FROM evaluations WHERE period_start = ? AND period_end = ?",
        params![period.start, period.end],
        |row| row.get::<_, Option<i64>>(0),
    )?
    .ok_or_else(|| {
        input_error(format!(
            "no evaluation covers the period {}: run `pipeproof evaluate --period {text}` first",
            period.describe()
        ))
    })
}

/// An evaluation named by its id, or by a date/time meaning the latest evaluation as of then (`--from`, `--to`).
pub fn named(conn: &Connection, text: &str) -> Result<i64> {
    if let Ok(id) = text.parse::<i64>() {
        let found: i64 =
            conn.query_row("SELECT count(*) FROM evaluations WHERE evaluation_id = ?", [id], |r| r.get(0))?;
        return if found == 1 {
            Ok(id)
        } else {
            Err(input_error(format!("there is no evaluation #{id} in the store")))
        };
    }
    let moment = crate::time::parse_as_of(text)?;
    conn.query_row("SELECT max(evaluation_id) FROM evaluations WHERE as_of <= ?", [moment], |row| {
        row.get::<_, Option<i64>>(0)
    })?
    .ok_or_else(|| input_error(format!("no evaluation is as of {text} or earlier")))
}

/// The last two evaluations, oldest first.
pub fn last_two(conn: &Connection) -> Result<(i64, i64)> {
    let mut statement = conn.prepare("SELECT evaluation_id FROM evaluations ORDER BY evaluation_id DESC LIMIT 2")?;
    let ids: Vec<i64> = statement.query_map([], |row| row.get(0))?.collect::<Result<_, _>>()?;
    match ids.as_slice() {
        [to, from] => Ok((*from, *to)),
        _ => Err(input_error(
            "drift needs two evaluations in the store: run `pipeproof evaluate` again after collecting",
        )),
    }
}

/// The evaluation stored just before this one, if any.
pub fn before(conn: &Connection, evaluation_id: i64) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT max(evaluation_id) FROM evaluations WHERE evaluation_id < ?",
        [evaluation_id],
        |row| row.get(0),
    )?)
}

/// The evaluation a report compares with: for a period, the latest evaluation as of before the period began (the
/// previous period's); otherwise the latest evaluation as of an earlier moment.
pub fn compared_in_report(conn: &Connection, evaluation_id: i64) -> Result<Option<i64>> {
    Ok(conn.query_row(
        "SELECT max(p.evaluation_id) FROM evaluations p, evaluations e WHERE e.evaluation_id = ? \
         AND p.as_of < coalesce(e.period_start, e.as_of) AND p.evaluation_id <> e.evaluation_id",
        [evaluation_id],
        |row| row.get(0),
    )?)
}
