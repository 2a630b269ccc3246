//! SARIF 2.1.0 of the failing findings, for code-scanning UIs: one rule per control, one result per failing resource.

use anyhow::Result;
use serde_json::{json, Value};

use super::ReportModel;
use crate::store::sha256_hex;

/// What a code-scanning UI shows as the file of a finding that is about a setting, not a file. GitHub's upload needs
/// a physical location; this is the convention OpenSSF Scorecard uses. The resource itself is the logical location.
const NO_FILE: &str = "no file associated with this finding";

/// `report.sarif`: every failing finding, with its control as the rule.
pub fn failing_findings(model: &ReportModel) -> Result<Vec<u8>> {
    let rules: Vec<Value> = model
        .controls
        .iter()
        .map(|control| {
            let tags: Vec<String> = control.mappings.iter().map(|m| m.framework_id.clone()).collect();
            json!({
                "id": control.id,
                "name": control.id.replace('-', ""),
                "shortDescription": { "text": control.title },
                "fullDescription": { "text": control.statement },
                "help": { "text": format!("{}\n\nWhy it matters: {}", control.remediation, control.rationale) },
                "defaultConfiguration": { "level": level(&control.severity) },
                "properties": {
                    "tags": tags,
                    "severity": control.severity,
                    "domain": control.domain,
                    "mappings": control.mappings.iter().map(|m| format!("{}: {}", m.framework, m.requirements)).collect::<Vec<_>>(),
                },
            })
        })
        .collect();
    let evidence_by_id = model.evidence_by_id();
    let mut results = Vec::new();
    for (index, control) in model.controls.iter().enumerate() {
        for finding in control.findings.iter().filter(|f| f.status == "fail") {
            let evidence = finding.evidence_id.and_then(|id| evidence_by_id.get(&id));
            let mut properties = json!({ "resource": finding.resource });
            if let Some(evidence) = evidence {
                properties["evidence"] =
                    json!({ "id": format!("E{}", evidence.id), "sha256": evidence.sha256, "file": evidence.file });
            }
            results.push(json!({
                "ruleId": control.id,
                "ruleIndex": index,
                "level": level(&control.severity),
                "message": { "text": format!("{}: {}", finding.resource, finding.reason) },
                "locations": [{
                    "physicalLocation": { "artifactLocation": { "uri": NO_FILE }, "region": { "startLine": 1 } },
                    "logicalLocations": [{ "fullyQualifiedName": finding.resource, "kind": "resource" }],
                }],
                "partialFingerprints": {
                    "pipeproofFinding/v1": sha256_hex(format!("{}\n{}", control.id, finding.resource).as_bytes()),
                },
                "properties": properties,
            }));
        }
    }
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "pipeproof",
                "version": model.tool_version,
                "informationUri": "https://pipeproof.dev",
                "rules": rules,
            }},
            "automationDetails": { "id": format!("pipeproof/evaluation-{}", model.evaluation_id) },
            "invocations": [{ "executionSuccessful": true, "endTimeUtc": model.as_of_iso }],
            "results": results,
        }],
    });
    Ok((serde_json::to_string_pretty(&document)? + "\n").into_bytes())
}

/// SARIF's level for a control's severity.
fn level(severity: &str) -> &'static str {
    match severity {
        "critical" | "high" => "error",
        "medium" => "warning",
        _ => "note",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_failing_findings_become_results() {
        let model = crate::report::model::sample_model();
        let sarif: Value = serde_json::from_slice(&failing_findings(&model).unwrap()).unwrap();
        let results = sarif["runs"][0]["results"].as_array().unwrap();
        assert_eq!(results.len(), 1, "the sample model has one failing finding");
        assert_eq!(results[0]["ruleId"], "SRC-05");
        let index = results[0]["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(sarif["runs"][0]["tool"]["driver"]["rules"][index]["id"], "SRC-05");
        assert_eq!(results[0]["locations"][0]["logicalLocations"][0]["fullyQualifiedName"], "o/a");
    }
}
