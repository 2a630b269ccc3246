//! A compliance framework: its requirement ids with our own short labels, and how its own summary reads.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A framework file (`controls/frameworks/<id>.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    /// The id used in control mappings, e.g. `soc2`.
    pub id: String,
    /// The display name.
    pub name: String,
    /// The edition.
    pub version: String,
    /// Where the ids come from and the status of the labels.
    pub source: String,
    /// The summary a report limited to this framework opens with (beside the requirement table every framework has).
    #[serde(default, skip_serializing_if = "SummaryKind::is_plain")]
    pub summary: SummaryKind,
    /// Its maturity levels, lowest first; requirements name the levels they apply at.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<Level>,
    /// Bounds the framework sets on controls' parameters: a control run with a looser value does not decide this
    /// framework's requirements (they are unknown, with the reason).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameter_limits: Vec<ParameterLimit>,
    /// The requirements, in the framework's order.
    pub requirements: Vec<Requirement>,
}

/// A bound a framework sets on one control parameter (PCI DSS 6.3.3: critical fixes within 30 days).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParameterLimit {
    /// The control.
    pub control: String,
    /// Its parameter.
    pub param: String,
    /// The largest value the framework accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The smallest value the framework accepts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// Where the bound comes from, e.g. the requirement id.
    pub why: String,
}

impl ParameterLimit {
    /// Why `value` breaks this bound, or `None` when it keeps to it (a value that is not a number breaks it).
    pub fn broken_by(&self, value: &serde_json::Value) -> Option<String> {
        let shown = value.to_string();
        let Some(number) = value.as_f64() else {
            return Some(format!("{} ran with {} = {shown}, not a number ({})", self.control, self.param, self.why));
        };
        let bound = match (self.max, self.min) {
            (Some(max), _) if number > max => format!("at most {max}"),
            (_, Some(min)) if number < min => format!("at least {min}"),
            _ => return None,
        };
        Some(format!("{} ran with {} = {shown}; this framework needs {bound} ({})", self.control, self.param, self.why))
    }
}

/// The summary a framework's audit expects.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SummaryKind {
    /// Coverage, compliance and the requirement table only.
    #[default]
    Plain,
    /// Per repository, the highest level met and what stands between it and the next (needs `levels`).
    Levels,
    /// Per section (`group`) of the framework, the verdicts, the evidence, the manual items and what is missing.
    Sections,
    /// Per indicator, a timestamped validation result and how often the store re-validated it over the period.
    Indicators,
    /// Per release published in the period, what its mapped controls found.
    Releases,
}

impl SummaryKind {
    /// Whether this is the plain summary (the default, left out of serialised files).
    pub fn is_plain(&self) -> bool {
        *self == SummaryKind::Plain
    }
}

/// One maturity level of a framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Level {
    /// Its number, 1 for the lowest.
    pub id: u32,
    /// Its name, e.g. `Maturity Level 1` or `Source L1`.
    pub name: String,
}

/// One requirement of a framework.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    /// The official id, e.g. `CC8.1` or `8.32`.
    pub id: String,
    /// Our own short label (framework texts are copyrighted).
    pub label: String,
    /// How much CI/CD evidence can say about it: `H` directly, `M` partly, `-` not specific.
    pub cicd: String,
    /// The section, family or theme the framework files it under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The levels it applies at (a framework with `levels` only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<u32>,
    /// The id the framework's own OSCAL catalog gives it (NIST SP 800-53: `cm-5.1`), when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oscal_id: Option<String>,
    /// Controls that decide it, named from the framework's side (as a framework of your own maps built-in controls
    /// without copying them); the same as listing the requirement in each control's `mappings`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub decided_by: Vec<String>,
    /// Controls whose evidence supports it without deciding it: shown to whoever judges it by hand.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub supported_by: Vec<String>,
}
