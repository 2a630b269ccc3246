//! A control's test cases (`<ID>.test.yaml` beside the control): fact rows in, expected verdicts out.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A test file: one or more cases for one control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlTests {
    /// The control these cases test.
    pub control: String,
    /// The cases.
    pub cases: Vec<TestCase>,
}

/// One case: facts, parameters, and the verdict expected for each resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    /// What the case shows.
    pub name: String,
    /// Parameter values for this case (others keep the control's defaults).
    #[serde(default)]
    pub params: BTreeMap<String, serde_json::Value>,
    /// The period evaluated, as `--period` takes it (`2026-Q2`, `2026-05`, `2026-05-01..2026-05-31`); without one
    /// the case is evaluated as of 2100-01-01, with no period.
    #[serde(default)]
    pub period: Option<String>,
    /// Fact rows per fact table (e.g. `branch_rules`); bookkeeping columns (run, evidence, time) are filled in.
    #[serde(default)]
    pub facts: BTreeMap<String, Vec<BTreeMap<String, serde_json::Value>>>,
    /// Manual attestations in force, as written in `attestations.yaml` (documents are not looked up).
    #[serde(default)]
    pub attestations: Vec<crate::evaluate::attestations::Attestation>,
    /// Every resource the control must judge, with its status; no other resource may appear.
    pub expect: Vec<Expectation>,
}

/// The verdict expected for one resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// The resource.
    pub resource: String,
    /// `pass`, `fail`, `unknown` or `not_applicable`.
    pub status: String,
    /// Text the reason must contain, if given.
    #[serde(default)]
    pub reason_contains: Option<String>,
}

/// Whether a file name is a control test file rather than a control.
pub fn is_test_file(name: &str) -> bool {
    name.ends_with(".test.yaml") || name.ends_with(".test.yml")
}
