//! Runs: every writing command is recorded, and a run that died half-way is marked failed.

use anyhow::Result;
use duckdb::{params, Connection};

use super::Store;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunStatus {
    /// Everything it wrote is committed.
    Succeeded,
    /// It stopped on an error; nothing it wrote in its failed transaction is kept.
    Failed,
}

impl RunStatus {
    fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
        }
    }
}

/// Marks runs left `running` by a process that died as failed (only one writer can hold the store).
pub(super) fn fail_interrupted(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE runs SET status = 'failed', finished_at = coalesce(finished_at, started_at), \
         detail = json_object('error', 'interrupted: the process stopped before the run finished') \
         WHERE status = 'running'",
        [],
    )?;
    Ok(())
}

impl Store {
    /// Records the start of a run and returns its id.
    pub fn start_run(&self, command: &str) -> Result<i64> {
        let run_id: i64 = self.conn.query_row("SELECT nextval('run_ids')", [], |row| row.get(0))?;
        self.conn.execute(
            "INSERT INTO runs (run_id, command, started_at, status, tool_version) VALUES (?, ?, ?, 'running', ?)",
            params![run_id, command, crate::time::now_utc(), crate::VERSION],
        )?;
        Ok(run_id)
    }

    /// Records how a run ended, with a JSON detail (counts, warnings, the error).
    pub fn finish_run(&self, run_id: i64, status: RunStatus, detail: &serde_json::Value) -> Result<()> {
        self.conn.execute(
            "UPDATE runs SET status = ?, finished_at = ?, detail = ? WHERE run_id = ?",
            params![status.as_str(), crate::time::now_utc(), detail.to_string(), run_id],
        )?;
        Ok(())
    }
}
