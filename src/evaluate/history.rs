//! The state-change history of each (control, resource), kept up to date as each evaluation is stored.

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Connection};
use serde::Serialize;

/// Folds one stored evaluation into `finding_history` in a single statement (a MERGE: a DuckLake has no keys for an
/// upsert to find). A control that judged a resource twice counts with its worst verdict. Evaluations as of a
/// moment earlier than what the history already holds (backdated re-evaluations) do not rewrite it.
pub fn record(conn: &Connection, evaluation_id: i64) -> Result<()> {
    conn.execute(
        "MERGE INTO finding_history h
         USING (SELECT r.control_id, r.resource, r.status, e.as_of AS seen,
                       CASE WHEN r.status = 'fail' THEN e.as_of END AS failed,
                       CASE WHEN r.status = 'waived' THEN e.as_of END AS waived,
                       r.evaluation_id
                FROM control_results r JOIN evaluations e ON e.evaluation_id = r.evaluation_id
                WHERE r.evaluation_id = ?
                QUALIFY row_number() OVER (PARTITION BY r.control_id, r.resource
                                           ORDER BY CASE r.status WHEN 'fail' THEN 0 WHEN 'error' THEN 1
                                                    WHEN 'unknown' THEN 2 WHEN 'waived' THEN 3 ELSE 4 END,
                                                    r.status, r.reason) = 1) n
         ON h.control_id = n.control_id AND h.resource = n.resource
         WHEN MATCHED AND n.seen >= h.last_seen THEN UPDATE SET
             status_since = CASE WHEN h.status = n.status THEN h.status_since ELSE n.seen END,
             first_failed = coalesce(h.first_failed, n.failed),
             last_failed = coalesce(n.failed, h.last_failed),
             resolved_at = CASE WHEN h.status = 'fail' AND n.status <> 'fail' THEN n.seen ELSE h.resolved_at END,
             waived_since = CASE WHEN n.status <> 'waived' THEN NULL
                                 WHEN h.status = 'waived' THEN h.waived_since
                                 ELSE n.seen END,
             last_seen = n.seen,
             status = n.status,
             last_evaluation = n.evaluation_id
         WHEN NOT MATCHED THEN INSERT (control_id, resource, status, status_since, first_seen, last_seen,
                                       first_failed, last_failed, resolved_at, waived_since, last_evaluation)
             VALUES (n.control_id, n.resource, n.status, n.seen, n.seen, n.seen, n.failed, n.failed, NULL, n.waived,
                     n.evaluation_id)",
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
