//! OSCAL Plan of Action and Milestones (NIST OSCAL 1.0.6 POA&M): one item per open finding (a failing, undecided
//! or waived verdict of a control on a resource), each with its observation (the finding as tested, with the
//! evidence it cites) and the risk it belongs to. Risks are shared by the findings of one control that stand the
//! same way: `open` (failing), `investigating` (the evidence could not decide) or `deviation-approved` (one per
//! waiver, its approver a party in the risk log), each with the remediation the control recommends, a deadline from
//! the control's severity and the framework requirements the control decides. UUIDs derive from the organisation,
//! control and resource, so an item keeps its identity from one evaluation to the next.
//!
//! The document is written element by element, one array element per line, so its size and memory grow linearly
//! with the findings (about 1 KB per open finding) rather than with a tree of every value.

use std::collections::BTreeMap;
use std::io::Write;

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

/// How a group of a control's open findings stands.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Standing {
    Failing,
    Undecided,
    /// Accepted by the waiver with this entry number.
    Waived(usize),
}

/// The waiver in force that covers a finding.
fn waiver_of<'a>(model: &'a ReportModel, control: &str, finding: &FindingRow) -> Option<&'a WaiverRow> {
    model
        .waivers
        .iter()
        .find(|w| w.state == "active" && w.control == control && crate::glob::matches(&w.resource, &finding.resource))
}

fn standing(model: &ReportModel, control: &str, finding: &FindingRow) -> Option<Standing> {
    match finding.status.as_str() {
        "fail" => Some(Standing::Failing),
        "unknown" => Some(Standing::Undecided),
        "waived" => {
            Some(waiver_of(model, control, finding).map(|w| Standing::Waived(w.entry)).unwrap_or(Standing::Undecided))
        }
        _ => None,
    }
}

/// Writes `poam.json` for the model.
pub fn plan_of_action(model: &ReportModel) -> Result<Vec<u8>> {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://pipeproof.dev/oscal/poam");
    let stable = |name: &str| Uuid::new_v5(&namespace, format!("{}|{name}", model.organisation).as_bytes()).to_string();
    let per_run = |name: &str| stable(&format!("evaluation-{}|{name}", model.evaluation_id));
    let tool_uuid = stable("component|pipeproof");
    let as_of = NaiveDateTime::parse_from_str(&model.as_of_iso, "%Y-%m-%dT%H:%M:%SZ")?;
    let evidence = model.evidence_by_id();
    let requirements = requirements_by_control(model);
    let tool_origin = json!([{ "actors": [{ "type": "tool", "actor-uuid": tool_uuid }] }]);
    let open: Vec<(&ControlSection, &FindingRow, Standing)> = model
        .controls
        .iter()
        .flat_map(|c| c.findings.iter().filter_map(move |f| standing(model, &c.id, f).map(|s| (c, f, s))))
        .collect();
    let key = |control: &ControlSection, finding: &FindingRow| format!("{}|{}", control.id, finding.resource);
    let risk_uuid = |control: &ControlSection, standing: Standing| {
        stable(&match standing {
            Standing::Failing => format!("risk|{}|open", control.id),
            Standing::Undecided => format!("risk|{}|investigating", control.id),
            Standing::Waived(entry) => format!("risk|{}|waiver-{entry}", control.id),
        })
    };

    let mut risks: BTreeMap<String, Value> = BTreeMap::new();
    let mut parties: BTreeMap<String, String> = BTreeMap::new();
    for &(control, finding, standing) in &open {
        let uuid = risk_uuid(control, standing);
        if risks.contains_key(&uuid) {
            continue;
        }
        let waiver = match standing {
            Standing::Waived(_) => waiver_of(model, &control.id, finding),
            _ => None,
        };
        let risk = risk(RiskInput {
            control,
            standing,
            uuid: uuid.clone(),
            as_of,
            tool_origin: &tool_origin,
            remediation_uuid: stable(&format!("remediation|{uuid}")),
            waiver,
            requirements: requirements.get(control.id.as_str()).map(Vec::as_slice).unwrap_or_default(),
            parties: &mut parties,
            party_uuid: &|name: &str| stable(&format!("party|{name}")),
            log_uuid: per_run(&format!("risk-log|{uuid}")),
        });
        risks.insert(uuid, risk);
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
    let head = json!({
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
    });

    let mut out = Vec::with_capacity(1024 * (open.len() + 4));
    // The head object, left open for the arrays that follow it.
    let mut head = serde_json::to_string(&head)?;
    head.pop();
    write!(out, "{{\"plan-of-action-and-milestones\":{head},")?;
    let observations = open.iter().map(|&(control, finding, _)| {
        let cited = finding.evidence_id.and_then(|id| evidence.get(&id));
        let mut observation = json!({
            "uuid": stable(&format!("observation|{}", key(control, finding))),
            "description": format!("{} on {}: {}", control.id, finding.resource, finding.reason),
            "methods": ["TEST"],
            "types": ["finding"],
            "collected": cited.map(|e| e.collected_at_iso.as_str()).unwrap_or(&model.as_of_iso),
        });
        if let Some(e) = cited {
            observation["relevant-evidence"] =
                json!([{ "href": e.file, "description": format!("E{} {} (sha256 {})", e.id, e.kind, e.sha256) }]);
        }
        observation
    });
    if !open.is_empty() {
        write_array(&mut out, "observations", observations)?;
        out.push(b',');
        write_array(&mut out, "risks", risks.into_values())?;
        out.push(b',');
    }
    let items = open.iter().map(|&(control, finding, standing)| {
        json!({
            "uuid": stable(&format!("poam-item|{}", key(control, finding))),
            "title": format!("{}: {}", control.id, finding.resource),
            "description": format!("{} ({}): {}", control.title, finding.status_label, finding.reason),
            "props": [
                property("control-id", &control.id),
                property("resource", &finding.resource),
                property("status", &finding.status),
            ],
            "related-observations": [{ "observation-uuid": stable(&format!("observation|{}", key(control, finding))) }],
            "related-risks": [{ "risk-uuid": risk_uuid(control, standing) }],
        })
    });
    if open.is_empty() {
        let none = json!({
            "uuid": per_run("poam-item|none"),
            "title": "No open findings",
            "description": format!(
                "Evaluation #{} found no failing, undecided or waived verdict among the controls reported.",
                model.evaluation_id
            ),
            "origins": tool_origin,
        });
        write_array(&mut out, "poam-items", std::iter::once(none))?;
    } else {
        write_array(&mut out, "poam-items", items)?;
    }
    out.extend_from_slice(b"}}\n");
    Ok(out)
}

/// Writes `"name":[` then each element on a line of its own, then `]`.
fn write_array(out: &mut Vec<u8>, name: &str, elements: impl Iterator<Item = Value>) -> Result<()> {
    write!(out, "\n\"{name}\":[")?;
    for (index, element) in elements.enumerate() {
        out.extend_from_slice(if index == 0 { b"\n" } else { b",\n" });
        serde_json::to_writer(&mut *out, &element)?;
    }
    out.extend_from_slice(b"\n]");
    Ok(())
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
    standing: Standing,
    uuid: String,
    as_of: NaiveDateTime,
    tool_origin: &'a Value,
    remediation_uuid: String,
    waiver: Option<&'a WaiverRow>,
    requirements: &'a [String],
    parties: &'a mut BTreeMap<String, String>,
    party_uuid: &'a dyn Fn(&str) -> String,
    log_uuid: String,
}

fn risk(input: RiskInput) -> Value {
    let RiskInput { control, standing, uuid, as_of, tool_origin, remediation_uuid, waiver, requirements, .. } = input;
    let (status, title) = match standing {
        Standing::Failing => ("open", format!("{} {} does not hold", control.id, control.title)),
        Standing::Undecided => ("investigating", format!("{} {} could not be decided", control.id, control.title)),
        Standing::Waived(entry) => {
            ("deviation-approved", format!("{} {}: risk accepted by waiver {entry}", control.id, control.title))
        }
    };
    let days = remediation_days(&control.severity);
    let mut props = vec![property("control-id", &control.id), property("severity", &control.severity)];
    props.extend(requirements.iter().map(|r| property("requirement", r)));
    let mut risk = json!({
        "uuid": uuid,
        "title": title,
        "description": control.statement,
        "statement": control.rationale,
        "props": props,
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
    });
    if let Some(waiver) = waiver {
        let party = (input.party_uuid)(&waiver.approver);
        input.parties.insert(waiver.approver.clone(), party.clone());
        let mut entry = json!({
            "uuid": input.log_uuid,
            "title": "Risk accepted by a waiver",
            "description": format!(
                "Waiver {} approved by {}{} for {}: {}",
                waiver.entry,
                waiver.approver,
                if waiver.ticket.is_empty() { String::new() } else { format!(" ({})", waiver.ticket) },
                waiver.resource,
                waiver.justification
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
        let mut statuses: Vec<&str> = risks.iter().map(|r| r["status"].as_str().unwrap()).collect();
        statuses.sort_unstable();
        assert_eq!(statuses, ["investigating", "open"], "a failing finding is open, an undecided one investigated");
    }
}
