//! Which repository, release or organisation each finding is about, so a framework can be judged per subject
//! (OSPS Baseline and SLSA source levels per repository, the CRA per release). Resources are attributed to the
//! most specific subject they name: `owner/repo tag …` to a release, `owner/repo`, `owner/repo#12` or
//! `owner/repo environment …` to a repository, `owner` or `owner member …` to its organisation.

use std::collections::{BTreeMap, HashMap, HashSet};

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

/// One control's verdicts, attributed and rolled up per subject.
struct Attributed {
    overall: Status,
    /// Whether the control judges resources as they stand (every one it is about has a verdict), rather than
    /// events in the period (a subject with none has nothing to judge).
    state: bool,
    /// Whether any finding names a known subject.
    attributed: bool,
    organisations: HashMap<String, Status>,
    repositories: HashMap<String, Status>,
    releases: HashMap<(String, String), Status>,
    /// Per repository, the worst verdict over its releases.
    repository_releases: HashMap<String, Status>,
}

impl Attributed {
    fn add(&mut self, scope: Scope, status: Status) {
        let worst = |slot: &mut Status| *slot = (*slot).min(status);
        match scope {
            Scope::Organisation(org) => worst(self.organisations.entry(org).or_insert(status)),
            Scope::Repository(repo) => worst(self.repositories.entry(repo).or_insert(status)),
            Scope::Release(repo, tag) => {
                worst(self.repository_releases.entry(repo.clone()).or_insert(status));
                worst(self.releases.entry((repo, tag)).or_insert(status));
            }
            Scope::Unattributed => return,
        }
        self.attributed = true;
    }
}

/// Every control's verdicts attributed to subjects, and the verdict of a control for one subject.
pub struct Attribution<'a> {
    organisation_of: HashMap<&'a str, &'a str>,
    controls: BTreeMap<&'a str, Attributed>,
}

impl<'a> Attribution<'a> {
    /// Attributes every finding of `controls` to the subjects the store knows. A resource names a repository by
    /// its first word up to a space, `#`, `@` or `:` (repository names hold none of these), a release by the word
    /// after that, and an organisation by its first word.
    pub fn new(subjects: &'a Subjects, controls: &'a [ControlSection]) -> Attribution<'a> {
        let repositories: HashSet<&str> = subjects.repositories.iter().map(|r| r.repo.as_str()).collect();
        let organisations: HashSet<&str> = subjects.repositories.iter().map(|r| r.org.as_str()).collect();
        let releases: HashSet<(&str, &str)> =
            subjects.releases.iter().map(|r| (r.repo.as_str(), r.tag.as_str())).collect();
        let scope = |resource: &str| -> Scope {
            let end = resource.find([' ', '#', '@', ':']).unwrap_or(resource.len());
            let head = &resource[..end];
            if repositories.contains(head) {
                let rest = resource[end..].strip_prefix(' ').unwrap_or_default();
                let tag = rest.split(' ').next().unwrap_or_default();
                return if releases.contains(&(head, tag)) {
                    Scope::Release(head.to_string(), tag.to_string())
                } else {
                    Scope::Repository(head.to_string())
                };
            }
            let first = resource.split(' ').next().unwrap_or_default();
            if organisations.contains(first) {
                Scope::Organisation(first.to_string())
            } else {
                Scope::Unattributed
            }
        };
        let controls = controls
            .iter()
            .map(|control| {
                let overall = Status::parse(&control.status).unwrap_or(Status::Unknown);
                let mut attributed = Attributed {
                    overall,
                    state: control.kind == "state",
                    attributed: false,
                    organisations: HashMap::new(),
                    repositories: HashMap::new(),
                    releases: HashMap::new(),
                    repository_releases: HashMap::new(),
                };
                for finding in &control.findings {
                    attributed.add(scope(&finding.resource), Status::parse(&finding.status).unwrap_or(Status::Unknown));
                }
                (control.id.as_str(), attributed)
            })
            .collect();
        let organisation_of =
            subjects.repositories.iter().map(|r| (r.repo.as_str(), r.org.as_str())).collect::<HashMap<_, _>>();
        Attribution { organisation_of, controls }
    }

    /// A control's verdict for a repository (with its releases) or, given `tag`, for one release; counting the
    /// organisation's own verdicts for either. When it judged nothing of the subject while judging others: a state
    /// control that judges repositories or organisations left it out (unknown: never a pass for want of a verdict);
    /// an operation control found no event of it (not applicable). A control whose findings name no known subject
    /// (or that has none) keeps its overall verdict.
    pub fn status(&self, control: &str, repo: &str, tag: Option<&str>) -> Status {
        let Some(attributed) = self.controls.get(control) else { return Status::Unknown };
        if !attributed.attributed {
            return attributed.overall;
        }
        let organisation = self.organisation_of.get(repo).and_then(|org| attributed.organisations.get(*org));
        let releases = match tag {
            Some(tag) => attributed.releases.get(&(repo.to_string(), tag.to_string())),
            None => attributed.repository_releases.get(repo),
        };
        let found: Vec<Status> =
            [organisation, attributed.repositories.get(repo), releases].into_iter().flatten().copied().collect();
        let judges_standing = !attributed.repositories.is_empty() || !attributed.organisations.is_empty();
        if found.is_empty() && attributed.state && judges_standing {
            return Status::Unknown;
        }
        Status::roll_up(found)
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
        sbom.kind = "operation".into();
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
        let mut protected = sbom.clone();
        protected.id = "PROTECTED".into();
        protected.kind = "state".into();
        protected.findings = vec![finding("acme/web", "pass")];
        let controls = [sbom, mfa, cluster, review, protected];
        let attribution = Attribution::new(&subjects, &controls);
        assert_eq!(attribution.status("SBOM", "acme/web", Some("v1")), Status::Pass);
        assert_eq!(attribution.status("SBOM", "acme/web", Some("v2")), Status::Fail);
        assert_eq!(attribution.status("SBOM", "acme/web", None), Status::Fail, "a repository answers for its releases");
        assert_eq!(attribution.status("SBOM", "acme/api", None), Status::NotApplicable, "nothing of it judged");
        assert_eq!(attribution.status("MFA", "acme/api", None), Status::Pass, "the organisation's verdict counts");
        assert_eq!(attribution.status("CLUSTER", "acme/api", None), Status::Unknown, "unattributed: overall verdict");
        assert_eq!(attribution.status("REVIEW", "acme/web", None), Status::Pass, "acme/web-ui is another repository");
        assert_eq!(attribution.status("MISSING", "acme/web", None), Status::Unknown);
        assert_eq!(
            attribution.status("PROTECTED", "acme/api", None),
            Status::Unknown,
            "a state control that left a repository out never passes it"
        );
    }
}
