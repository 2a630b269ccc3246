//! Grype JSON (`grype -o json`), current schema and the legacy 0.7 schema (`cvssV2`, `fixedInVersion`).

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, number, severity_word, text, time};
use crate::facts::{Facts, Scan, Vulnerability};

const TOOL: &str = "Grype";

/// Whether a document is a Grype report.
pub fn detect(document: &Value) -> bool {
    document.get("matches").is_some_and(Value::is_array)
        && (document.get("descriptor").is_some() || document.get("source").is_some())
}

/// Reads the matches into vulnerabilities.
pub fn parse(document: &Value, _origin: &str) -> Result<Facts> {
    let version = text(document, "/descriptor/version").filter(|version| version != "[not provided]");
    let legacy = is_legacy(document);
    let mut facts = Facts::new("grype", if legacy { "grype-json-legacy" } else { "grype-json" });
    facts.subject = match document.pointer("/source/target") {
        Some(Value::String(target)) => Some(target.clone()),
        Some(target) => first_text(target, &["/userInput", "/path", "/name"]),
        None => None,
    };
    facts.artifact_type = match text(document, "/source/type").as_deref() {
        Some("image") => Some("image"),
        Some("directory" | "file") => Some("filesystem"),
        Some("sbom") => Some("sbom"),
        _ => None,
    };
    facts.document_time = time(document, "/descriptor/timestamp");
    let found = array(document, "/matches");
    facts.scans.push(Scan {
        category: "vulnerability",
        tool: TOOL.into(),
        tool_version: version,
        result_count: found.len(),
        ..Default::default()
    });
    facts.vulnerabilities = found.iter().map(from_match).collect();
    Ok(facts)
}

/// Whether the report uses the legacy 0.7 vulnerability fields.
fn is_legacy(document: &Value) -> bool {
    document.pointer("/descriptor/version").and_then(Value::as_str).is_some_and(|v| v.starts_with("0.7."))
        || document.pointer("/matches/0/vulnerability/cvssV2").is_some()
}

fn from_match(item: &Value) -> Vulnerability {
    let vulnerability = item.get("vulnerability").unwrap_or(&Value::Null);
    let artifact = item.get("artifact").unwrap_or(&Value::Null);
    let cvss = array(vulnerability, "/cvss")
        .iter()
        .filter_map(|entry| number(entry, "/metrics/baseScore"))
        .chain(["/cvssV3/baseScore", "/cvssV2/baseScore"].iter().filter_map(|p| number(vulnerability, p)))
        .reduce(f64::max);
    let fixed_version = array(vulnerability, "/fix/versions")
        .first()
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| text(vulnerability, "/fixedInVersion"));
    let status = match text(vulnerability, "/fix/state").as_deref() {
        Some("wont-fix") => Some("wont-fix"),
        _ => None,
    };
    let mut aliases: Vec<String> =
        array(item, "/relatedVulnerabilities").iter().filter_map(|related| text(related, "/id")).collect();
    aliases.sort();
    aliases.dedup();
    Vulnerability {
        scanner: TOOL.into(),
        target: array(artifact, "/locations").first().and_then(|location| text(location, "/path")),
        package: text(artifact, "/name"),
        version: text(artifact, "/version"),
        purl: text(artifact, "/purl"),
        vuln_id: text(vulnerability, "/id").unwrap_or_default(),
        aliases,
        severity: severity_word(text(vulnerability, "/severity").as_deref()),
        cvss,
        fixed_version,
        status: "affected".into(),
        justification: status.map(str::to_string),
    }
}
