//! JSON Lines audit logs are read line by line into the Appender, so memory stays flat however large the log
//! (gzip included); the file's bytes are stored in parts when large.

use std::io::BufRead;

use anyhow::Result;
use serde_json::Value;

use super::audit_log::{self, AuditSource};
use super::json::{is_blank, without_bom};
use super::read::Input;
use super::write::EventWriter;
use super::{FileOutcome, IngestOptions};
use crate::cli::IngestKind;
use crate::error::input_error;
use crate::store::Store;

/// How much of the start of a file is read to recognise a JSON Lines audit log.
const HEAD_BYTES: usize = 256 << 10;

/// The audit source when the file is a JSON Lines audit log (and the kind allows it).
fn audit_lines_source(input: &Input, kind: Option<IngestKind>) -> Option<AuditSource> {
    let forced = match kind {
        None => None,
        Some(IngestKind::GithubAuditLog) => Some(AuditSource::Github),
        Some(IngestKind::K8sAudit) => Some(AuditSource::Kubernetes),
        Some(IngestKind::GitlabAudit) => Some(AuditSource::Gitlab),
        Some(_) => return None,
    };
    let head = input.head(HEAD_BYTES).ok()?;
    let mut lines = without_bom(&head).split(|b| *b == b'\n').filter(|line| !is_blank(line));
    let first: Value = serde_json::from_slice(lines.next()?).ok()?;
    // A single pretty-printed document is not JSON Lines: its first line alone is not a JSON object.
    if !first.is_object() || (lines.next().is_none() && !head.ends_with(b"\n")) {
        return None;
    }
    let detected = AuditSource::detect(&first);
    match forced {
        Some(source) => Some(source),
        None => detected,
    }
}

/// Whether the file is read line by line.
pub fn wants_streaming(input: &Input, kind: Option<IngestKind>) -> bool {
    audit_lines_source(input, kind).is_some()
}

/// Reads a JSON Lines audit log line by line in one transaction; returns the events stored.
pub fn ingest_lines(
    store: &Store,
    run_id: i64,
    input: &Input,
    options: &IngestOptions,
    outcome: &mut FileOutcome,
) -> Result<usize> {
    let source = audit_lines_source(input, options.kind).expect("checked by wants_streaming");
    let origin = outcome.path.clone();
    let kind = source.evidence_kind();
    let format = format!("{kind}-jsonl");
    outcome.format = Some(format.clone());
    let subject = options.repo.clone().unwrap_or_else(|| input.file_name());
    let now = crate::time::now_utc();
    let progress = crate::progress::bytes(input.size, &format!("reading {origin}"));
    let result = store.in_transaction(|conn| {
        if let Some(existing) = input.already_stored(conn, kind, &subject)? {
            return Ok(Err(existing));
        }
        let evidence_id = input.store_evidence(conn, run_id, kind, &subject, &format, now)?;
        let mut writer = EventWriter::open(conn, run_id, evidence_id, now)?;
        let mut reader = input.reader()?;
        let mut line = Vec::with_capacity(4096);
        let mut number = 0usize;
        loop {
            line.clear();
            let read = reader
                .read_until(b'\n', &mut line)
                .map_err(|error| input_error(format!("{origin}: line {}: cannot read: {error}", number + 1)))?;
            if read == 0 {
                break;
            }
            number += 1;
            progress.inc(read as u64);
            let content = if number == 1 { without_bom(&line) } else { &line[..] };
            if is_blank(content) {
                continue;
            }
            let record: Value = serde_json::from_slice(content).map_err(|error| {
                input_error(format!(
                    "{origin}: line {number}, column {}: invalid JSON: {error}: expected {}",
                    error.column(),
                    source.expected()
                ))
            })?;
            let trimmed = content.strip_suffix(b"\n").unwrap_or(content);
            writer.audit(&audit_log::event(source, &record, number, trimmed, &origin)?)?;
        }
        Ok(Ok(writer.finish()?))
    });
    progress.finish_and_clear();
    match result {
        Ok(Ok((written, duplicates))) => {
            outcome.summary = Some(format!("{written} audit event{}", if written == 1 { "" } else { "s" }));
            if duplicates > 0 {
                outcome.warnings.push(format!(
                    "{origin}: {duplicates} event(s) were already stored (same source and event id) and were not added again"
                ));
            }
            Ok(written)
        }
        Ok(Err(existing)) => {
            outcome.summary = Some(format!("already ingested as evidence #{existing}; nothing added"));
            Ok(0)
        }
        Err(error) => Err(anyhow::anyhow!("{error:#}")),
    }
}
