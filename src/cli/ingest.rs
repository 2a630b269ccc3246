//! `pipeproof ingest`: evidence files into the store, each on its own.

use std::path::{Path, PathBuf};

use anyhow::Result;

use super::IngestArgs;
use crate::error::{EXIT_INPUT, EXIT_OK};
use crate::ingest::{FileOutcome, IngestOptions, LogMapping, TrustPolicy};
use crate::store::{RunStatus, Store};

/// Ingests files as one run, printing each outcome; a bad file is reported and the others are kept.
pub fn ingest_paths(store: &Store, paths: &[PathBuf], options: &IngestOptions) -> Result<Vec<FileOutcome>> {
    let run_id = store.start_run("ingest")?;
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    let outcomes = crate::ingest::ingest_files(store, run_id, &refs, options);
    for outcome in &outcomes {
        for warning in &outcome.warnings {
            tracing::warn!("{warning}");
        }
        match (&outcome.error, &outcome.summary) {
            (Some(error), _) => eprintln!("error: {error}"),
            (None, Some(summary)) => println!(
                "ingested {} ({}): {summary}",
                outcome.path,
                outcome.format.as_deref().unwrap_or("unknown format")
            ),
            (None, None) => {}
        }
    }
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let status = if failed == outcomes.len() && failed > 0 { RunStatus::Failed } else { RunStatus::Succeeded };
    store.finish_run(run_id, status, &serde_json::json!({"files": outcomes}))?;
    Ok(outcomes)
}

pub fn ingest(store_path: &Path, args: &IngestArgs) -> Result<u8> {
    let options = IngestOptions {
        kind: args.kind,
        repo: args.repo.clone(),
        trust: TrustPolicy::load(args.trusted_root.as_deref(), &args.signers)?,
        mapping: args.mapping.as_deref().map(LogMapping::load).transpose()?,
        max_expanded_mb: args.max_expanded_mb,
    };
    if args.kind == Some(crate::ingest::IngestKind::Generic) && options.mapping.is_none() {
        return Err(crate::error::input_error(
            "--kind generic needs --mapping FILE (see `pipeproof schema log-mapping`)",
        ));
    }
    let store = Store::open(store_path)?;
    let outcomes = ingest_paths(&store, &args.paths, &options)?;
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    if failed > 0 {
        if failed == outcomes.len() {
            eprintln!("no file could be ingested");
        } else {
            eprintln!("{failed} of {} file(s) could not be ingested; the others were stored", outcomes.len());
        }
        return Ok(EXIT_INPUT);
    }
    Ok(EXIT_OK)
}
