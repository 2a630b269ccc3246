//! Keeps a record of every bundle written from the store, its manifest as the evidence item, so a later evaluation
//! can judge the chain of custody of the evidence handed to auditors (GOV-07).

use std::path::Path;

use anyhow::{Context, Result};
use duckdb::params;

use super::Manifest;
use crate::store::{add_evidence, NewEvidence, Store};

/// Records one written bundle: a `bundle` run, the manifest as `pipeproof.bundle` evidence, and a `bundles` row.
pub fn record(store: &Store, manifest: &Manifest, key_id: Option<&str>, output: &Path) -> Result<i64> {
    let name = output.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let body = manifest.to_bytes()?;
    let run_id = store.start_run("bundle")?;
    let recorded = store.commit_run(
        run_id,
        |conn| {
            let written_at = crate::time::now_utc();
            let evidence_id = add_evidence(
                conn,
                run_id,
                &NewEvidence {
                    source: "pipeproof",
                    kind: "pipeproof.bundle",
                    subject: &name,
                    collected_at: written_at,
                    provenance: serde_json::json!({
                        "output": name,
                        "evaluation_id": manifest.evaluation_id,
                        "root_hash": manifest.root_hash,
                        "signed_by_key": key_id,
                    }),
                    body: &body,
                },
            )?;
            conn.execute(
                "INSERT INTO bundles_history VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                params![
                    run_id,
                    evidence_id,
                    written_at,
                    manifest.organisation,
                    manifest.evaluation_id,
                    manifest.period.as_ref().map(|period| period.label.as_str()),
                    manifest.root_hash,
                    manifest.previous_root_hash,
                    key_id.is_some(),
                    key_id,
                    manifest.files.len() as i64,
                    name
                ],
            )?;
            Ok(evidence_id)
        },
        |evidence_id| Ok(serde_json::json!({"evidence_id": evidence_id, "root_hash": manifest.root_hash})),
    );
    recorded.with_context(|| format!("{} was written, but the store could not record it", output.display()))
}
