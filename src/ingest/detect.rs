//! Recognising an evidence file's format from its content: one JSON document, JSON Lines, or a CSV export.

use anyhow::Result;
use serde_json::Value;

use super::audit_log::{self, AuditSource};
use super::json::{is_blank, looks_like_lines, parse_document, parse_lines, without_bom};
use super::{
    checkov, cyclonedx, dependency_snapshot, deploy_events, gitlab, gitleaks, grype, intoto, kubernetes, legitify,
    nuclei, osv, semgrep, sigstore, spdx, syft, trivy, vex, zap,
};
use crate::cli::IngestKind;
use crate::error::input_error;

/// A file's records: one document, or one per line (JSON Lines) or row (CSV), with their raw bytes.
pub struct Records {
    items: Vec<(usize, Value, Vec<u8>)>,
    shape: Shape,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Document,
    Lines,
    Csv,
}

impl Records {
    /// The one document of a single-document format.
    pub fn single(&self, origin: &str) -> Result<&Value> {
        match (self.shape, self.items.as_slice()) {
            (Shape::Document, [(_, document, _)]) => Ok(document),
            (_, [(_, document, _)]) if self.shape == Shape::Lines => Ok(document),
            _ => Err(input_error(format!(
                "{origin}: expected one JSON document, found {} records (JSON Lines or CSV)",
                self.items.len()
            ))),
        }
    }

    /// Every record: the elements of a top-level array, else each document or line.
    pub fn flattened(&self) -> Vec<(usize, Value)> {
        match (self.shape, self.items.as_slice()) {
            (Shape::Document, [(_, Value::Array(elements), _)]) => {
                elements.iter().enumerate().map(|(index, value)| (index + 1, value.clone())).collect()
            }
            _ => self.items.iter().map(|(line, value, _)| (*line, value.clone())).collect(),
        }
    }

    /// Every record with its raw bytes (for content-hash event keys).
    pub fn with_raw(&self) -> Vec<(usize, Value, Vec<u8>)> {
        match (self.shape, self.items.as_slice()) {
            (Shape::Document, [(_, Value::Array(elements), _)]) => elements
                .iter()
                .enumerate()
                .map(|(index, value)| (index + 1, value.clone(), serde_json::to_vec(value).unwrap_or_default()))
                .collect(),
            _ => self.items.clone(),
        }
    }

    /// The format name with the container: `github-audit-log-jsonl`, `-csv` or `-json`.
    pub fn describe(&self, name: &str) -> String {
        let suffix = match self.shape {
            Shape::Document => "json",
            Shape::Lines => "jsonl",
            Shape::Csv => "csv",
        };
        format!("{name}-{suffix}")
    }

    fn first(&self) -> Option<&Value> {
        match self.items.first()? {
            (_, Value::Array(elements), _) if self.shape == Shape::Document => elements.first(),
            (_, value, _) => Some(value),
        }
    }

    fn document(&self) -> Option<&Value> {
        (self.shape == Shape::Document).then(|| self.items.first().map(|(_, value, _)| value)).flatten()
    }
}

/// Splits content into records; errors name the file, the line and column, and what was expected.
pub fn records(bytes: &[u8], origin: &str, kind: Option<IngestKind>) -> Result<Records> {
    let expected = kind.map(expected).unwrap_or("an evidence file (JSON, JSON Lines or a GitHub audit-log CSV)");
    if is_blank(bytes) {
        let hint =
            if kind.is_none() { " (a clean Nuclei run writes nothing: pass --kind nuclei with --repo)" } else { "" };
        return Err(input_error(format!("{origin}: the file is empty: expected {expected}{hint}")));
    }
    let starts_json =
        without_bom(bytes).iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|b| *b == b'{' || *b == b'[');
    let header = without_bom(bytes).split(|b| *b == b'\n').next().unwrap_or_default();
    let csv_header = header.contains(&b',') && String::from_utf8_lossy(header).split(',').any(|h| h.trim() == "action");
    if !starts_json && is_yaml_name(origin) {
        return yaml_records(bytes, origin, expected);
    }
    if !starts_json && (kind == Some(IngestKind::GithubAuditLog) || (kind.is_none() && csv_header)) {
        let rows = audit_log::csv_records(bytes, origin)?;
        return Ok(Records { items: rows, shape: Shape::Csv });
    }
    match serde_json::from_slice::<Value>(without_bom(bytes)) {
        Ok(document) => {
            if document.is_null() {
                return Err(input_error(format!("{origin}: the document is `null`: expected {expected}")));
            }
            Ok(Records { items: vec![(1, document, Vec::new())], shape: Shape::Document })
        }
        Err(_) if looks_like_lines(bytes) => {
            let lines = parse_lines(bytes, origin, expected)?;
            let raw: Vec<&[u8]> = without_bom(bytes).split(|b| *b == b'\n').collect();
            let items = lines
                .into_iter()
                .map(|(line, value)| (line, value, raw[line - 1].strip_suffix(b"\r").unwrap_or(raw[line - 1]).to_vec()))
                .collect::<Vec<_>>();
            Ok(Records { items, shape: Shape::Lines })
        }
        Err(_) => {
            // Not one document and not JSON Lines: report the document's own parse error, with its position.
            let document = parse_document(bytes, origin, expected)?;
            Ok(Records { items: vec![(1, document, Vec::new())], shape: Shape::Document })
        }
    }
}

/// Whether a file is named as YAML (`.yaml`, `.yml`, compressed or not): Kubernetes objects are mostly kept so.
fn is_yaml_name(origin: &str) -> bool {
    let name = origin.strip_suffix(".gz").unwrap_or(origin).to_ascii_lowercase();
    name.ends_with(".yaml") || name.ends_with(".yml")
}

/// A YAML file: one document, or several (`---`) read as a list of documents.
fn yaml_records(bytes: &[u8], origin: &str, expected: &str) -> Result<Records> {
    let text = std::str::from_utf8(without_bom(bytes))
        .map_err(|error| input_error(format!("{origin}: not UTF-8 text ({error}): expected {expected}")))?;
    let mut documents: Vec<Value> = serde_saphyr::from_multiple(text)
        .map_err(|error| input_error(format!("{origin}: invalid YAML: {error}: expected {expected}")))?;
    documents.retain(|document| !document.is_null());
    let document = match documents.len() {
        0 => return Err(input_error(format!("{origin}: the YAML holds no document: expected {expected}"))),
        1 => documents.remove(0),
        _ => Value::Array(documents),
    };
    Ok(Records { items: vec![(1, document, Vec::new())], shape: Shape::Document })
}

/// What a file of a kind must contain, for errors.
pub fn expected(kind: IngestKind) -> &'static str {
    match kind {
        IngestKind::Sarif => "a SARIF 2.1.0 log",
        IngestKind::Trivy => "a Trivy JSON report (trivy --format json)",
        IngestKind::Grype => "a Grype JSON report (grype -o json) with \"matches\"",
        IngestKind::OsvScanner => "an OSV-Scanner JSON report with \"results\"",
        IngestKind::Cyclonedx => "a CycloneDX JSON BOM (\"bomFormat\": \"CycloneDX\")",
        IngestKind::Spdx => "an SPDX 2.2 or 2.3 JSON document (\"spdxVersion\")",
        IngestKind::Syft => "a Syft JSON SBOM (\"artifacts\" and \"artifactRelationships\")",
        IngestKind::DependencySnapshot => "a GitHub dependency-submission snapshot (\"detector\" and \"manifests\")",
        IngestKind::Attestation => "an in-toto Statement, a DSSE envelope or a Sigstore bundle",
        IngestKind::GithubAuditLog => "a GitHub audit-log export (JSON, JSON Lines or CSV)",
        IngestKind::K8sAudit => "a Kubernetes audit log (JSON Lines of audit.k8s.io Events)",
        IngestKind::GitlabAudit => "GitLab audit events or webhook events",
        IngestKind::Cdevents => "CDEvents (context.type dev.cdevents.*)",
        IngestKind::Argocd => "an Argo CD Application (apiVersion argoproj.io/*, kind Application)",
        IngestKind::Kubernetes => {
            "Kubernetes objects (Kyverno ClusterPolicy or Policy, ClusterImagePolicy, Argo Rollout, Flagger Canary, \
             Deployment, ClusterRoleBinding or RoleBinding), as JSON or YAML"
        }
        IngestKind::Semgrep => "a Semgrep JSON report (\"results\" and \"errors\")",
        IngestKind::Checkov => "a Checkov JSON report (\"check_type\" and \"results\")",
        IngestKind::Gitleaks => "a Gitleaks JSON report (a list of findings with RuleID and File)",
        IngestKind::GitlabReport => "a GitLab security report (\"version\" and \"vulnerabilities\")",
        IngestKind::GitlabCodeQuality => "a GitLab Code Quality report (a list with check_name and fingerprint)",
        IngestKind::GitlabMergeRequests => "a GitLab merge-request list (objects with iid and target_branch)",
        IngestKind::Legitify => "a Legitify JSON report (\"type\" and \"content\")",
        IngestKind::Zap => "an OWASP ZAP JSON report (\"@version\" and \"site\")",
        IngestKind::Nuclei => "Nuclei results (template-id and info)",
        IngestKind::Openvex => "an OpenVEX document (@context https://openvex.dev/ns/…)",
        IngestKind::Csaf => "a CSAF advisory (document.csaf_version)",
        IngestKind::Generic => "a JSON Lines or CSV log described by the mapping file",
    }
}

/// The audit-log source a kind reads.
pub fn audit_source(kind: IngestKind) -> AuditSource {
    match kind {
        IngestKind::K8sAudit => AuditSource::Kubernetes,
        IngestKind::GitlabAudit => AuditSource::Gitlab,
        _ => AuditSource::Github,
    }
}

fn is_sarif(document: &Value) -> bool {
    document.get("runs").is_some()
        || document.get("runLogs").is_some()
        || document.get("$schema").and_then(Value::as_str).is_some_and(|schema| schema.contains("sarif"))
}

fn matches(kind: IngestKind, records: &Records) -> bool {
    let document = records.document();
    let on_document = |test: fn(&Value) -> bool| document.is_some_and(test);
    let on_first = |test: fn(&Value) -> bool| records.first().is_some_and(test);
    match kind {
        IngestKind::Sarif => on_document(is_sarif),
        IngestKind::Trivy => on_document(trivy::detect),
        IngestKind::Grype => on_document(grype::detect),
        IngestKind::OsvScanner => on_document(osv::detect),
        IngestKind::Cyclonedx => on_document(cyclonedx::detect),
        IngestKind::Spdx => on_document(spdx::detect),
        IngestKind::Syft => on_document(syft::detect),
        IngestKind::DependencySnapshot => on_document(dependency_snapshot::detect),
        IngestKind::Attestation => on_first(|value| {
            sigstore::is_bundle(value)
                || sigstore::is_npm_attestations(value)
                || intoto::is_envelope(value)
                || intoto::is_statement(value)
        }),
        IngestKind::GithubAuditLog => on_first(|v| AuditSource::detect(v) == Some(AuditSource::Github)),
        IngestKind::K8sAudit => on_first(|v| AuditSource::detect(v) == Some(AuditSource::Kubernetes)),
        IngestKind::GitlabAudit => on_first(|v| AuditSource::detect(v) == Some(AuditSource::Gitlab)),
        IngestKind::Cdevents => on_first(deploy_events::is_cdevent),
        IngestKind::Argocd => on_document(deploy_events::is_argocd_application),
        IngestKind::Kubernetes => on_document(kubernetes::detect),
        IngestKind::Semgrep => on_document(semgrep::detect),
        IngestKind::Checkov => on_document(checkov::detect),
        IngestKind::Gitleaks => on_document(gitleaks::detect),
        IngestKind::GitlabReport => on_document(gitlab::is_security_report),
        IngestKind::GitlabCodeQuality => on_document(gitlab::is_code_quality),
        IngestKind::GitlabMergeRequests => on_document(gitlab::is_merge_request_list),
        IngestKind::Legitify => on_document(legitify::detect),
        IngestKind::Zap => on_document(zap::detect),
        IngestKind::Nuclei => on_first(nuclei::detect),
        IngestKind::Openvex => on_document(vex::is_openvex),
        IngestKind::Csaf => on_document(vex::is_csaf),
        IngestKind::Generic => true,
    }
}

/// Checks that content has the shape of a forced `--kind`.
pub fn check_kind(kind: IngestKind, records: &Records, origin: &str) -> Result<()> {
    if kind == IngestKind::Sarif || matches(kind, records) {
        return Ok(());
    }
    Err(input_error(format!("{origin}: the content does not match --kind: expected {}", expected(kind))))
}

/// The order formats are tried in: specific markers first, loose shapes last.
const DETECTION_ORDER: &[IngestKind] = &[
    IngestKind::Sarif,
    IngestKind::Cyclonedx,
    IngestKind::Spdx,
    IngestKind::Syft,
    IngestKind::DependencySnapshot,
    IngestKind::Grype,
    IngestKind::Trivy,
    IngestKind::OsvScanner,
    IngestKind::Semgrep,
    IngestKind::Checkov,
    IngestKind::Gitleaks,
    IngestKind::Legitify,
    IngestKind::GitlabReport,
    IngestKind::GitlabCodeQuality,
    IngestKind::GitlabMergeRequests,
    IngestKind::Openvex,
    IngestKind::Csaf,
    IngestKind::Zap,
    IngestKind::Attestation,
    IngestKind::Cdevents,
    IngestKind::Argocd,
    IngestKind::Kubernetes,
    IngestKind::Nuclei,
    IngestKind::K8sAudit,
    IngestKind::GitlabAudit,
    IngestKind::GithubAuditLog,
];

/// Recognises the format of a file's records.
pub fn kind_of(records: &Records, origin: &str) -> Result<IngestKind> {
    if records.shape == Shape::Csv {
        return Ok(IngestKind::GithubAuditLog);
    }
    if records.first().is_some_and(sigstore::is_trusted_root) {
        return Err(input_error(format!(
            "{origin}: a Sigstore trusted root is not evidence: it lists the authorities that signatures are checked \
             against; pass it as `pipeproof ingest --trusted-root {origin}` instead"
        )));
    }
    if let Some(kind) = DETECTION_ORDER.iter().copied().find(|kind| matches(*kind, records)) {
        return Ok(kind);
    }
    let shape = match records.first() {
        Some(Value::Object(object)) => {
            let keys: Vec<&str> = object.keys().map(String::as_str).take(8).collect();
            format!("an object with keys {}", keys.join(", "))
        }
        Some(other) => format!("a {}", json_type(other)),
        None => "an empty list; a clean Gitleaks run writes one: pass --kind gitleaks with --repo".into(),
    };
    Err(input_error(format!(
        "{origin}: not a recognised evidence format (found {shape}): expected a scanner report, SBOM, attestation, \
         VEX, audit log or deploy event; pass --kind to name the format"
    )))
}

fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "list",
        Value::Object(_) => "object",
    }
}
