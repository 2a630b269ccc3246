//! A crosswalk: how the requirements of one framework relate to another's (`controls/crosswalks/*.yaml`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How two requirements relate (the NIST OLIR set relationships).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relationship {
    /// They mean the same.
    Equal,
    /// The first is part of the second.
    Subset,
    /// The first contains the second.
    Superset,
    /// They overlap.
    Intersect,
}

/// One edge of a crosswalk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrosswalkEdge {
    /// Requirement id in the `from` framework.
    pub from: String,
    /// Requirement id in the `to` framework.
    pub to: String,
    /// How they relate.
    pub relationship: Relationship,
}

/// A crosswalk file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Crosswalk {
    /// Its id.
    pub id: String,
    /// The framework the edges start from.
    pub from: String,
    /// The framework the edges lead to.
    pub to: String,
    /// Where the mapping comes from and how far to trust it.
    pub source: String,
    /// The edges.
    pub edges: Vec<CrosswalkEdge>,
}
