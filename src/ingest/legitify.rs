//! Legitify JSON (`legitify analyze -o json`): SCM posture policies and the entities that violate them.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, level_for, severity_word, text};
use crate::facts::{CodeFinding, Facts, Scan};

const TOOL: &str = "Legitify";

/// Whether a document is a Legitify report.
pub fn detect(document: &Value) -> bool {
    document.get("content").is_some_and(Value::is_object)
        && document.get("type").is_some()
        && document
            .get("content")
            .and_then(Value::as_object)
            .is_some_and(|content| content.values().next().is_none_or(|entry| entry.get("policyInfo").is_some()))
}

/// Reads each failed violation as a posture finding; skipped and passed ones are not findings.
pub fn parse(document: &Value, _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("legitify", "legitify-json");
    let content = document.get("content").and_then(Value::as_object).cloned().unwrap_or_default();
    for (policy_name, entry) in &content {
        let info = entry.get("policyInfo").unwrap_or(&Value::Null);
        let severity = severity_word(text(info, "/severity").as_deref());
        for violation in array(entry, "/violations") {
            if text(violation, "/status").is_some_and(|status| status != "FAILED") {
                continue;
            }
            facts.code_findings.push(CodeFinding {
                tool: TOOL.into(),
                tool_version: None,
                rule_id: text(info, "/policyName").or_else(|| Some(policy_name.clone())),
                rule_name: text(info, "/title"),
                level: level_for(&severity),
                security_severity: None,
                message: text(info, "/description"),
                location: first_text(violation, &["/canonicalLink", "/aux/entityName"]),
                fingerprint: None,
                suppressed: false,
            });
        }
    }
    facts.scans.push(Scan {
        category: "code",
        tool: TOOL.into(),
        tool_version: None,
        result_count: facts.code_findings.len(),
        ..Default::default()
    });
    Ok(facts)
}
