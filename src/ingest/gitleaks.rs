//! Gitleaks JSON (`gitleaks detect -f json`): leaked secrets, recorded without the secret or the matched text.

use anyhow::Result;
use serde_json::Value;

use super::json::{number, text};
use crate::facts::{Facts, Scan, SecretFinding};

const TOOL: &str = "Gitleaks";

/// Whether a document is a Gitleaks report (a list of findings with `RuleID` and `File`).
pub fn detect(document: &Value) -> bool {
    document.as_array().is_some_and(|items| {
        items.first().is_some_and(|first| first.get("RuleID").is_some() && first.get("File").is_some())
    })
}

/// Reads each finding; `Secret` and `Match` are never stored (only checked for redaction).
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("gitleaks", "gitleaks-json");
    for item in document.as_array().map(Vec::as_slice).unwrap_or_default() {
        let rule_id = text(item, "/RuleID").unwrap_or_else(|| "unknown".into());
        let file = text(item, "/File");
        let line = number(item, "/StartLine").map(|line| line as i64);
        let commit = text(item, "/Commit");
        facts.secret_findings.push(SecretFinding {
            scanner: TOOL.into(),
            rule_id: rule_id.clone(),
            title: text(item, "/Description"),
            severity: "high".into(),
            file: file.clone(),
            line,
            commit_sha: commit.clone(),
            fingerprint: text(item, "/Fingerprint").or_else(|| {
                Some(format!(
                    "{}:{}:{rule_id}:{}",
                    commit.unwrap_or_default(),
                    file.unwrap_or_default(),
                    line.unwrap_or_default()
                ))
            }),
        });
    }
    let unredacted = document
        .as_array()
        .is_some_and(|items| items.iter().any(|item| text(item, "/Secret").is_some_and(|secret| secret != "REDACTED")));
    if unredacted {
        facts.warnings.push(format!(
            "{origin}: the report holds the secrets themselves (the Secret field): pipeproof records only where they \
             are, but keeps the file as evidence and puts it in bundles; run gitleaks with --redact"
        ));
    }
    facts.scans.push(Scan {
        category: "secret",
        tool: TOOL.into(),
        tool_version: None,
        result_count: facts.secret_findings.len(),
        ..Default::default()
    });
    Ok(facts)
}
