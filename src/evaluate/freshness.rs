//! Freshness: a verdict resting on evidence older than its kind's maximum age becomes unknown ("stale since …").

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{Duration, NaiveDateTime};

use super::{ControlOutcome, Sandbox, Status};

/// Maximum evidence age in days, per kind, when the config sets none.
/// Scanner reports and Kubernetes object exports go stale after 30 days; SBOMs after 90; GitHub API evidence
/// (`github.*`: any kind) after 7; attestations, VEX, audit and deploy events do not.
const DEFAULT_MAX_AGE_DAYS: &[(&str, i64)] = &[
    ("checkov", 30),
    ("cyclonedx", 90),
    ("dependency-snapshot", 90),
    ("github.*", 7),
    ("github.branch_protection", 7),
    ("github.org", 7),
    ("github.repos", 7),
    ("gitlab-code-quality", 30),
    ("gitlab-security-report", 30),
    ("gitleaks", 30),
    ("grype", 30),
    ("kubernetes", 30),
    ("legitify", 30),
    ("nuclei", 30),
    ("osv-scanner", 30),
    ("sarif", 30),
    ("semgrep", 30),
    ("spdx", 90),
    ("syft", 90),
    ("trivy", 30),
    ("zap", 30),
];

/// When and what each evidence item is, for the staleness check.
pub struct EvidenceAges {
    items: BTreeMap<i64, (String, NaiveDateTime)>,
    max_age: BTreeMap<String, i64>,
}

impl EvidenceAges {
    /// Reads every evidence item's kind and collection time, and the age limits (config overrides defaults).
    pub fn load(sandbox: &Sandbox, overrides: &BTreeMap<String, u32>) -> Result<EvidenceAges> {
        let mut max_age: BTreeMap<String, i64> =
            DEFAULT_MAX_AGE_DAYS.iter().map(|(kind, days)| (kind.to_string(), *days)).collect();
        max_age.extend(overrides.iter().map(|(kind, days)| (kind.clone(), i64::from(*days))));
        Ok(EvidenceAges { items: sandbox.evidence_times()?, max_age })
    }

    /// Why a verdict on this evidence is stale at `as_of`, if it is.
    pub fn stale_reason(&self, evidence_id: i64, as_of: NaiveDateTime) -> Option<String> {
        let (kind, collected_at) = self.items.get(&evidence_id)?;
        let days = *self.max_age.get(kind).or_else(|| {
            // Every GitHub API kind (people, rulesets, Actions settings, alerts, ...) ages like the settings do.
            kind.starts_with("github.").then(|| self.max_age.get("github.*")).flatten()
        })?;
        let stale_since = *collected_at + Duration::days(days);
        (as_of > stale_since).then(|| {
            format!(
                "stale since {}: evidence E{evidence_id} ({kind}) dates from {}, and {kind} evidence is trusted for {days} days; collect it again",
                crate::time::display_utc(&stale_since),
                crate::time::display_utc(collected_at)
            )
        })
    }

    /// Turns pass and fail verdicts on stale evidence into unknown, keeping the original reason, and rolls up again.
    pub fn apply(&self, outcome: &mut ControlOutcome, as_of: NaiveDateTime) {
        let mut changed = false;
        for result in &mut outcome.results {
            if !matches!(result.status, Status::Pass | Status::Fail) {
                continue;
            }
            if let Some(reason) = result.evidence_id.and_then(|id| self.stale_reason(id, as_of)) {
                result.reason = format!("{reason} (it showed: {} - {})", result.status.label(), result.reason);
                result.status = Status::Unknown;
                changed = true;
            }
        }
        if changed {
            outcome.status = Status::roll_up(outcome.results.iter().map(|r| r.status));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ages() -> EvidenceAges {
        let collected = crate::time::parse_as_of("2026-09-01T00:00:00Z").unwrap();
        EvidenceAges {
            items: BTreeMap::from([
                (1, ("github.branch_protection".to_string(), collected)),
                (2, ("other".to_string(), collected)),
            ]),
            max_age: DEFAULT_MAX_AGE_DAYS.iter().map(|(k, d)| (k.to_string(), *d)).collect(),
        }
    }

    #[test]
    fn evidence_past_its_age_is_stale() {
        let ages = ages();
        assert!(ages.stale_reason(1, crate::time::parse_as_of("2026-09-05").unwrap()).is_none());
        let reason = ages.stale_reason(1, crate::time::parse_as_of("2026-09-30").unwrap()).unwrap();
        assert!(reason.starts_with("stale since 2026-09-08 00:00:00 UTC"), "{reason}");
        assert!(
            ages.stale_reason(2, crate::time::parse_as_of("2030-01-01").unwrap()).is_none(),
            "kinds without a limit never go stale"
        );
    }
}
