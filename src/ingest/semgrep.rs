//! Semgrep JSON (`semgrep --json`): results with rule, path, line and severity.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, level_for, severity_word, text};
use crate::facts::{CodeFinding, Completion, Facts, Scan};

const TOOL: &str = "Semgrep";

/// Whether a document is a Semgrep report.
pub fn detect(document: &Value) -> bool {
    document.get("results").is_some_and(Value::is_array)
        && document.get("errors").is_some_and(Value::is_array)
        && array(document, "/results").first().is_none_or(|result| result.get("check_id").is_some())
}

/// Reads the results as code findings.
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("semgrep", "semgrep-json");
    let version = text(document, "/version");
    for result in array(document, "/results") {
        let severity = severity_word(text(result, "/extra/severity").as_deref());
        facts.code_findings.push(CodeFinding {
            tool: TOOL.into(),
            tool_version: version.clone(),
            rule_id: text(result, "/check_id"),
            rule_name: None,
            level: level_for(&severity),
            security_severity: None,
            message: text(result, "/extra/message"),
            location: text(result, "/path").map(|path| match text(result, "/start/line") {
                Some(line) => format!("{path}:{line}"),
                None => path,
            }),
            fingerprint: text(result, "/extra/fingerprint").filter(|f| f != "requires login"),
            suppressed: result.pointer("/extra/is_ignored").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    if facts.code_findings.is_empty() && array(document, "/paths/scanned").is_empty() {
        facts.warnings.push(format!(
            "{origin}: the report has no results and lists no scanned paths: it does not show that Semgrep scanned anything"
        ));
    }
    let mut scan = Scan {
        category: "code",
        tool: TOOL.into(),
        tool_version: version,
        result_count: facts.code_findings.len(),
        ..Default::default()
    };
    // Semgrep goes on past a file it cannot parse or a rule that times out on one file (those errors name a path);
    // an error naming no file (an invalid rule, a configuration it cannot load) stops the whole run.
    let errors: Vec<&Value> = array(document, "/errors")
        .iter()
        .filter(|error| text(error, "/level").is_none_or(|level| level == "error"))
        .collect();
    let message = |error: &Value| -> String {
        let text = text(error, "/message").or_else(|| text(error, "/type")).unwrap_or_else(|| "no message".into());
        text.chars().take(200).collect()
    };
    let (files, run): (Vec<&Value>, Vec<&Value>) =
        errors.into_iter().partition(|error| error.get("path").is_some() || error.get("spans").is_some());
    if let Some(first) = run.first() {
        scan.mark(Completion::Failed, format!("{} error(s) stopped the run, the first: {}", run.len(), message(first)));
    }
    if let Some(first) = files.first() {
        let path = text(first, "/path").unwrap_or_default();
        scan.mark(
            Completion::Partial,
            format!("{} file(s) not analysed, the first {path}: {}", files.len(), message(first)),
        );
    }
    facts.scans.push(scan);
    Ok(facts)
}
