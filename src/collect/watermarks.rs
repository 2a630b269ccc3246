//! Where incremental reading resumes: per subject, the end of the window the last successful collection read.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{Duration, NaiveDateTime};
use duckdb::{params, Connection};

/// How far back a later collection re-reads, so reviews, statuses and events recorded late are not missed.
const OVERLAP: Duration = Duration::hours(24);

/// Per subject, where reading of `kind` starts: the last successful window's end less the overlap, never earlier
/// than `days` back. Subjects never read are absent (start `days` back).
pub fn starting_points(
    conn: &Connection,
    org: &str,
    kind: &str,
    days: u32,
    now: NaiveDateTime,
) -> Result<BTreeMap<String, NaiveDateTime>> {
    let mut statement = conn.prepare(
        "SELECT w.subject, max(w.read_until) FROM collection_watermarks w JOIN runs r USING (run_id)
         WHERE r.status = 'succeeded' AND w.org = ? AND w.kind = ? GROUP BY ALL",
    )?;
    let floor = floor(days, now);
    let rows = statement
        .query_map(params![org, kind], |row| Ok((row.get::<_, String>(0)?, row.get::<_, NaiveDateTime>(1)?)))?;
    let mut starts = BTreeMap::new();
    for row in rows {
        let (subject, until) = row?;
        starts.insert(subject, (until - OVERLAP).max(floor));
    }
    Ok(starts)
}

/// The earliest moment reading ever goes back to: `days` before `now`.
pub fn floor(days: u32, now: NaiveDateTime) -> NaiveDateTime {
    now - Duration::days(i64::from(days))
}

/// Records the windows read, per subject; the caller's transaction makes them count only if the run succeeds.
pub fn record(
    conn: &Connection,
    run_id: i64,
    org: &str,
    kind: &str,
    windows: &[(&str, NaiveDateTime, NaiveDateTime)],
) -> Result<()> {
    let mut appender = conn.appender("collection_watermarks")?;
    for (subject, from, until) in windows {
        appender.append_row(params![run_id, org, subject, kind, from, until])?;
    }
    appender.flush()?;
    Ok(())
}
