//! A framework summarised by its sections (the CISA attestation form): per section, each item's verdict, the
//! controls and evidence behind it, what a signing official must confirm by hand, and what is missing. pipeproof
//! prepares this package; it never signs anything on anyone's behalf.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Serialize;

use super::model::{ControlSection, FrameworkSection};

/// One section of the framework.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SectionSummary {
    /// The section's name.
    pub section: String,
    /// `ready` (every item passes or is attested), `gaps` (an item fails or is undecided) or `confirm` (items
    /// only a person can confirm remain).
    pub state: String,
    /// The state for people.
    pub state_label: String,
    /// Its items, in the framework's order.
    pub items: Vec<SectionItem>,
}

/// One item of a section.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct SectionItem {
    /// Requirement id.
    pub requirement: String,
    /// Our label.
    pub label: String,
    /// The rolled-up verdict (`pass`, `fail`, `unknown`, `waived`, `not_applicable`, `attested` or `manual`).
    pub status: String,
    /// The verdict for people.
    pub status_label: String,
    /// The controls deciding it, with their verdicts, e.g. `SRC-01 pass`.
    pub controls: Vec<String>,
    /// Evidence items those controls' findings cite.
    pub evidence_items: usize,
    /// Controls whose evidence supports it without deciding it.
    pub supported_by: Vec<String>,
    /// What the signing official must do or confirm for this item, in words.
    pub to_do: String,
}

/// The section summary of a framework (its requirements grouped by `group`, in order of first appearance).
pub fn summarise(section: &FrameworkSection, controls: &[ControlSection]) -> Vec<SectionSummary> {
    let mut groups: Vec<String> = Vec::new();
    for row in &section.requirements {
        let group = row.group.clone().unwrap_or_else(|| "Other".into());
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let items: Vec<SectionItem> = section
                .requirements
                .iter()
                .filter(|row| row.group.as_deref().unwrap_or("Other") == group)
                .map(|row| {
                    let deciding: Vec<&ControlSection> =
                        controls.iter().filter(|c| row.controls.contains(&c.id)).collect();
                    let evidence: BTreeSet<i64> =
                        deciding.iter().flat_map(|c| c.findings.iter().filter_map(|f| f.evidence_id)).collect();
                    let to_do = match row.status.as_str() {
                        "pass" => "Confirm the evidence below supports the attestation.".to_string(),
                        "not_applicable" => "Confirm the item does not apply to the software attested.".to_string(),
                        "attested" => format!(
                            "Confirm the attestation on record still holds: {}",
                            row.attestation.clone().unwrap_or_default()
                        ),
                        "manual" if row.supported_by.is_empty() => {
                            "No control judges this: confirm it by hand and keep the record (or attest it in \
                             pipeproof's attestations file)."
                                .to_string()
                        }
                        "manual" => format!(
                            "No control decides this: confirm it by hand; {} give supporting evidence.",
                            row.supported_by.join(", ")
                        ),
                        _ => {
                            let short: Vec<String> = deciding
                                .iter()
                                .filter(|c| !matches!(c.status.as_str(), "pass" | "not_applicable"))
                                .map(|c| format!("{} ({})", c.id, c.status_label.to_lowercase()))
                                .collect();
                            format!(
                                "Missing: {} {} not hold or could not be judged; fix it, or list the item as not \
                                 attested and submit a plan of action and milestones (POA&M).",
                                short.join(", "),
                                if short.len() == 1 { "does" } else { "do" }
                            )
                        }
                    };
                    SectionItem {
                        requirement: row.id.clone(),
                        label: row.label.clone(),
                        status: row.status.clone(),
                        status_label: row.status_label.clone(),
                        controls: deciding.iter().map(|c| format!("{} {}", c.id, c.status)).collect(),
                        evidence_items: evidence.len(),
                        supported_by: row.supported_by.clone(),
                        to_do,
                    }
                })
                .collect();
            let gaps = items.iter().any(|item| matches!(item.status.as_str(), "fail" | "unknown" | "waived"));
            let confirm = items.iter().any(|item| item.status == "manual");
            let (state, state_label) = if gaps {
                ("gaps", "Gaps: not ready to attest")
            } else if confirm {
                ("confirm", "Evidence holds; manual items to confirm")
            } else {
                ("ready", "Ready to attest")
            };
            SectionSummary { section: group, state: state.into(), state_label: state_label.into(), items }
        })
        .collect()
}
