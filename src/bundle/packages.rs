//! Each framework's own package inside a bundle, `frameworks/<id>/`: its summary as JSON (levels per repository,
//! the sections of an attestation form, indicator validations, releases), and for a framework summarised by
//! sections (the CISA attestation form) a checklist for the signing official with, per item, the evidence files in
//! the bundle that support it. pipeproof prepares what the signer needs; it never signs the form.

use std::collections::BTreeSet;

use anyhow::Result;
use serde_json::json;

use crate::report::model::{FrameworkSection, ReportModel};

/// The package files of every framework with its own summary, as (bundle path, bytes).
pub fn framework_packages(model: &ReportModel) -> Result<Vec<(String, Vec<u8>)>> {
    let mut files = Vec::new();
    for framework in &model.frameworks {
        let summary = match framework.summary.as_str() {
            "levels" => json!({ "levels": framework.levels }),
            "sections" => json!({ "sections": sections_with_evidence(model, framework) }),
            "indicators" => json!({ "indicators": framework.indicators }),
            "releases" => json!({ "releases": framework.releases }),
            _ => continue,
        };
        let document = json!({
            "framework": framework.id,
            "name": framework.name,
            "version": framework.version,
            "organisation": model.organisation,
            "evaluation_id": model.evaluation_id,
            "as_of": model.as_of_iso,
            "period": model.period,
            "summary": summary,
        });
        let dir = format!("frameworks/{}", framework.id);
        files.push((format!("{dir}/summary.json"), (serde_json::to_string_pretty(&document)? + "\n").into_bytes()));
        if framework.summary == "sections" {
            files.push((format!("{dir}/signer-checklist.md"), checklist(model, framework).into_bytes()));
        }
    }
    Ok(files)
}

/// The bundle files of the evidence the controls deciding a requirement cite.
fn evidence_files(model: &ReportModel, controls: &[String]) -> Vec<String> {
    let ids: BTreeSet<i64> = model
        .controls
        .iter()
        .filter(|c| controls.contains(&c.id))
        .flat_map(|c| c.findings.iter().filter_map(|f| f.evidence_id))
        .collect();
    model.evidence.iter().filter(|e| ids.contains(&e.id)).map(|e| e.file.clone()).collect()
}

fn sections_with_evidence(model: &ReportModel, framework: &FrameworkSection) -> serde_json::Value {
    let sections: Vec<serde_json::Value> = framework
        .sections
        .iter()
        .map(|section| {
            let items: Vec<serde_json::Value> = section
                .items
                .iter()
                .map(|item| {
                    let controls = framework
                        .requirements
                        .iter()
                        .find(|r| r.id == item.requirement)
                        .map(|r| r.controls.clone())
                        .unwrap_or_default();
                    let mut value = serde_json::to_value(item).unwrap_or_default();
                    value["evidence_files"] = json!(evidence_files(model, &controls));
                    value
                })
                .collect();
            json!({ "section": section.section, "state": section.state, "state_label": section.state_label, "items": items })
        })
        .collect();
    json!(sections)
}

fn checklist(model: &ReportModel, framework: &FrameworkSection) -> String {
    let mut out = format!(
        "# {} — what the signing official needs\n\n{} · evaluation #{} · evidence as of {}{}\n\n\
         pipeproof prepared this package from the evidence in this bundle. It does not sign the form and does not \
         attest on anyone's behalf. Items marked *missing* cannot be attested as they stand: fix them, or list them \
         as not attested with a plan of action and milestones (`oscal/poam.json`).\n",
        framework.name,
        model.organisation,
        model.evaluation_id,
        model.as_of,
        model.period.as_ref().map(|p| format!(" · period {p}")).unwrap_or_default()
    );
    for section in &framework.sections {
        out.push_str(&format!("\n## {} — {}\n", section.section, section.state_label));
        for item in &section.items {
            let mark = match item.status.as_str() {
                "pass" | "attested" | "not_applicable" => "[ ]",
                "manual" => "[ ] (by hand)",
                _ => "[ ] *missing*",
            };
            out.push_str(&format!(
                "\n- {mark} **{}** {} — {}\n  - {}\n",
                item.requirement, item.label, item.status_label, item.to_do
            ));
            if !item.controls.is_empty() {
                out.push_str(&format!(
                    "  - controls: {}; {} evidence item(s), listed in summary.json\n",
                    item.controls.join(", "),
                    item.evidence_items
                ));
            }
        }
    }
    out
}
