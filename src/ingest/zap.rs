//! OWASP ZAP JSON reports (`-J report.json`): one finding per alert and affected URL.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, text, time};
use crate::facts::{DastFinding, Facts, Scan};

const TOOL: &str = "OWASP ZAP";

/// Whether a document is a ZAP report.
pub fn detect(document: &Value) -> bool {
    document.get("site").is_some_and(Value::is_array) && document.get("@version").is_some()
}

/// Reads every alert instance; risk codes 0–3 become negligible, low, medium, high.
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("zap", "zap-json");
    let version = text(document, "/@version");
    // `@created` (ISO, newer ZAP) or `@generated` (RFC 2822 style, the ZAP host's clock): an old scan must not
    // look fresh because its report was ingested today.
    facts.document_time = time(document, "/@created").or_else(|| time(document, "/@generated"));
    if facts.document_time.is_none() {
        facts.warnings.push(format!(
            "{origin}: the report does not say when ZAP ran (@created, @generated): its age counts from this ingest"
        ));
    }
    for site in array(document, "/site") {
        facts.subject = facts.subject.take().or_else(|| text(site, "/@name"));
        for alert in array(site, "/alerts") {
            let severity = match text(alert, "/riskcode").as_deref() {
                Some("3") => "high",
                Some("2") => "medium",
                Some("1") => "low",
                Some("0") => "negligible",
                _ => "unknown",
            };
            let instances = array(alert, "/instances");
            let urls: Vec<Option<String>> = if instances.is_empty() {
                vec![text(site, "/@name")]
            } else {
                instances.iter().map(|instance| text(instance, "/uri")).collect()
            };
            for url in urls {
                facts.dast_findings.push(DastFinding {
                    scanner: TOOL.into(),
                    rule_id: first_text(alert, &["/pluginid", "/alertRef"]).unwrap_or_else(|| "unknown".into()),
                    title: first_text(alert, &["/name", "/alert"]),
                    severity: severity.into(),
                    url,
                });
            }
        }
    }
    facts.scans.push(Scan {
        category: "dast",
        tool: TOOL.into(),
        tool_version: version,
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
    fn each_alert_instance_is_a_finding_with_its_risk() {
        let report = json!({"@version": "2.14.0", "@generated": "Tue, 1 Aug 2026 10:00:00",
            "site": [{"@name": "https://app.example.com", "alerts": [
                {"pluginid": "10038", "alert": "Content Security Policy Header Not Set", "riskcode": "2",
                 "instances": [{"uri": "https://app.example.com/"}, {"uri": "https://app.example.com/login"}]},
                {"pluginid": "10096", "name": "Timestamp Disclosure", "riskcode": "0", "instances": []}]}]});
        assert!(detect(&report));
        let facts = parse(&report, "zap.json").unwrap();
        let found: Vec<(&str, &str, Option<&str>)> =
            facts.dast_findings.iter().map(|f| (f.rule_id.as_str(), f.severity.as_str(), f.url.as_deref())).collect();
        assert_eq!(
            found,
            [
                ("10038", "medium", Some("https://app.example.com/")),
                ("10038", "medium", Some("https://app.example.com/login")),
                ("10096", "negligible", Some("https://app.example.com")),
            ]
        );
        assert_eq!(facts.subject.as_deref(), Some("https://app.example.com"));
        assert_eq!(facts.scans[0].result_count, 3);
    }
}
