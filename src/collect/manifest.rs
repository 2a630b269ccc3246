//! The manifest of a finished collection: what was collected, for which organisation, from when to when, with which
//! tool version and what it counted, kept as evidence (`pipeproof.collection`) and as a `collection_runs` row, so
//! that an auditor can see the collector ran on schedule over the whole period (GOV-01).

use anyhow::Result;
use chrono::NaiveDateTime;
use duckdb::{params, Connection};

use crate::store::{add_evidence, NewEvidence};

/// The evidence kind of a collection manifest.
pub const KIND: &str = "pipeproof.collection";

/// One finished collection.
pub struct Manifest<'a> {
    /// The source collected: `github`.
    pub source: &'a str,
    /// The organisation.
    pub org: &'a str,
    /// When the collection started.
    pub started_at: NaiveDateTime,
    /// When its evidence was stored.
    pub finished_at: NaiveDateTime,
    /// Repositories in scope and collected.
    pub repositories: usize,
    /// Listed repositories the config's scope left out.
    pub out_of_scope: usize,
    /// Answers the token could not see.
    pub not_visible: usize,
    /// The collection's own counts, as they are reported.
    pub summary: serde_json::Value,
}

impl Manifest<'_> {
    /// Stores the manifest as evidence of run `run_id` and its `collection_runs` row, inside the run's transaction.
    pub fn record(&self, conn: &Connection, run_id: i64) -> Result<()> {
        let body = serde_json::json!({
            "run_id": run_id,
            "source": self.source,
            "organisation": self.org,
            "started_at": self.started_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "finished_at": self.finished_at.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "tool_version": crate::VERSION,
            "summary": self.summary,
        });
        let body = serde_json::to_vec_pretty(&body)?;
        let evidence_id = add_evidence(
            conn,
            run_id,
            &NewEvidence {
                source: "pipeproof",
                kind: KIND,
                subject: self.org,
                collected_at: self.finished_at,
                provenance: serde_json::json!({"tool": "pipeproof", "tool_version": crate::VERSION, "run_id": run_id}),
                body: &body,
            },
        )?;
        conn.execute(
            "INSERT INTO collection_runs_history (run_id, evidence_id, observed_at, org, source, started_at, \
             finished_at, repositories, out_of_scope, not_visible, tool_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                run_id,
                evidence_id,
                self.finished_at,
                self.org,
                self.source,
                self.started_at,
                self.finished_at,
                self.repositories as i64,
                self.out_of_scope as i64,
                self.not_visible as i64,
                crate::VERSION
            ],
        )?;
        Ok(())
    }
}
