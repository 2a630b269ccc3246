//! Checkov JSON (`checkov -o json`): one report or a list of reports (one per framework); failed checks only.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, level_for, number, severity_word, text};
use crate::facts::{CodeFinding, Completion, Facts, Scan};

const TOOL: &str = "Checkov";

/// Whether a document is a Checkov report (or list of reports), or the bare summary Checkov writes when it found
/// nothing to report.
pub fn detect(document: &Value) -> bool {
    let is_report = |value: &Value| value.get("check_type").is_some() && value.get("results").is_some();
    is_report(document)
        || document.as_array().is_some_and(|items| items.first().is_some_and(is_report))
        || is_summary(document)
}

/// Checkov's bare summary (`{"passed": 0, "failed": 0, …, "checkov_version": …}`).
fn is_summary(document: &Value) -> bool {
    document.get("checkov_version").is_some() && document.get("failed").is_some() && document.get("passed").is_some()
}

/// Reads every failed check as a code finding.
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("checkov", "checkov-json");
    if is_summary(document) {
        return Ok(summary_only(document, origin));
    }
    let reports: Vec<&Value> = match document.as_array() {
        Some(items) => items.iter().collect(),
        None => vec![document],
    };
    let version = reports.iter().find_map(|report| text(report, "/summary/checkov_version"));
    let parsing_errors: i64 =
        reports.iter().filter_map(|report| number(report, "/summary/parsing_errors")).map(|n| n as i64).sum();
    for report in reports {
        for check in array(report, "/results/failed_checks") {
            let severity = severity_word(text(check, "/severity").as_deref());
            let lines = array(check, "/file_line_range");
            facts.code_findings.push(CodeFinding {
                tool: TOOL.into(),
                tool_version: version.clone(),
                rule_id: text(check, "/check_id"),
                rule_name: text(check, "/check_name"),
                level: if severity == "unknown" { "warning".into() } else { level_for(&severity) },
                security_severity: None,
                message: first_text(check, &["/resource", "/guideline"]),
                location: text(check, "/file_path").map(|path| match lines.first().and_then(Value::as_i64) {
                    Some(line) => format!("{path}:{line}"),
                    None => path,
                }),
                fingerprint: None,
                suppressed: false,
            });
        }
    }
    let mut scan = Scan {
        category: "code",
        tool: TOOL.into(),
        tool_version: version,
        result_count: facts.code_findings.len(),
        ..Default::default()
    };
    if parsing_errors > 0 {
        scan.mark(Completion::Partial, format!("{parsing_errors} file(s) Checkov could not parse were not checked"));
    }
    facts.scans.push(scan);
    Ok(facts)
}

/// The bare summary: a clean scan when it counts no failed check; one whose failed checks are counted but not
/// listed cannot be judged, so it counts as no scan.
fn summary_only(document: &Value, origin: &str) -> Facts {
    let mut facts = Facts::new("checkov", "checkov-summary");
    let count = |key: &str| number(document, &format!("/{key}")).unwrap_or(0.0) as i64;
    let mut scan = Scan {
        category: "code",
        tool: TOOL.into(),
        tool_version: text(document, "/checkov_version"),
        ..Default::default()
    };
    if count("failed") > 0 {
        scan.mark(
            Completion::Failed,
            format!(
                "the file holds only Checkov's summary: {} failed check(s) are counted but not listed",
                count("failed")
            ),
        );
    }
    if count("parsing_errors") > 0 {
        scan.mark(
            Completion::Partial,
            format!("{} file(s) Checkov could not parse were not checked", count("parsing_errors")),
        );
    }
    if count("resource_count") == 0 && count("failed") == 0 {
        facts.warnings.push(format!("{origin}: Checkov found no resource to check: the clean scan covers nothing"));
    }
    facts.scans.push(scan);
    facts
}
