//! OSCAL assessment results (NIST OSCAL 1.0.6): one observation per control, linking to the evidence it cited
//! by bundle path and sha256, and one finding per framework requirement an automated control or attestation decided.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::{json, Value};
use uuid::Uuid;

use super::model::{ControlSection, EvidenceRow, RequirementRow};
use super::ReportModel;

/// The OSCAL version whose schema the output validates against.
pub const OSCAL_VERSION: &str = "1.0.6";

/// The namespace of pipeproof's own OSCAL properties.
const PROPERTY_NS: &str = "https://pipeproof.dev/ns/oscal";

/// `assessment-results.json` for the model, as pretty JSON.
pub fn assessment_results(model: &ReportModel) -> Result<Vec<u8>> {
    let namespace = Uuid::new_v5(&Uuid::NAMESPACE_URL, b"https://pipeproof.dev/oscal");
    let document_key = format!("{}|{}|{}", model.organisation, model.evaluation_id, model.evidence_digest);
    let stable_uuid = |name: &str| Uuid::new_v5(&namespace, format!("{document_key}|{name}").as_bytes()).to_string();
    let evidence_by_id = model.evidence_by_id();

    let observations: Vec<Value> = model
        .controls
        .iter()
        .map(|control| observation(control, &evidence_by_id, &model.as_of_iso, stable_uuid(&control.id)))
        .collect();
    let observation_uuid: BTreeMap<&str, String> =
        model.controls.iter().map(|c| (c.id.as_str(), stable_uuid(&c.id))).collect();

    let mut reviewed = Vec::new();
    let mut findings = Vec::new();
    for framework in &model.frameworks {
        for requirement in &framework.requirements {
            let Some(target) = finding_target(requirement) else { continue };
            // A framework with its own OSCAL catalog (NIST SP 800-53) is referenced by that catalog's ids.
            let control_id = match &requirement.oscal_id {
                Some(oscal_id) => token(oscal_id),
                None => token(&format!("{}_{}", framework.id, requirement.id)),
            };
            reviewed.push(json!({ "control-id": control_id }));
            let related: Vec<Value> = requirement
                .controls
                .iter()
                .filter_map(|id| observation_uuid.get(id.as_str()))
                .map(|uuid| json!({ "observation-uuid": uuid }))
                .collect();
            let mut finding = json!({
                "uuid": stable_uuid(&format!("finding|{}|{}", framework.id, requirement.id)),
                "title": format!("{} {}: {}", framework.name, requirement.id, requirement.label),
                "description": finding_description(requirement),
                "props": [
                    property("framework", &framework.id),
                    property("requirement", &requirement.id),
                    property("status", &requirement.status),
                ],
                "target": target_json(control_id, requirement, target),
            });
            if !related.is_empty() {
                finding["related-observations"] = Value::Array(related);
            }
            findings.push(finding);
        }
    }
    let start = model.period_start_iso.clone().unwrap_or_else(|| model.as_of_iso.clone());
    let mut result = json!({
        "uuid": stable_uuid("result"),
        "title": format!("pipeproof evaluation #{}", model.evaluation_id),
        "description": format!(
            "Automated evaluation of {} CI/CD controls for {}{}, from evidence as of {}.",
            model.controls.len(),
            model.organisation,
            model.period.as_ref().map(|p| format!(" over {p}")).unwrap_or_default(),
            model.as_of
        ),
        "start": start,
        "end": model.as_of_iso,
        "props": [
            property("evaluation-id", &model.evaluation_id.to_string()),
            property("catalogue-sha256", &model.catalogue_sha256),
            property("evidence-digest", &model.evidence_digest),
        ],
        "reviewed-controls": {
            "description": "Framework requirements decided by pipeproof's automated controls or by valid attestations; \
                            ids are the framework's own OSCAL ids where it has a catalog (NIST SP 800-53: ac-2, \
                            cm-5.1), else the framework id and the requirement id joined by an underscore.",
            "control-selections": [ control_selection(reviewed) ],
        },
        "remarks": "Requirements that no automated control covers and no attestation decides were not assessed and have no finding.",
    });
    if !observations.is_empty() {
        result["observations"] = Value::Array(observations);
    }
    if !findings.is_empty() {
        result["findings"] = Value::Array(findings);
    }
    let document = json!({
        "assessment-results": {
            "uuid": stable_uuid("assessment-results"),
            "metadata": {
                "title": model.title,
                "last-modified": model.as_of_iso,
                "version": format!("evaluation-{}", model.evaluation_id),
                "oscal-version": OSCAL_VERSION,
                "props": [ property("tool-version", &model.tool_version) ],
            },
            "import-ap": {
                "href": "#",
                "remarks": "pipeproof evaluates its control catalogue continuously from collected evidence; there is no \
                            separate OSCAL assessment plan.",
            },
            "results": [ result ],
        }
    });
    Ok((serde_json::to_string_pretty(&document)? + "\n").into_bytes())
}

/// An OSCAL token (NCName) from any id: characters outside letters, digits, `.`, `-` and `_` become `_`,
/// and a leading non-letter gets a `_` prefix.
fn token(text: &str) -> String {
    let mut out: String =
        text.chars().map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' }).collect();
    if !out.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// A pipeproof property; empty values (which OSCAL forbids) become `none`.
fn property(name: &str, value: &str) -> Value {
    let value = value.trim();
    json!({ "name": name, "ns": PROPERTY_NS, "value": if value.is_empty() { "none" } else { value } })
}

fn control_selection(reviewed: Vec<Value>) -> Value {
    if reviewed.is_empty() {
        json!({ "description": "No requirement was decided." })
    } else {
        json!({ "include-controls": reviewed })
    }
}

/// How a requirement's status maps to OSCAL: (state, reason); `None` when it was not assessed.
fn finding_target(requirement: &RequirementRow) -> Option<(&'static str, &'static str)> {
    match requirement.status.as_str() {
        "pass" | "attested" => Some(("satisfied", "pass")),
        "fail" => Some(("not-satisfied", "fail")),
        "unknown" | "waived" => Some(("not-satisfied", "other")),
        _ => None,
    }
}

fn target_json(control_id: String, requirement: &RequirementRow, (state, reason): (&str, &str)) -> Value {
    json!({
        "type": "objective-id",
        "target-id": control_id,
        "status": {
            "state": state,
            "reason": reason,
            "remarks": format!("pipeproof status: {}", requirement.status_label),
        },
    })
}

fn finding_description(requirement: &RequirementRow) -> String {
    match &requirement.attestation {
        Some(attestation) => format!("{}: {attestation}", requirement.status_label),
        None => format!("{} (controls: {})", requirement.status_label, requirement.controls.join(", ")),
    }
}

fn observation(
    control: &ControlSection,
    evidence_by_id: &BTreeMap<i64, &EvidenceRow>,
    as_of_iso: &str,
    uuid: String,
) -> Value {
    let failing = control.counts.fail;
    let description = format!(
        "{} {}: {} ({} resource(s): {} pass, {} fail, {} unknown, {} waived){}",
        control.id,
        control.title,
        control.status_label,
        control.counts.total(),
        control.counts.pass,
        failing,
        control.counts.unknown,
        control.counts.waived,
        control.error.as_ref().map(|e| format!("; not evaluated: {e}")).unwrap_or_default()
    );
    let mut cited: Vec<&EvidenceRow> = control
        .findings
        .iter()
        .filter_map(|f| f.evidence_id)
        .filter_map(|id| evidence_by_id.get(&id).copied())
        .collect();
    cited.sort_by_key(|e| e.id);
    cited.dedup_by_key(|e| e.id);
    let mut value = json!({
        "uuid": uuid,
        "title": format!("{} {}", control.id, control.title),
        "description": description,
        "props": [
            property("control-id", &control.id),
            property("status", &control.status),
            property("severity", &control.severity),
        ],
        "methods": ["TEST"],
        "types": ["control-objective"],
        "collected": as_of_iso,
    });
    if !cited.is_empty() {
        value["relevant-evidence"] = cited
            .iter()
            .map(|e| {
                json!({
                    "href": e.file,
                    "description": format!("E{} {} {} {} (sha256 {})", e.id, e.source, e.kind, e.subject, e.sha256),
                    "props": [ property("sha256", &e.sha256), property("collected", &e.collected_at_iso) ],
                })
            })
            .collect();
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_ncnames() {
        assert_eq!(token("cis_ssc_1.1.1"), "cis_ssc_1.1.1");
        assert_eq!(token("1.1.1"), "_1.1.1");
        assert_eq!(token("soc2 CC6.1/a"), "soc2_CC6.1_a");
    }

    #[test]
    fn the_same_model_gives_the_same_uuids() {
        let model = crate::report::model::sample_model();
        assert_eq!(assessment_results(&model).unwrap(), assessment_results(&model).unwrap());
    }
}
