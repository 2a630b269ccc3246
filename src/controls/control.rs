//! One control: what it checks, how (SQL), how bad a failure is, and which requirements it evidences.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The pipeline domain a control belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// Source code repository.
    Source,
    /// Build environment.
    Build,
    /// Automated security testing.
    Testing,
    /// Artifact repository.
    Artifacts,
    /// Deployment.
    Deployment,
    /// Monitoring and logging.
    Monitoring,
    /// Compliance and governance.
    Governance,
}

impl Domain {
    /// The domain's display name.
    pub fn label(self) -> &'static str {
        match self {
            Domain::Source => "Source code",
            Domain::Build => "Build",
            Domain::Testing => "Security testing",
            Domain::Artifacts => "Artifacts",
            Domain::Deployment => "Deployment",
            Domain::Monitoring => "Monitoring",
            Domain::Governance => "Governance",
        }
    }
}

/// Whether a control judges settings at a moment or events over a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ControlKind {
    /// Settings as of a moment.
    State,
    /// Events over the period.
    Operation,
}

/// How serious a failure of the control is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Exploitable now, or defeats other controls.
    Critical,
    /// A serious weakness.
    High,
    /// A weakness worth fixing this quarter.
    Medium,
    /// Hygiene.
    Low,
}

impl Severity {
    /// Sort rank: critical first.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// The name used in control files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// Reads a name written by [`Severity::as_str`].
    pub fn parse(text: &str) -> Option<Severity> {
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low].into_iter().find(|s| s.as_str() == text)
    }
}

/// Which way a numeric parameter is stricter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stricter {
    /// A larger value is stricter (e.g. required approvals).
    Higher,
    /// A smaller value is stricter (e.g. days allowed to fix).
    Lower,
}

/// A control parameter, bound as a DuckDB variable of the same name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Param {
    /// The control's baseline, used when the organisation policy sets none.
    pub default: serde_json::Value,
    /// What the parameter means.
    pub description: String,
    /// For numbers: which way is stricter. Policy may then only tighten the baseline, never weaken it.
    #[serde(default)]
    pub stricter: Option<Stricter>,
}

/// A control definition (`controls/<domain>/<ID>.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Control {
    /// Stable id, e.g. `SRC-06`.
    pub id: String,
    /// A short title.
    pub title: String,
    /// The pipeline domain.
    pub domain: Domain,
    /// State or operation.
    pub kind: ControlKind,
    /// Severity of a failure.
    pub severity: Severity,
    /// What must hold, in one or two sentences.
    pub statement: String,
    /// Why it matters.
    pub rationale: String,
    /// What to do when it fails.
    pub remediation: String,
    /// Parameters, bound as DuckDB variables (`getvariable('name')`).
    #[serde(default)]
    pub params: BTreeMap<String, Param>,
    /// Fact tables (views) the query reads, and `manual_attestations` when sign-offs decide it; when all are empty
    /// the verdict is unknown.
    pub requires: Vec<String>,
    /// SQL returning `resource, status, reason, evidence_id` rows.
    pub query: String,
    /// Framework id → requirement ids this control gives evidence for.
    #[serde(default)]
    pub mappings: BTreeMap<String, Vec<String>>,
    /// Facts whose absence may leave a pass standing, each with why: `table.column` (the column NULL) or `table`
    /// (a row of it left out). `controls test` takes every other fact of a passing case away in turn and requires
    /// the pass to turn into something else: a pass must rest on evidence.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub absence_safe: BTreeMap<String, String>,
    /// The forges whose repositories and groups this control's query is written and tested for (default: GitHub
    /// only). Its verdict on another forge's (a resource named `gitlab:…`) is unknown: it was not judged on that
    /// forge's evidence.
    #[serde(default = "github_only")]
    pub forges: Vec<Forge>,
}

/// A source forge whose evidence controls judge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Forge {
    /// GitHub (github.com or Enterprise Server).
    Github,
    /// GitLab (gitlab.com or self-managed); its groups are named `gitlab:<group path>`, its projects
    /// `gitlab:<project path>`.
    Gitlab,
}

impl Forge {
    /// The prefix of every resource of this forge (empty for GitHub, whose names came first).
    pub fn resource_prefix(self) -> &'static str {
        match self {
            Forge::Github => "",
            Forge::Gitlab => "gitlab:",
        }
    }

    /// The forge a resource belongs to, by its name.
    pub fn of_resource(resource: &str) -> Forge {
        if resource.starts_with(Forge::Gitlab.resource_prefix()) {
            Forge::Gitlab
        } else {
            Forge::Github
        }
    }

    /// Its name in reports.
    pub fn label(self) -> &'static str {
        match self {
            Forge::Github => "GitHub",
            Forge::Gitlab => "GitLab",
        }
    }
}

fn github_only() -> Vec<Forge> {
    vec![Forge::Github]
}

impl Control {
    /// Whether manual attestations decide it: its query reads `manual_attestations`.
    pub fn takes_attestations(&self) -> bool {
        self.requires.iter().any(|table| table == crate::evaluate::MANUAL_ATTESTATIONS)
    }
}
