//! OSCAL Plan of Action and Milestones (NIST OSCAL 1.0.6 POA&M): one item per open finding (a failing, undecided
//! or waived verdict of a control on a resource), each with its observation (the finding as tested, with the
//! evidence it cites) and its risk (open, under investigation when the evidence could not decide, or a deviation
//! approved by a waiver with its approver in the risk log), the remediation the control recommends, a deadline from
//! the control's severity, and the framework requirements it affects. UUIDs derive from the organisation, control
//! and resource, so an item keeps its identity from one evaluation to the next.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::NaiveDateTime;
use serde_json::{json, Value};
use uuid::Uuid;

use super::model::{ControlSection, FindingRow, WaiverRow};
use super::ReportModel;

/// The OSCAL version whose schema the output validates against.
pub const OSCAL_VERSION: &str = "1.0.6";

const PROPERTY_NS: &str = "https://pipeproof.dev/ns/oscal";

/// Days allowed to remediate a finding of each severity (FedRAMP's 30/90/180 days for high, moderate and low;
/// 15 for critical, as CISA's BOD 22-01 asks of known exploited vulnerabilities).
pub fn remediation_days(severity: &str) -> i64 {
    match severity {
        "critical" => 15,
        "high" => 30,
        "medium" => 90,
        _ => 180,
    }
}

fn property(name: &str, value: &str) -> Value {
    let value = value.trim();
    json!({ "name": name, "ns": PROPERTY_NS, "value": if value.is_empty() { "none" } else { value } })
}

/// `poam.json` for the model, as pretty JSON.
pub fn plan_of_action(model: &ReportModel) -> Result<Vec<u8>> {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://pipeproof.dev/oscal/poam");
    let stable = |name: &str| Uuid::new_v5(&namespace, format!("{}|{name}", model.organisation).as_bytes()).to_string();
    let per_run = |name: &str| stable(&format!("evaluation-{}|{name}", model.evaluation_id));
    let tool_uuid = stable("component|pipeproof");
    let as_of = NaiveDateTime::parse_from_str(&model.as_of_iso, "%Y-%m-%dT%H:%M:%SZ")?;
    let evidence = model.evidence_by_id();
    let requirements = requirements_by_control(model);
    let tool_origin = json!([{ "actors": [{ "type": "tool", "actor-uuid": tool_uuid }] }]);

    let mut parties: BTreeMap<String, String> = BTreeMap::new();
    let (mut observations, mut risks, mut items) = (Vec::new(), Vec::new(), Vec::new());
    for control in &model.controls {
        for finding in control.findings.iter().filter(|f| matches!(f.status.as_str(), "fail" | "unknown" | "waived")) {
            let key = format!("{}|{}", control.id, finding.resource);
            let (observation_uuid, risk_uuid) = (stable(&format!("observation|{key}")), stable(&format!("risk|{key}")));
            let cited = finding.evidence_id.and_then(|id| evidence.get(&id));
            let mut observation = json!({
                "uuid": observation_uuid,
                "title": format!("{} on {}", control.id, finding.resource),
                "description": format!("{} {}: {}", control.id, control.title, finding.reason),
                "props": [ property("control-id", &control.id), property("status", &finding.status) ],
                "methods": ["TEST"],
                "types": ["finding"],
                "origins": tool_origin,
                "collected": cited.map(|e| e.collected_at_iso.clone()).unwrap_or_else(|| model.as_of_iso.clone()),
            });
            if let Some(e) = cited {
                observation["relevant-evidence"] = json!([{
                    "href": e.file,
                    "description": format!("E{} {} {} {} (sha256 {})", e.id, e.source, e.kind, e.subject, e.sha256),
                    "props": [ property("sha256", &e.sha256) ],
                }]);
            }
            observations.push(observation);
            risks.push(risk(RiskInput {
                control,
                finding,
                uuid: risk_uuid.clone(),
                observation_uuid: &observation_uuid,
                as_of,
                tool_origin: &tool_origin,
                remediation_uuid: stable(&format!("remediation|{key}")),
                waiver: model.waivers.iter().find(|w| {
                    w.state == "active"
                        && w.control == control.id
                        && crate::glob::matches(&w.resource, &finding.resource)
                }),
                parties: &mut parties,
                party_uuid: &|name: &str| stable(&format!("party|{name}")),
                log_uuid: per_run(&format!("risk-log|{key}")),
            }));
            let mut props = vec![
                property("control-id", &control.id),
                property("resource", &finding.resource),
                property("status", &finding.status),
                property("severity", &control.severity),
            ];
            props.extend(
                requirements.get(control.id.as_str()).into_iter().flatten().map(|r| property("requirement", r)),
            );
            items.push(json!({
                "uuid": stable(&format!("poam-item|{key}")),
                "title": format!("{}: {}", control.id, finding.resource),
                "description": format!("{} ({}): {}", control.title, finding.status_label, finding.reason),
                "props": props,
                "origins": tool_origin,
                "related-observations": [{ "observation-uuid": observation_uuid }],
                "related-risks": [{ "risk-uuid": risk_uuid }],
            }));
        }
    }
    if items.is_empty() {
        items.push(json!({
            "uuid": per_run("poam-item|none"),
            "title": "No open findings",
            "description": format!(
                "Evaluation #{} found no failing, undecided or waived verdict among the controls reported.",
                model.evaluation_id
            ),
            "origins": tool_origin,
        }));
    }
    let mut metadata = json!({
        "title": format!("Plan of action and milestones: {}", model.organisation),
        "last-modified": model.as_of_iso,
        "version": format!("evaluation-{}", model.evaluation_id),
        "oscal-version": OSCAL_VERSION,
        "props": [ property("tool-version", &model.tool_version), property("evidence-digest", &model.evidence_digest) ],
    });
    if !parties.is_empty() {
        metadata["parties"] =
            parties.iter().map(|(name, uuid)| json!({ "uuid": uuid, "type": "person", "name": name })).collect();
    }
    let mut document = json!({
        "uuid": per_run("poam"),
        "metadata": metadata,
        "system-id": { "identifier-type": "https://pipeproof.dev/ns/organisation", "id": model.organisation },
        "local-definitions": {
            "components": [{
                "uuid": tool_uuid,
                "type": "software",
                "title": "pipeproof",
                "description": "Collects CI/CD evidence and evaluates controls written as SQL over it.",
                "props": [ property("version", &model.tool_version) ],
                "status": { "state": "operational" },
            }],
        },
        "poam-items": items,
    });
    if !observations.is_empty() {
        document["observations"] = Value::Array(observations);
        document["risks"] = Value::Array(risks);
    }
    let document = json!({ "plan-of-action-and-milestones": document });
    Ok((serde_json::to_string_pretty(&document)? + "\n").into_bytes())
}

/// Per control, the framework requirements it decides, as `framework requirement`.
fn requirements_by_control(model: &ReportModel) -> BTreeMap<&str, Vec<String>> {
    let mut by_control: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for framework in &model.frameworks {
        for requirement in &framework.requirements {
            for control in &requirement.controls {
                by_control.entry(control.as_str()).or_default().push(format!("{} {}", framework.id, requirement.id));
            }
        }
    }
    by_control
}

struct RiskInput<'a> {
    control: &'a ControlSection,
    finding: &'a FindingRow,
    uuid: String,
    observation_uuid: &'a str,
    as_of: NaiveDateTime,
    tool_origin: &'a Value,
    remediation_uuid: String,
    waiver: Option<&'a WaiverRow>,
    parties: &'a mut BTreeMap<String, String>,
    party_uuid: &'a dyn Fn(&str) -> String,
    log_uuid: String,
}

fn risk(input: RiskInput) -> Value {
    let RiskInput { control, finding, uuid, observation_uuid, as_of, tool_origin, remediation_uuid, waiver, .. } =
        input;
    let status = match (finding.status.as_str(), waiver) {
        ("waived", Some(_)) => "deviation-approved",
        ("unknown", _) => "investigating",
        _ => "open",
    };
    let days = remediation_days(&control.severity);
    let mut risk = json!({
        "uuid": uuid,
        "title": format!("{} not met on {}", control.id, finding.resource),
        "description": control.statement,
        "statement": finding.reason,
        "props": [ property("severity", &control.severity) ],
        "status": status,
        "origins": tool_origin,
        "characterizations": [{
            "origin": tool_origin[0],
            "facets": [{ "name": "severity", "system": PROPERTY_NS, "value": control.severity }],
        }],
        "deadline": (as_of + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "remediations": [{
            "uuid": remediation_uuid,
            "lifecycle": "recommendation",
            "title": format!("Remediate {} within {days} days ({} severity)", control.id, control.severity),
            "description": control.remediation,
            "origins": tool_origin,
        }],
        "related-observations": [{ "observation-uuid": observation_uuid }],
    });
    if let (Some(waiver), "deviation-approved") = (waiver, status) {
        let party = (input.party_uuid)(&waiver.approver);
        input.parties.insert(waiver.approver.clone(), party.clone());
        let mut entry = json!({
            "uuid": input.log_uuid,
            "title": "Risk accepted by a waiver",
            "description": format!(
                "Waiver {} approved by {}{}: {}. {}",
                waiver.entry,
                waiver.approver,
                if waiver.ticket.is_empty() { String::new() } else { format!(" ({})", waiver.ticket) },
                waiver.justification,
                finding.waiver.clone().unwrap_or_default()
            ),
            "start": as_of.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "logged-by": [{ "party-uuid": party }],
            "status-change": "deviation-approved",
        });
        if !waiver.ticket.is_empty() {
            entry["props"] = json!([property("ticket", &waiver.ticket)]);
        }
        risk["risk-log"] = json!({ "entries": [entry] });
    }
    risk
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_keep_their_identity_and_the_output_is_deterministic() {
        let model = crate::report::model::sample_model();
        let first = plan_of_action(&model).unwrap();
        assert_eq!(first, plan_of_action(&model).unwrap());
        let document: Value = serde_json::from_slice(&first).unwrap();
        let items = document["plan-of-action-and-milestones"]["poam-items"].as_array().unwrap();
        let titles: Vec<&str> = items.iter().map(|i| i["title"].as_str().unwrap()).collect();
        assert!(titles.contains(&"SRC-05: o/a") && titles.contains(&"SRC-06: o/b"), "{titles:?}");
        let mut later = model.clone();
        later.evaluation_id += 1;
        let again: Value = serde_json::from_slice(&plan_of_action(&later).unwrap()).unwrap();
        assert_eq!(items[0]["uuid"], again["plan-of-action-and-milestones"]["poam-items"][0]["uuid"]);
        let risks = document["plan-of-action-and-milestones"]["risks"].as_array().unwrap();
        let statuses: Vec<&str> = risks.iter().map(|r| r["status"].as_str().unwrap()).collect();
        assert_eq!(statuses, ["open", "investigating"], "a failing finding is open, an undecided one investigated");
    }
}
