//! Which repository, release or organisation each finding is about, so a framework can be judged per subject
//! (OSPS Baseline and SLSA source levels per repository, the CRA per release). Resources are attributed to the
//! most specific subject they name: `owner/repo tag …` to a release, `owner/repo`, `owner/repo#12` or
//! `owner/repo environment …` to a repository, `owner` or `owner member …` to its organisation.

use std::collections::BTreeMap;

use crate::evaluate::subjects::{ReleaseRef, RepositoryRef};
use crate::evaluate::Status;

use super::model::ControlSection;

/// What the store held about subjects at the evaluation's moment.
#[derive(Debug, Clone, Default)]
pub struct Subjects {
    /// Repositories, sorted.
    pub repositories: Vec<RepositoryRef>,
    /// Releases published in the period, sorted.
    pub releases: Vec<ReleaseRef>,
    /// Per framework, the moments it was evaluated from `cadence_start` to the evaluation's moment.
    pub validations: BTreeMap<String, Vec<chrono::NaiveDateTime>>,
    /// Where validation cadence is judged from: the period's start (or 90 days before the moment evaluated).
    pub cadence_start: chrono::NaiveDateTime,
}

/// The subject a finding is about.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Scope {
    Organisation(String),
    Repository(String),
    Release(String, String),
    Unattributed,
}

/// One control's verdicts, attributed.
struct Attributed {
    overall: Status,
    findings: Vec<(Scope, Status)>,
}

/// Every control's verdicts attributed to subjects, and the verdict of a control for one subject.
pub struct Attribution<'a> {
    subjects: &'a Subjects,
    controls: BTreeMap<&'a str, Attributed>,
}

/// Whether `resource` is `key` or starts with it followed by one of `separators`.
fn names(resource: &str, key: &str, separators: &[char]) -> bool {
    resource
        .strip_prefix(key)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with(|c: char| separators.contains(&c)))
}

impl<'a> Attribution<'a> {
    /// Attributes every finding of `controls` to the subjects the store knows.
    pub fn new(subjects: &'a Subjects, controls: &'a [ControlSection]) -> Attribution<'a> {
        let mut by_length: Vec<&RepositoryRef> = subjects.repositories.iter().collect();
        by_length.sort_by_key(|repository| std::cmp::Reverse(repository.repo.len()));
        let scope = |resource: &str| -> Scope {
            if let Some(repository) = by_length.iter().find(|r| names(resource, &r.repo, &[' ', '#', '@', ':'])) {
                let release = subjects
                    .releases
                    .iter()
                    .filter(|release| release.repo == repository.repo)
                    .find(|release| names(resource, &release.resource(), &[' ']));
                return match release {
                    Some(release) => Scope::Release(release.repo.clone(), release.tag.clone()),
                    None => Scope::Repository(repository.repo.clone()),
                };
            }
            match subjects.repositories.iter().find(|r| names(resource, &r.org, &[' '])) {
                Some(repository) => Scope::Organisation(repository.org.clone()),
                None => Scope::Unattributed,
            }
        };
        let controls = controls
            .iter()
            .map(|control| {
                let findings = control
                    .findings
                    .iter()
                    .map(|f| (scope(&f.resource), Status::parse(&f.status).unwrap_or(Status::Unknown)))
                    .collect();
                let overall = Status::parse(&control.status).unwrap_or(Status::Unknown);
                (control.id.as_str(), Attributed { overall, findings })
            })
            .collect();
        Attribution { subjects, controls }
    }

    /// The organisation a repository belongs to.
    fn organisation_of(&self, repo: &str) -> Option<&str> {
        self.subjects.repositories.iter().find(|r| r.repo == repo).map(|r| r.org.as_str())
    }

    /// A control's verdict for a repository (with its releases) or, given `tag`, for one release; counting the
    /// organisation's own verdicts for either. A control that judged nothing of the subject while judging others
    /// does not apply to it; one whose findings name no known subject (or that has none) keeps its overall verdict.
    pub fn status(&self, control: &str, repo: &str, tag: Option<&str>) -> Status {
        let Some(attributed) = self.controls.get(control) else { return Status::Unknown };
        if attributed.findings.iter().all(|(scope, _)| *scope == Scope::Unattributed) {
            return attributed.overall;
        }
        let organisation = self.organisation_of(repo);
        let relevant = attributed.findings.iter().filter(|(scope, _)| match scope {
            Scope::Organisation(org) => Some(org.as_str()) == organisation,
            Scope::Repository(r) => r == repo,
            Scope::Release(r, t) => r == repo && tag.is_none_or(|tag| tag == t),
            Scope::Unattributed => false,
        });
        Status::roll_up(relevant.map(|(_, status)| *status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::model::FindingRow;

    fn finding(resource: &str, status: &str) -> FindingRow {
        FindingRow {
            control: String::new(),
            resource: resource.into(),
            status: status.into(),
            status_label: String::new(),
            reason: String::new(),
            evidence_id: None,
            underlying_status: None,
            waiver: None,
            held_throughout: None,
            throughout: None,
            incomplete_evidence: false,
        }
    }

    #[test]
    fn findings_go_to_the_most_specific_subject_they_name() {
        let repository = |repo: &str| RepositoryRef {
            org: "acme".into(),
            repo: repo.into(),
            archived: false,
            default_branch: Some("main".into()),
        };
        let release = |tag: &str| ReleaseRef {
            repo: "acme/web".into(),
            tag: tag.into(),
            published_at: chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap().and_hms_opt(0, 0, 0).unwrap(),
        };
        let subjects = Subjects {
            repositories: vec![repository("acme/web"), repository("acme/web-ui"), repository("acme/api")],
            releases: vec![release("v1"), release("v2")],
            ..Subjects::default()
        };
        let mut sbom = crate::report::model::sample_model().controls.remove(0);
        sbom.id = "SBOM".into();
        sbom.status = "fail".into();
        sbom.findings = vec![finding("acme/web v1", "pass"), finding("acme/web v2", "fail")];
        let mut mfa = sbom.clone();
        mfa.id = "MFA".into();
        mfa.findings = vec![finding("acme", "pass"), finding("acme member bob", "pass")];
        let mut cluster = sbom.clone();
        cluster.id = "CLUSTER".into();
        cluster.status = "unknown".into();
        cluster.findings = vec![finding("namespace prod", "pass")];
        let mut review = sbom.clone();
        review.id = "REVIEW".into();
        review.findings = vec![finding("acme/web-ui", "fail"), finding("acme/web#3", "pass")];
        let controls = [sbom, mfa, cluster, review];
        let attribution = Attribution::new(&subjects, &controls);
        assert_eq!(attribution.status("SBOM", "acme/web", Some("v1")), Status::Pass);
        assert_eq!(attribution.status("SBOM", "acme/web", Some("v2")), Status::Fail);
        assert_eq!(attribution.status("SBOM", "acme/web", None), Status::Fail, "a repository answers for its releases");
        assert_eq!(attribution.status("SBOM", "acme/api", None), Status::NotApplicable, "nothing of it judged");
        assert_eq!(attribution.status("MFA", "acme/api", None), Status::Pass, "the organisation's verdict counts");
        assert_eq!(attribution.status("CLUSTER", "acme/api", None), Status::Unknown, "unattributed: overall verdict");
        assert_eq!(attribution.status("REVIEW", "acme/web", None), Status::Pass, "acme/web-ui is another repository");
        assert_eq!(attribution.status("MISSING", "acme/web", None), Status::Unknown);
    }
}
