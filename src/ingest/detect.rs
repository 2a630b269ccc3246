//! Recognising an evidence file's format from its content: one JSON document, JSON Lines, or a CSV export.

use anyhow::Result;
use serde_json::Value;

use super::audit_log::{self, AuditSource};
use super::formats::{self, Detect, IngestKind};
use super::json::{is_blank, looks_like_lines, parse_document, parse_lines, without_bom};
use super::sigstore;
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
    formats::format(kind).expected
}

/// The audit-log source a kind reads.
pub fn audit_source(kind: IngestKind) -> AuditSource {
    match kind {
        IngestKind::K8sAudit => AuditSource::Kubernetes,
        IngestKind::GitlabAudit => AuditSource::Gitlab,
        _ => AuditSource::Github,
    }
}

fn matches(kind: IngestKind, records: &Records) -> bool {
    match formats::format(kind).detect {
        Detect::Document(test) => records.document().is_some_and(test),
        Detect::FirstRecord(test) => records.first().is_some_and(test),
        Detect::KindOnly => true,
    }
}

/// Checks that content has the shape of a forced `--kind`.
pub fn check_kind(kind: IngestKind, records: &Records, origin: &str) -> Result<()> {
    if kind == IngestKind::Sarif || matches(kind, records) {
        return Ok(());
    }
    Err(input_error(format!("{origin}: the content does not match --kind: expected {}", expected(kind))))
}

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
    let detected = formats::FORMATS.iter().filter(|format| !matches!(format.detect, Detect::KindOnly));
    if let Some(format) = detected.into_iter().find(|format| matches(format.kind, records)) {
        return Ok(format.kind);
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
