//! The framework roll-up: each requirement's verdict from the controls mapped to it (the worst of theirs), or, where
//! no control decides it, a valid manual attestation; and per framework the counts, coverage and compliance.
//! `evaluate` stores the per-framework figures (`evaluation_frameworks`, for trends); `report` shows them.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::attestations::{AttestationState, Covers, JudgedAttestation};
use super::Status;
use crate::controls::{Control, Framework};

/// Counts of verdicts.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct StatusCounts {
    /// Passing.
    pub pass: usize,
    /// Failing.
    pub fail: usize,
    /// Undecided.
    pub unknown: usize,
    /// Waived (accepted risk, unexpired).
    pub waived: usize,
    /// Not applicable.
    pub not_applicable: usize,
}

impl StatusCounts {
    /// Counts one more verdict.
    pub fn add(&mut self, status: Status) {
        match status {
            Status::Pass => self.pass += 1,
            Status::Fail => self.fail += 1,
            Status::Unknown => self.unknown += 1,
            Status::Waived => self.waived += 1,
            Status::NotApplicable => self.not_applicable += 1,
        }
    }

    /// The total counted.
    pub fn total(&self) -> usize {
        self.pass + self.fail + self.unknown + self.waived + self.not_applicable
    }
}

/// How a requirement stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Standing {
    /// Decided by its controls.
    Decided(Status),
    /// No control decides it; a valid manual attestation covers it (its summary).
    Attested(String),
    /// No control decides it and nothing attests it.
    Manual,
}

/// One requirement's verdict.
#[derive(Debug, Clone)]
pub struct RequirementVerdict {
    /// The requirement id.
    pub id: String,
    /// The controls mapped to it, sorted.
    pub controls: Vec<String>,
    /// How it stands.
    pub standing: Standing,
    /// Controls that ran with a parameter looser than the framework accepts, each in words (they make it unknown).
    pub limits: Vec<String>,
}

/// A framework's roll-up.
#[derive(Debug, Clone)]
pub struct FrameworkRollup {
    /// Each requirement, in the framework's order.
    pub requirements: Vec<RequirementVerdict>,
    /// Verdicts of the requirements controls decide.
    pub counts: StatusCounts,
    /// Requirements no control decides.
    pub manual: usize,
    /// Of those, the ones a valid attestation covers.
    pub attested: usize,
    /// Decided (pass, fail or attested) as a share of all requirements.
    pub coverage_percent: u32,
    /// Passing or attested as a share of the decided.
    pub compliance_percent: u32,
}

/// `part` as a whole-number percentage of `whole` (0 when there is no whole).
pub fn percent(part: usize, whole: usize) -> u32 {
    (part * 100 + whole / 2).checked_div(whole).unwrap_or(0) as u32
}

/// The requirements valid manual attestations cover, by (framework, requirement), with a one-line summary each.
pub fn attested_requirements(attestations: &[JudgedAttestation]) -> BTreeMap<(String, String), String> {
    attestations
        .iter()
        .filter(|judged| judged.state == AttestationState::Valid)
        .filter_map(|judged| judged.attestation.as_ref())
        .filter_map(|a| match a.covers() {
            Ok(Covers::Requirement(framework, requirement)) => {
                let summary = format!(
                    "{} (attested by {} on {}, valid until {})",
                    a.statement, a.attested_by, a.attested_at, a.valid_until
                );
                Some(((framework.to_string(), requirement.to_string()), summary))
            }
            _ => None,
        })
        .collect()
}

/// What a control ran with: the value of one of its parameters (control id, parameter name).
pub type ParamValue<'a> = &'a dyn Fn(&str, &str) -> Option<serde_json::Value>;

/// Rolls a framework up from its controls' verdicts (`control_status`) and the attested requirements; a control
/// that ran with a parameter outside the framework's `parameter_limits` counts as unknown for it.
pub fn framework(
    framework: &Framework,
    controls: &[Control],
    control_status: &dyn Fn(&str) -> Status,
    param_value: ParamValue<'_>,
    attested: &BTreeMap<(String, String), String>,
) -> FrameworkRollup {
    let broken = |control: &str| -> Vec<String> {
        framework
            .parameter_limits
            .iter()
            .filter(|limit| limit.control == control)
            .filter_map(|limit| param_value(control, &limit.param).and_then(|value| limit.broken_by(&value)))
            .collect()
    };
    let mut counts = StatusCounts::default();
    let (mut manual, mut attested_count) = (0, 0);
    let requirements: Vec<RequirementVerdict> = framework
        .requirements
        .iter()
        .map(|requirement| {
            let mut mapped: Vec<String> = controls
                .iter()
                .filter(|c| c.mappings.get(&framework.id).is_some_and(|ids| ids.contains(&requirement.id)))
                .map(|c| c.id.clone())
                .collect();
            mapped.sort();
            let limits: Vec<String> = mapped.iter().flat_map(|id| broken(id)).collect();
            let standing = if mapped.is_empty() {
                manual += 1;
                match attested.get(&(framework.id.clone(), requirement.id.clone())) {
                    Some(summary) => {
                        attested_count += 1;
                        Standing::Attested(summary.clone())
                    }
                    None => Standing::Manual,
                }
            } else {
                let status = Status::roll_up(mapped.iter().map(|id| {
                    if broken(id).is_empty() {
                        control_status(id)
                    } else {
                        Status::Unknown
                    }
                }));
                counts.add(status);
                Standing::Decided(status)
            };
            RequirementVerdict { id: requirement.id.clone(), controls: mapped, standing, limits }
        })
        .collect();
    let total = requirements.len();
    let decided = counts.pass + counts.fail + attested_count;
    FrameworkRollup {
        coverage_percent: percent(decided, total),
        compliance_percent: percent(counts.pass + attested_count, decided),
        requirements,
        counts,
        manual,
        attested: attested_count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_control_run_looser_than_the_framework_allows_does_not_decide_it() {
        let catalogue = crate::controls::Catalogue::load(&[] as &[&std::path::Path]).unwrap();
        let pci = catalogue.framework("pci_dss").unwrap();
        let none = BTreeMap::new();
        let roll = |critical_days: i64| {
            let value = move |control: &str, param: &str| {
                (control == "BLD-11" && param == "critical_days").then(|| serde_json::json!(critical_days))
            };
            let rolled = framework(pci, &catalogue.controls, &|_| Status::Pass, &value, &none);
            let index = pci.requirements.iter().position(|r| r.id == "6.3.3").unwrap();
            rolled.requirements[index].clone()
        };
        assert_eq!(roll(15).standing, Standing::Decided(Status::Pass));
        let loose = roll(45);
        assert_eq!(loose.standing, Standing::Decided(Status::Unknown));
        assert!(loose.limits[0].contains("critical_days = 45") && loose.limits[0].contains("at most 30"));
    }

    #[test]
    fn percentages_round_and_survive_an_empty_whole() {
        assert_eq!(percent(1, 3), 33);
        assert_eq!(percent(2, 3), 67);
        assert_eq!(percent(0, 0), 0);
    }
}
