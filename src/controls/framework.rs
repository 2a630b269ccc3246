//! A compliance framework: its requirement ids with our own short labels.

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
    /// The requirements, in the framework's order.
    pub requirements: Vec<Requirement>,
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
}
