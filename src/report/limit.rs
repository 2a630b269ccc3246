//! `report --framework ID`: a report limited to chosen frameworks. Only the controls mapped to them stay, with
//! their findings, populations, evidence and changes; the headline numbers are counted again over what stays.

use std::collections::BTreeSet;

use anyhow::Result;

use super::model::{segments, ReportModel, StatusCounts};
use crate::evaluate::Status;

impl ReportModel {
    /// Limits the model to the frameworks with these ids (an input error names any the evaluation lacks).
    pub fn limit_to_frameworks(&mut self, ids: &[String]) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let known: Vec<&str> = self.frameworks.iter().map(|f| f.id.as_str()).collect();
        if let Some(unknown) = ids.iter().find(|id| !known.contains(&id.as_str())) {
            return Err(crate::error::input_error(format!(
                "--framework {unknown}: the evaluation has no such framework (it has: {})",
                known.join(", ")
            )));
        }
        let chosen: BTreeSet<&str> = ids.iter().map(String::as_str).collect();
        self.frameworks.retain(|f| chosen.contains(f.id.as_str()));
        self.gaps.retain(|g| chosen.contains(g.framework_id.as_str()));
        self.trend.retain(|t| chosen.contains(t.framework_id.as_str()));
        for control in &mut self.controls {
            control.mappings.retain(|m| chosen.contains(m.framework_id.as_str()));
        }
        self.controls.retain(|control| !control.mappings.is_empty());
        let kept: BTreeSet<String> = self.controls.iter().map(|c| c.id.clone()).collect();
        self.populations.retain(|p| kept.contains(&p.control));
        self.unobserved.retain(|u| kept.contains(&u.control));
        self.wildcard_waivers.retain(|w| kept.contains(&w.control));
        self.waivers.retain(|w| kept.contains(&w.control));
        let cited: BTreeSet<i64> =
            self.controls.iter().flat_map(|c| c.findings.iter().filter_map(|f| f.evidence_id)).collect();
        self.evidence.retain(|e| cited.contains(&e.id));
        self.evidence_digest = super::model::evidence_digest(&self.evidence);
        let names: BTreeSet<String> = self.frameworks.iter().map(|f| f.name.clone()).collect();
        if let Some(drift) = &mut self.drift {
            drift.changes.retain(|change| kept.contains(&change.control));
            drift.requirements.retain(|change| names.contains(&change.framework));
            drift.expiring_waivers.retain(|waiver| kept.contains(&waiver.control));
        }
        self.recount();
        self.chosen_frameworks = self.frameworks.iter().map(|f| f.id.clone()).collect();
        Ok(())
    }

    /// Counts the headline numbers and the domains again over the controls the model holds.
    fn recount(&mut self) {
        let mut controls = StatusCounts::default();
        let mut findings = StatusCounts::default();
        let mut resources = BTreeSet::new();
        for control in &self.controls {
            controls.add(Status::parse(&control.status).unwrap_or(Status::Unknown));
            for finding in &control.findings {
                findings.add(Status::parse(&finding.status).unwrap_or(Status::Unknown));
                resources.insert(finding.resource.as_str());
            }
        }
        self.summary.controls_total = self.controls.len();
        self.summary.resources = resources.len();
        self.summary.controls_chart = segments(&[
            ("pass", "Pass", controls.pass),
            ("fail", "Fail", controls.fail),
            ("unknown", "Unknown", controls.unknown),
            ("waived", "Waived", controls.waived),
            ("not_applicable", "Not applicable", controls.not_applicable),
        ]);
        self.summary.controls = controls;
        self.summary.findings = findings;
        for domain in &mut self.domains {
            let mut counts = StatusCounts::default();
            for control in self.controls.iter().filter(|c| c.domain == domain.domain) {
                counts.add(Status::parse(&control.status).unwrap_or(Status::Unknown));
            }
            let decided = counts.pass + counts.fail;
            domain.controls = counts.total();
            domain.coverage_percent = crate::evaluate::rollup::percent(decided, counts.total());
            domain.compliance_percent = crate::evaluate::rollup::percent(counts.pass, decided);
            domain.counts = counts;
        }
        self.domains.retain(|domain| domain.controls > 0);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_report_limited_to_a_framework_keeps_only_what_maps_to_it() {
        let mut model = crate::report::model::sample_model();
        model.limit_to_frameworks(&["osps_baseline".to_string()]).unwrap();
        assert_eq!(model.frameworks.len(), 1);
        assert_eq!(model.chosen_frameworks, ["osps_baseline"]);
        assert!(model.controls.iter().all(|c| c.mappings.iter().all(|m| m.framework_id == "osps_baseline")));
        assert!(model.controls.iter().any(|c| c.id == "SRC-01"));
        assert!(!model.controls.iter().any(|c| c.id == "DEP-04"), "DEP-04 maps to no OSPS requirement");
        assert_eq!(model.summary.controls_total, model.controls.len());
        let error = crate::report::model::sample_model().limit_to_frameworks(&["pci".into()]).unwrap_err();
        assert!(error.to_string().contains("pci_dss"), "{error}");
    }
}
