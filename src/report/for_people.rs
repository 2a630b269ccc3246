//! What the HTML and PDF show of a large evaluation: per control at most `SHOWN_PER_CONTROL` findings, worst first
//! (failing, undecided, waived, then passing and not applicable), and at most `SHOWN_UNOBSERVED` entries of what
//! could not be observed, each saying how many more there are and where they are (`findings.csv`, `report.json`, and
//! in a bundle `populations/<CONTROL>.csv`). A browser opens a report of an evaluation with hundreds of thousands of
//! findings this way; the machine-readable outputs always hold everything.

use std::borrow::Cow;

use super::ReportModel;
use crate::evaluate::Status;

/// The most findings per control the HTML and PDF show.
pub const SHOWN_PER_CONTROL: usize = 100;
/// The most entries of "what could not be observed" the HTML and PDF show.
pub const SHOWN_UNOBSERVED: usize = 500;

impl ReportModel {
    /// The model as people read it: itself when it is small enough, else a copy cut down as the module says.
    pub fn for_people(&self) -> Cow<'_, ReportModel> {
        let large = self.controls.iter().any(|c| c.findings.len() > SHOWN_PER_CONTROL)
            || self.unobserved.len() > SHOWN_UNOBSERVED;
        if !large {
            return Cow::Borrowed(self);
        }
        let mut model = self.clone();
        for control in model.controls.iter_mut().filter(|c| c.findings.len() > SHOWN_PER_CONTROL) {
            let rank = |status: &str| Status::parse(status).unwrap_or(Status::Unknown);
            let mut order: Vec<usize> = (0..control.findings.len()).collect();
            order.sort_by_key(|&index| (rank(&control.findings[index].status), index));
            let mut kept: Vec<usize> = order.into_iter().take(SHOWN_PER_CONTROL).collect();
            kept.sort_unstable();
            control.findings_omitted = control.findings.len() - kept.len();
            let findings = std::mem::take(&mut control.findings);
            control.findings = kept.into_iter().map(|index| findings[index].clone()).collect();
        }
        if model.unobserved.len() > SHOWN_UNOBSERVED {
            model.unobserved_omitted = model.unobserved.len() - SHOWN_UNOBSERVED;
            model.unobserved.truncate(SHOWN_UNOBSERVED);
        }
        Cow::Owned(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_control_shows_its_worst_findings_and_counts_the_rest() {
        let mut model = crate::report::model::synthetic_model(400).unwrap();
        let before: usize = model.controls.iter().map(|c| c.findings.len()).sum();
        model.controls[0].findings[350].status = "fail".into();
        let shown = model.for_people();
        let control = &shown.controls[0];
        assert_eq!(control.findings.len(), SHOWN_PER_CONTROL);
        assert_eq!(control.findings.len() + control.findings_omitted, model.controls[0].findings.len());
        assert!(control.findings.iter().any(|f| f.resource == model.controls[0].findings[350].resource));
        let after: usize = shown.controls.iter().map(|c| c.findings.len() + c.findings_omitted).sum();
        assert_eq!(before, after, "nothing is lost from the count");
        let small = crate::report::model::sample_model();
        assert!(matches!(small.for_people(), Cow::Borrowed(_)));
    }
}
