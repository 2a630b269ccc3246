//! File ingestors: read evidence files into the store, one transaction per file; a bad file harms no other.

pub mod audit_log;
mod checkov;
mod csv_records;
pub mod cyclonedx;
mod dependency_snapshot;
mod deploy_events;
mod detect;
mod encoding;
pub mod formats;
pub mod generic;
mod gitlab;
mod gitleaks;
mod grype;
mod intoto;
pub mod json;
mod kubernetes;
mod legitify;
mod nuclei;
mod osv;
mod read;
pub mod sarif;
mod semgrep;
mod signature_check;
mod sigstore;
mod spdx;
mod stream;
mod syft;
mod trivy;
mod vex;
mod zap;

use std::path::Path;

pub use crate::facts::Facts;
use crate::facts::Scan;
use crate::store::Store;
use anyhow::Result;
pub use formats::IngestKind;
pub use generic::LogMapping;
pub use signature_check::TrustPolicy;
pub(crate) use sigstore::parse as parse_attestations;

/// What happened to one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FileOutcome {
    /// The file as given.
    pub path: String,
    /// The detected format, when the file was recognised.
    pub format: Option<String>,
    /// Rows stored, when the file was accepted.
    pub stored: Option<usize>,
    /// What the rows are, e.g. `12 vulnerabilities, 3 secret findings`.
    pub summary: Option<String>,
    /// Things worth knowing about an accepted file (no runs, failed signatures, duplicates skipped).
    pub warnings: Vec<String>,
    /// Why the file was rejected, naming the position when there is one.
    pub error: Option<String>,
}

/// How to read a batch of files.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The format, when not detected from content.
    pub kind: Option<IngestKind>,
    /// The repository the files describe.
    pub repo: Option<String>,
    /// What attestation signatures are checked against.
    pub trust: TrustPolicy,
    /// The field mapping for generic logs.
    pub mapping: Option<LogMapping>,
    /// The most a file may expand to when decompressed, in MiB (`--max-expanded-mb`); default
    /// [`DEFAULT_MAX_EXPANDED_MB`], and never more than 250 times a compressed file's own size (at least 64 MiB).
    pub max_expanded_mb: Option<u64>,
}

/// How far a file may expand when decompressed, in MiB, unless `--max-expanded-mb` says otherwise.
pub const DEFAULT_MAX_EXPANDED_MB: u64 = 2048;

impl IngestOptions {
    /// The bound on a file's decompressed content: the configured size, and for a compressed file a ratio too.
    fn expansion_limit(&self, input: &read::Input) -> u64 {
        let configured = self.max_expanded_mb.unwrap_or(DEFAULT_MAX_EXPANDED_MB).saturating_mul(1 << 20);
        match (input.compression, self.max_expanded_mb) {
            (read::Compression::None, _) | (_, Some(_)) => configured,
            _ => configured.min(input.size.saturating_mul(250).max(64 << 20)),
        }
    }
}

/// Ingests one file in its own transaction; a rejected file stores nothing and harms no other file.
pub fn ingest_file(store: &Store, run_id: i64, path: &Path, options: &IngestOptions) -> FileOutcome {
    let display = path.display().to_string();
    let mut outcome = FileOutcome {
        path: display.clone(),
        format: None,
        stored: None,
        summary: None,
        warnings: Vec::new(),
        error: None,
    };
    match ingest(store, run_id, path, &display, options, &mut outcome) {
        Ok(()) => {}
        Err(error) => {
            outcome.stored = None;
            outcome.summary = None;
            outcome.error = Some(format!("{error:#}"));
        }
    }
    outcome
}

fn ingest(
    store: &Store,
    run_id: i64,
    path: &Path,
    display: &str,
    options: &IngestOptions,
    outcome: &mut FileOutcome,
) -> Result<()> {
    let input = read::Input::open(path, display)?;
    if stream::wants_streaming(&input, options.kind) {
        let stored = stream::ingest_lines(store, run_id, &input, path, options, outcome)?;
        outcome.stored = Some(stored);
        return Ok(());
    }
    let bytes = input.content(options.expansion_limit(&input))?;
    let facts = parse(&bytes, display, options)?;
    outcome.format = Some(facts.format.clone());
    let subject = options
        .repo
        .clone()
        .or_else(|| facts.repository.clone())
        .or_else(|| facts.subject.clone())
        .unwrap_or_else(|| input.file_name());
    let repo = options.repo.clone().or_else(|| facts.repository.clone());
    let now = crate::time::now_utc();
    let observed_at = facts.document_time.filter(|time| *time <= now).unwrap_or(now);
    let completeness = facts.completeness();
    let kept = input.store_large_body(store.conn())?;
    let stored = store.in_transaction(|conn| {
        if let Some(existing) = input.already_stored(conn, facts.kind, &subject)? {
            return Ok(Err(existing));
        }
        let what = read::Described {
            kind: facts.kind,
            subject: &subject,
            format: &facts.format,
            document_time: facts.document_time.filter(|time| *time <= now),
            completeness: completeness.as_ref().map(|(state, note)| (*state, note.as_str())),
        };
        let evidence_id = input.store_evidence(conn, run_id, &what, now, Some(&bytes), kept.as_ref())?;
        let origin =
            crate::facts::Origin { run_id, evidence_id, observed_at, subject: &subject, repo: repo.as_deref() };
        Ok(Ok(crate::facts::store_facts(conn, &origin, &facts)?))
    });
    let stored = match stored.map_err(|error| anyhow::anyhow!("{display}: could not be stored: {error:#}"))? {
        Ok(stored) => stored,
        Err(existing) => {
            outcome.stored = Some(0);
            outcome.summary = Some(format!("already ingested as evidence #{existing}; nothing added"));
            return Ok(());
        }
    };
    outcome.warnings = facts.warnings.clone();
    if stored.duplicate_events > 0 {
        outcome.warnings.push(format!(
            "{display}: {} event(s) were already stored (same source and event id) and were not added again",
            stored.duplicate_events
        ));
    }
    outcome.stored = Some(stored.rows);
    outcome.summary = Some(facts.summary());
    Ok(())
}

/// Parses a file's content (already decompressed) into facts, detecting the format unless one is forced.
pub fn parse(bytes: &[u8], origin: &str, options: &IngestOptions) -> Result<Facts> {
    let text = encoding::to_utf8(bytes, origin)?;
    let bytes = text.as_ref();
    if options.kind == Some(IngestKind::Generic) {
        let mapping = options.mapping.as_ref().ok_or_else(|| {
            crate::error::input_error(format!(
                "{origin}: --kind generic needs --mapping FILE (see `pipeproof schema log-mapping`)"
            ))
        })?;
        return generic::parse(bytes, origin, mapping);
    }
    if let Some(facts) = options.kind.and_then(|kind| empty_clean_report(kind, bytes, origin, options)) {
        return Ok(facts);
    }
    let records = detect::records(bytes, origin, options.kind)?;
    let kind = match options.kind {
        Some(kind) => {
            detect::check_kind(kind, &records, origin)?;
            kind
        }
        None => detect::kind_of(&records, origin)?,
    };
    let mut facts = parse_as(kind, &records, bytes, origin, options)?;
    facts.warn_about_completeness(origin);
    Ok(facts)
}

/// A clean run of a tool that writes nothing (Nuclei) or an empty list (Gitleaks) when it finds nothing: with
/// `--kind` naming the tool, the file is a clean scan of `--repo`.
fn empty_clean_report(kind: IngestKind, bytes: &[u8], origin: &str, options: &IngestOptions) -> Option<Facts> {
    let text = String::from_utf8_lossy(bytes);
    let text = text.trim_start_matches('\u{feff}').trim();
    let (category, tool, evidence_kind) = match kind {
        IngestKind::Gitleaks if text == "[]" => ("secret", "Gitleaks", "gitleaks"),
        IngestKind::Nuclei if text.is_empty() || text == "[]" => ("dast", "Nuclei", "nuclei"),
        _ => return None,
    };
    let mut facts = Facts::new(evidence_kind, format!("{evidence_kind}-empty"));
    facts.scans.push(Scan { category, tool: tool.into(), ..Default::default() });
    if options.repo.is_none() {
        facts.warnings.push(format!(
            "{origin}: an empty {tool} report names nothing it scanned: pass --repo OWNER/NAME so the clean scan counts \
             for that repository"
        ));
    }
    Some(facts)
}

fn parse_as(
    kind: IngestKind,
    records: &detect::Records,
    bytes: &[u8],
    origin: &str,
    options: &IngestOptions,
) -> Result<Facts> {
    let single = || records.single(origin);
    match kind {
        IngestKind::Sarif => Ok(sarif::into_facts(sarif::parse(bytes, origin)?)),
        IngestKind::Trivy => trivy::parse(single()?, origin),
        IngestKind::Grype => grype::parse(single()?, origin),
        IngestKind::OsvScanner => osv::parse(single()?, origin),
        IngestKind::Cyclonedx => cyclonedx::parse(single()?, origin),
        IngestKind::Spdx => spdx::parse(single()?, origin),
        IngestKind::Syft => syft::parse(single()?, origin),
        IngestKind::DependencySnapshot => dependency_snapshot::parse(single()?, origin),
        IngestKind::Attestation => sigstore::parse(&records.flattened(), origin, &options.trust),
        IngestKind::GithubAuditLog | IngestKind::K8sAudit | IngestKind::GitlabAudit => {
            let source = detect::audit_source(kind);
            let mut facts = Facts::new(source.evidence_kind(), source.evidence_kind());
            facts.format = records.describe(source.evidence_kind());
            for (line, record, raw) in records.with_raw() {
                facts.audit_events.push(audit_log::event(source, &record, line, &raw, origin)?);
            }
            Ok(facts)
        }
        IngestKind::Cdevents => deploy_events::parse_cdevents(&records.flattened(), origin),
        IngestKind::Argocd => deploy_events::parse_argocd(single()?, origin),
        IngestKind::Kubernetes => kubernetes::parse(single()?, origin),
        IngestKind::Semgrep => semgrep::parse(single()?, origin),
        IngestKind::Checkov => checkov::parse(single()?, origin),
        IngestKind::Gitleaks => gitleaks::parse(single()?, origin),
        IngestKind::GitlabReport => gitlab::parse_security_report(single()?, origin),
        IngestKind::GitlabCodeQuality => gitlab::parse_code_quality(single()?, origin),
        IngestKind::GitlabMergeRequests => gitlab::parse_merge_requests(single()?, origin),
        IngestKind::Legitify => legitify::parse(single()?, origin),
        IngestKind::Zap => zap::parse(single()?, origin),
        IngestKind::Nuclei => nuclei::parse(&records.flattened(), origin),
        IngestKind::Openvex => vex::parse_openvex(single()?, origin),
        IngestKind::Csaf => vex::parse_csaf(single()?, origin),
        IngestKind::Generic => Err(crate::error::input_error(format!(
            "{origin}: --kind generic needs --mapping FILE (see `pipeproof schema log-mapping`)"
        ))),
    }
}

/// Ingests every file, reporting each outcome; returns the outcomes in input order.
pub fn ingest_files(store: &Store, run_id: i64, paths: &[&Path], options: &IngestOptions) -> Vec<FileOutcome> {
    paths.iter().map(|path| ingest_file(store, run_id, path, options)).collect()
}
