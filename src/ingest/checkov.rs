//! Checkov JSON (`checkov -o json`): one report or a list of reports (one per framework); failed checks only.

use anyhow::Result;
use serde_json::Value;

use super::facts::{CodeFinding, Facts, Scan};
use super::json::{array, first_text, level_for, severity_word, text};

const TOOL: &str = "Checkov";

/// Whether a document is a Checkov report (or list of reports).
pub fn detect(document: &Value) -> bool {
    let is_report = |value: &Value| value.get("check_type").is_some() && value.get("results").is_some();
    is_report(document) || document.as_array().is_some_and(|items| items.first().is_some_and(is_report))
}

/// Reads every failed check as a code finding.
pub fn parse(document: &Value, _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("checkov", "checkov-json");
    let reports: Vec<&Value> = match document.as_array() {
        Some(items) => items.iter().collect(),
        None => vec![document],
    };
    let version = reports.iter().find_map(|report| text(report, "/summary/checkov_version"));
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
    facts.scans.push(Scan {
        category: "code",
        tool: TOOL.into(),
        tool_version: version,
        result_count: facts.code_findings.len(),
    });
    Ok(facts)
}
