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

/// Marks runs left `running` by a process that died as failed (only one writer can hold a file store).
pub(super) fn fail_interrupted(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE runs SET status = 'failed', finished_at = coalesce(finished_at, started_at), \
         detail = json_object('error', 'interrupted: the process stopped before the run finished') \
         WHERE status = 'running'",
        [],
    )?;
    Ok(())
}

/// How long a run in a DuckLake store may go without an end before it is taken for dead: a writer on another machine
/// cannot be asked whether it is alive, and no collection runs this long.
pub const ABANDONED_AFTER_HOURS: i64 = 24;

/// Marks runs of a DuckLake store that have been `running` for longer than [`ABANDONED_AFTER_HOURS`] as failed.
pub(super) fn fail_abandoned(conn: &Connection) -> Result<()> {
    let before = crate::time::now_utc() - chrono::Duration::hours(ABANDONED_AFTER_HOURS);
    let abandoned: i64 = conn.query_row(
        "SELECT count(*) FROM runs WHERE status = 'running' AND started_at < ?",
        params![before],
        |row| row.get(0),
    )?;
    if abandoned == 0 {
        return Ok(());
    }
    super::lake::retry_conflicts(|| {
        conn.execute(
            &format!(
                "UPDATE runs SET status = 'failed', finished_at = started_at, detail = json_object('error', \
                 'abandoned: no end recorded within {ABANDONED_AFTER_HOURS} hours; what it wrote was committed whole or not at all') \
                 WHERE status = 'running' AND started_at < ?"
            ),
            params![before],
        )?;
        Ok(())
    })
}

impl Store {
    /// Records the start of a run and returns its id.
    pub fn start_run(&self, command: &str) -> Result<i64> {
        let run_id = super::next_ids(&self.conn, "run_ids", 1)?[0];
        self.conn.execute(
            "INSERT INTO runs (run_id, command, started_at, status, tool_version) VALUES (?, ?, ?, 'running', ?)",
            params![run_id, command, crate::time::now_utc(), crate::VERSION],
        )?;
        Ok(run_id)
    }

    /// Records how a run ended from its outcome (succeeded, its summary the detail; or failed, with the error), and
    /// hands the outcome back.
    pub fn conclude_run<T: serde::Serialize>(&self, run_id: i64, outcome: Result<T>) -> Result<T> {
        match outcome {
            Ok(summary) => {
                self.finish_run(run_id, RunStatus::Succeeded, &serde_json::to_value(&summary)?)?;
                Ok(summary)
            }
            Err(error) => {
                self.finish_run(run_id, RunStatus::Failed, &serde_json::json!({"error": format!("{error:#}")}))?;
                Err(error)
            }
        }
    }

    /// Does the work of a run in one transaction and records how the run ended, its detail made from what the work
    /// returned. On a file store the success is committed with the work: a process killed at any moment leaves the
    /// run failed with nothing of it kept, or succeeded with all of it. On a DuckLake the end is recorded just after
    /// the commit, because an update of `runs` inside a long transaction would conflict with any other writer's run
    /// ending meanwhile and lose the whole work; a writer killed between the two is taken for abandoned later.
    pub fn commit_run<T>(
        &self,
        run_id: i64,
        work: impl FnOnce(&Connection) -> Result<T>,
        detail: impl FnOnce(&T) -> Result<serde_json::Value>,
    ) -> Result<T> {
        let lake = self.is_lake();
        let committed = self.in_transaction(|conn| {
            let value = work(conn)?;
            let detail = detail(&value)?;
            if lake {
                return Ok((value, Some(detail)));
            }
            record_end(conn, run_id, RunStatus::Succeeded, &detail)?;
            Ok((value, None))
        });
        match committed {
            Ok((value, None)) => Ok(value),
            Ok((value, Some(detail))) => {
                self.finish_run(run_id, RunStatus::Succeeded, &detail)?;
                Ok(value)
            }
            Err(error) => {
                self.finish_run(run_id, RunStatus::Failed, &serde_json::json!({"error": format!("{error:#}")}))?;
                Err(error)
            }
        }
    }

    /// Records how a run ended, with a JSON detail (counts, warnings, the error).
    /// On a DuckLake, another writer starting a run meanwhile makes the update conflict: it is tried again.
    pub fn finish_run(&self, run_id: i64, status: RunStatus, detail: &serde_json::Value) -> Result<()> {
        let finish = || record_end(&self.conn, run_id, status, detail);
        if self.is_lake() {
            super::lake::retry_conflicts(finish)
        } else {
            finish()
        }
    }
}

/// Writes the end of a run: its status, the time and the detail.
fn record_end(conn: &Connection, run_id: i64, status: RunStatus, detail: &serde_json::Value) -> Result<()> {
    conn.execute(
        "UPDATE runs SET status = ?, finished_at = ?, detail = ? WHERE run_id = ?",
        params![status.as_str(), crate::time::now_utc(), detail.to_string(), run_id],
    )?;
    Ok(())
}
