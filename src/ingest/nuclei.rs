//! Nuclei JSON Lines (`nuclei -jsonl`) or JSON array (`-json-export`): one finding per matched template.

use anyhow::Result;
use serde_json::Value;

use super::json::{first_text, severity_word, text, time};
use crate::facts::{DastFinding, Facts, Scan};

const TOOL: &str = "Nuclei";

/// Whether a record is a Nuclei result.
pub fn detect(record: &Value) -> bool {
    record.get("template-id").is_some() && record.get("info").is_some()
}

/// Reads each result.
pub fn parse(records: &[(usize, Value)], _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("nuclei", "nuclei-jsonl");
    for (_, record) in records {
        facts.subject = facts.subject.take().or_else(|| text(record, "/host"));
        facts.document_time = facts.document_time.or_else(|| time(record, "/timestamp"));
        facts.dast_findings.push(DastFinding {
            scanner: TOOL.into(),
            rule_id: text(record, "/template-id").unwrap_or_else(|| "unknown".into()),
            title: text(record, "/info/name"),
            severity: severity_word(text(record, "/info/severity").as_deref()),
            url: first_text(record, &["/matched-at", "/url", "/host"]),
        });
    }
    facts.scans.push(Scan {
        category: "dast",
        tool: TOOL.into(),
        tool_version: None,
        result_count: facts.dast_findings.len(),
        ..Default::default()
    });
    Ok(facts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_result_is_a_finding() {
        let records = vec![
            (
                1,
                json!({"template-id": "git-config", "info": {"name": "Git Config Disclosure", "severity": "medium"},
                       "host": "https://app.example.com", "matched-at": "https://app.example.com/.git/config",
                       "timestamp": "2026-08-01T10:00:00.123456789Z"}),
            ),
            (
                2,
                json!({"template-id": "tech-detect", "info": {"name": "Wappalyzer", "severity": "info"},
                       "host": "https://app.example.com"}),
            ),
        ];
        assert!(detect(&records[0].1));
        let facts = parse(&records, "nuclei.jsonl").unwrap();
        assert_eq!(facts.dast_findings.len(), 2);
        assert_eq!(facts.dast_findings[0].url.as_deref(), Some("https://app.example.com/.git/config"));
        assert_eq!(facts.dast_findings[1].severity, "negligible");
        assert_eq!(facts.document_time.map(|t| t.to_string()).as_deref(), Some("2026-08-01 10:00:00.123456789"));
    }
}
