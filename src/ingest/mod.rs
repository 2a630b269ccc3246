//! File ingestors: read evidence files into the store, one transaction per file.

pub mod sarif;

use std::path::Path;

use anyhow::Result;

use crate::cli::IngestKind;
use crate::store::{add_evidence, sha256_hex, NewEvidence, Store};

/// What happened to one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileOutcome {
    /// The file as given.
    pub path: String,
    /// Rows stored (findings), when the file was accepted.
    pub stored: Option<usize>,
    /// Things worth knowing about an accepted file (e.g. no runs).
    pub warnings: Vec<String>,
    /// Why the file was rejected, naming the position when there is one.
    pub error: Option<String>,
}

/// Recognises a file's format from its content (for now, SARIF only).
pub fn detect_kind(bytes: &[u8]) -> Option<IngestKind> {
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]).to_ascii_lowercase();
    (head.contains("\"runs\"") || head.contains("sarif")).then_some(IngestKind::Sarif)
}

/// Ingests one file in its own transaction; a rejected file stores nothing and harms no other file.
pub fn ingest_file(
    store: &Store,
    run_id: i64,
    path: &Path,
    kind: Option<IngestKind>,
    repo: Option<&str>,
) -> FileOutcome {
    let display = path.display().to_string();
    let outcome = |stored, warnings, error| FileOutcome { path: display.clone(), stored, warnings, error };
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) => return outcome(None, Vec::new(), Some(format!("{display}: cannot read: {error}"))),
    };
    let Some(kind) = kind.or_else(|| detect_kind(&bytes)) else {
        return outcome(
            None,
            Vec::new(),
            Some(format!("{display}: unrecognised format: expected a SARIF 2.1.0 log (or pass --kind)")),
        );
    };
    let parsed = match kind {
        IngestKind::Sarif => sarif::parse(&bytes, &display),
    };
    let log = match parsed {
        Ok(log) => log,
        Err(error) => return outcome(None, Vec::new(), Some(error.to_string())),
    };
    let subject = repo.map(str::to_string).or_else(|| log.repository.clone()).unwrap_or_else(|| file_name(path));
    let stored = store.in_transaction(|conn| {
        let evidence_id = add_evidence(
            conn,
            run_id,
            &NewEvidence {
                source: "file",
                kind: "sarif",
                subject: &subject,
                collected_at: crate::time::now_utc(),
                provenance: serde_json::json!({
                    "path": display,
                    "size": bytes.len(),
                    "sha256": sha256_hex(&bytes),
                    "format": "sarif-2.1.0",
                }),
                body: &bytes,
            },
        )?;
        sarif::store(conn, run_id, evidence_id, &subject, repo.or(log.repository.as_deref()), &log)
    });
    match stored {
        Ok(count) => outcome(Some(count), log.warnings.clone(), None),
        Err(error) => outcome(None, Vec::new(), Some(format!("{display}: could not be stored: {error:#}"))),
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_else(|| path.display().to_string())
}

/// Ingests every file, reporting each outcome; returns the outcomes in input order.
pub fn ingest_files(
    store: &Store,
    run_id: i64,
    paths: &[&Path],
    kind: Option<IngestKind>,
    repo: Option<&str>,
) -> Result<Vec<FileOutcome>> {
    Ok(paths.iter().map(|path| ingest_file(store, run_id, path, kind, repo)).collect())
}
