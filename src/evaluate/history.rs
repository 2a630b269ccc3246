//! The state-change history of each (control, resource), kept up to date as each evaluation is stored.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Connection};
use serde::Serialize;

/// Folds one stored evaluation into `finding_history` in a single statement. Evaluations as of a moment earlier
/// than what the history already holds (backdated re-evaluations) do not rewrite it.
pub fn record(conn: &Connection, evaluation_id: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO finding_history
         SELECT r.control_id, r.resource, r.status, e.as_of, e.as_of, e.as_of,
                CASE WHEN r.status = 'fail' THEN e.as_of END,
                CASE WHEN r.status = 'fail' THEN e.as_of END,
                NULL,
                CASE WHEN r.status = 'waived' THEN e.as_of END,
                r.evaluation_id
         FROM control_results r JOIN evaluations e ON e.evaluation_id = r.evaluation_id
         WHERE r.evaluation_id = ?
         ON CONFLICT (control_id, resource) DO UPDATE SET
             status_since = CASE WHEN status = excluded.status THEN status_since ELSE excluded.status_since END,
             first_failed = coalesce(first_failed, excluded.first_failed),
             last_failed = coalesce(excluded.last_failed, last_failed),
             resolved_at = CASE WHEN status = 'fail' AND excluded.status <> 'fail' THEN excluded.last_seen ELSE resolved_at END,
             waived_since = CASE WHEN excluded.status <> 'waived' THEN NULL
                                 WHEN status = 'waived' THEN waived_since
                                 ELSE excluded.last_seen END,
             last_seen = excluded.last_seen,
             status = excluded.status,
             last_evaluation = excluded.last_evaluation
         WHERE excluded.last_seen >= last_seen",
        params![evaluation_id],
    )?;
    Ok(())
}

/// One (control, resource) and how it has fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryRow {
    /// Control id.
    pub control: String,
    /// Resource.
    pub resource: String,
    /// Status in the latest evaluation that judged it.
    pub status: String,
    /// Since when it has had that status.
    pub status_since: NaiveDateTime,
    /// First judged.
    pub first_seen: NaiveDateTime,
    /// Last judged.
    pub last_seen: NaiveDateTime,
    /// First seen failing.
    pub first_failed: Option<NaiveDateTime>,
    /// Last seen failing.
    pub last_failed: Option<NaiveDateTime>,
    /// When it last stopped failing.
    pub resolved_at: Option<NaiveDateTime>,
    /// While waived: since when.
    pub waived_since: Option<NaiveDateTime>,
}

/// The history, optionally for one control, resources matching a pattern, and those seen since a moment.
pub fn list(
    conn: &Connection,
    control: Option<&str>,
    resource: Option<&str>,
    since: Option<NaiveDateTime>,
) -> Result<Vec<HistoryRow>> {
    let mut statement = conn.prepare(
        "SELECT control_id, resource, status, status_since, first_seen, last_seen, first_failed, last_failed, resolved_at,
                waived_since
         FROM finding_history
         WHERE (? IS NULL OR control_id = ?) AND (? IS NULL OR last_seen >= ?)
         ORDER BY control_id, resource",
    )?;
    let rows = statement.query_map(params![control, control, since, since], |row| {
        Ok(HistoryRow {
            control: row.get(0)?,
            resource: row.get(1)?,
            status: row.get(2)?,
            status_since: row.get(3)?,
            first_seen: row.get(4)?,
            last_seen: row.get(5)?,
            first_failed: row.get(6)?,
            last_failed: row.get(7)?,
            resolved_at: row.get(8)?,
            waived_since: row.get(9)?,
        })
    })?;
    let rows: Vec<HistoryRow> = rows.collect::<Result<_, _>>()?;
    Ok(rows
        .into_iter()
        .filter(|row| resource.is_none_or(|pattern| crate::glob::matches(pattern, &row.resource)))
        .collect())
}
