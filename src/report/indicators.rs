//! A framework summarised by indicators (FedRAMP 20x KSIs): per indicator, a machine-readable validation result
//! with its timestamp and criteria, and the validation cadence the store proves over the period (FedRAMP's
//! persistent validation asks machine-based validation at least every 3 days at Moderate, 7 at Low; non-machine
//! validation, here a manual attestation, at least every 3 months).

use chrono::NaiveDateTime;
use schemars::JsonSchema;
use serde::Serialize;

use super::model::{ControlSection, FrameworkSection};

/// The longest interval between machine-based validations FedRAMP accepts at Moderate, in days.
pub const MACHINE_EVERY_DAYS: i64 = 3;
/// The same for non-machine validation (a person's attestation), in days.
pub const NON_MACHINE_EVERY_DAYS: i64 = 90;

/// One indicator's validation result.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IndicatorResult {
    /// The indicator id, e.g. `KSI-CMT-LMC`.
    pub indicator: String,
    /// Its name and statement, shortened.
    pub label: String,
    /// `pass`, `fail`, `unknown`, `waived`, `not_applicable`, `attested` or `manual`.
    pub status: String,
    /// `machine` (controls judge it), `non-machine` (a valid attestation) or `none` (nothing validates it).
    pub method: String,
    /// When this result was validated (the evaluation's moment; for a non-machine validation, when it was attested;
    /// ISO 8601 UTC).
    pub validated_at: String,
    /// Per deciding control, its verdict and how many resources passed and failed: the pass/fail criteria.
    pub criteria: Vec<Criterion>,
    /// The sha256 of every evidence item the criteria rest on, sorted.
    pub evidence_sha256: Vec<String>,
    /// Validations of the framework the store holds over the period (this one included).
    pub validations_in_period: usize,
    /// The longest stretch without a validation, in whole days (machine: from the period's start to the moment
    /// evaluated; non-machine: since the attestation).
    pub longest_gap_days: Option<i64>,
    /// The longest stretch FedRAMP accepts for this method, in days.
    pub required_every_days: Option<i64>,
    /// Whether the store proves that cadence over the period.
    pub cadence_met: Option<bool>,
    /// When the next validation is due (ISO 8601 UTC).
    pub next_due: Option<String>,
}

/// One control's verdict as a criterion of an indicator.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Criterion {
    /// Control id.
    pub control: String,
    /// Its title.
    pub title: String,
    /// Its verdict.
    pub status: String,
    /// Resources passing.
    pub passed: usize,
    /// Resources failing or undecided.
    pub failed: usize,
}

/// The moments validations happened, and the window they are judged over.
pub struct Cadence<'a> {
    /// The evaluations of this framework in the window, in order.
    pub validations: &'a [NaiveDateTime],
    /// When each requirement's valid manual attestation was made (its non-machine validation).
    pub attested_at: &'a std::collections::BTreeMap<String, NaiveDateTime>,
    /// The window's start (the period's start).
    pub start: NaiveDateTime,
    /// The moment evaluated.
    pub end: NaiveDateTime,
}

fn iso(moment: &NaiveDateTime) -> String {
    moment.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The longest gap, in whole days rounded up, between `start`, each validation and `end`.
fn longest_gap(cadence: &Cadence) -> i64 {
    let mut moments: Vec<NaiveDateTime> =
        cadence.validations.iter().copied().filter(|m| *m >= cadence.start && *m <= cadence.end).collect();
    moments.sort();
    let mut previous = cadence.start;
    let mut longest = chrono::Duration::zero();
    for moment in moments.iter().chain(std::iter::once(&cadence.end)) {
        longest = longest.max(*moment - previous);
        previous = *moment;
    }
    (longest.num_seconds() + 86_399) / 86_400
}

/// The indicator results of a framework.
pub fn summarise(
    section: &FrameworkSection,
    controls: &[ControlSection],
    evidence_sha256: &dyn Fn(i64) -> Option<String>,
    cadence: &Cadence,
) -> Vec<IndicatorResult> {
    let in_window = cadence.validations.iter().filter(|m| **m >= cadence.start && **m <= cadence.end).count();
    let gap = longest_gap(cadence);
    section
        .requirements
        .iter()
        .map(|row| {
            let deciding: Vec<&ControlSection> = controls.iter().filter(|c| row.controls.contains(&c.id)).collect();
            let mut hashes: Vec<String> = deciding
                .iter()
                .flat_map(|c| c.findings.iter().filter_map(|f| f.evidence_id))
                .filter_map(evidence_sha256)
                .collect();
            hashes.sort();
            hashes.dedup();
            let method = match row.status.as_str() {
                "manual" => "none",
                "attested" => "non-machine",
                _ => "machine",
            };
            let every = match method {
                "machine" => Some(MACHINE_EVERY_DAYS),
                "non-machine" => Some(NON_MACHINE_EVERY_DAYS),
                _ => None,
            };
            // A person's attestation is one validation, made when it was attested; it is due again 90 days on.
            let attested = (method == "non-machine").then(|| cadence.attested_at.get(&row.id)).flatten();
            let (validations, gap, met, last) = match (method, attested) {
                ("machine", _) => (in_window, Some(gap), Some(gap <= MACHINE_EVERY_DAYS), Some(cadence.end)),
                (_, Some(at)) => {
                    let since = ((cadence.end - *at).num_seconds() + 86_399) / 86_400;
                    (1, Some(since), Some(since <= NON_MACHINE_EVERY_DAYS), Some(*at))
                }
                _ => (0, None, None, None),
            };
            IndicatorResult {
                indicator: row.id.clone(),
                label: row.label.clone(),
                status: row.status.clone(),
                method: method.into(),
                validated_at: iso(&last.unwrap_or(cadence.end)),
                criteria: deciding
                    .iter()
                    .map(|c| Criterion {
                        control: c.id.clone(),
                        title: c.title.clone(),
                        status: c.status.clone(),
                        passed: c.counts.pass,
                        failed: c.counts.fail + c.counts.unknown,
                    })
                    .collect(),
                evidence_sha256: hashes,
                validations_in_period: validations,
                longest_gap_days: gap,
                required_every_days: every,
                cadence_met: met,
                next_due: every.zip(last).map(|(days, last)| iso(&(last + chrono::Duration::days(days)))),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attested_indicator_is_validated_when_attested_and_due_three_months_on() {
        let model = crate::report::model::sample_model();
        let mut section = model.frameworks.iter().find(|f| f.id == "fedramp_20x_ksi").unwrap().clone();
        let row = section.requirements.iter_mut().find(|r| r.id == "KSI-AFR-ADS").unwrap();
        row.status = "attested".into();
        let day = |m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap().and_hms_opt(0, 0, 0).unwrap();
        let attested = std::collections::BTreeMap::from([("KSI-AFR-ADS".to_string(), day(6, 1))]);
        let cadence = Cadence { validations: &[], start: day(7, 1), end: day(9, 30), attested_at: &attested };
        let results = summarise(&section, &model.controls, &|_| None, &cadence);
        let ads = results.iter().find(|r| r.indicator == "KSI-AFR-ADS").unwrap();
        assert_eq!((ads.method.as_str(), ads.validated_at.as_str()), ("non-machine", "2026-06-01T00:00:00Z"));
        assert_eq!((ads.longest_gap_days, ads.cadence_met), (Some(121), Some(false)), "attested 121 days before");
        assert_eq!(ads.next_due.as_deref(), Some("2026-08-30T00:00:00Z"));
    }

    #[test]
    fn the_longest_gap_counts_the_edges_of_the_window() {
        let day = |d: u32| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap().and_hms_opt(12, 0, 0).unwrap();
        let validations = [day(3), day(5), day(11)];
        let none = std::collections::BTreeMap::new();
        let cadence = Cadence { validations: &validations, start: day(1), end: day(12), attested_at: &none };
        assert_eq!(longest_gap(&cadence), 6, "from the 5th to the 11th");
        let cadence = Cadence { validations: &[], start: day(1), end: day(2), attested_at: &none };
        assert_eq!(longest_gap(&cadence), 1);
    }
}
