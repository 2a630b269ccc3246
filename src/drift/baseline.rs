//! The drift ratchet: an accepted baseline of findings (a file written by `drift --accept`, or a stored evaluation)
//! that later evaluations are compared with, so a job fails only when something got worse than what was accepted.

use std::path::Path;

use anyhow::{Context, Result};
use duckdb::Connection;
use serde::{Deserialize, Serialize};

use crate::drift::{findings_of, Findings, Judged};
use crate::error::input_error;
use crate::report::ReportModel;

/// The value of `format` in a baseline file.
const FORMAT: &str = "pipeproof-baseline";

/// An accepted state of every finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    /// Always `pipeproof-baseline`.
    pub format: String,
    /// The evaluation accepted.
    pub evaluation_id: i64,
    /// Its as-of moment, for display.
    pub as_of: String,
    /// Every finding as accepted.
    pub accepted: Vec<AcceptedFinding>,
}

/// One accepted finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AcceptedFinding {
    /// Control id.
    pub control: String,
    /// Resource.
    pub resource: String,
    /// The finding as accepted.
    #[serde(flatten)]
    pub judged: Judged,
}

impl Baseline {
    /// The baseline of one report's findings.
    pub fn of(model: &ReportModel) -> Baseline {
        let accepted = findings_of(model)
            .into_iter()
            .map(|((control, resource), judged)| AcceptedFinding { control, resource, judged })
            .collect();
        Baseline { format: FORMAT.into(), evaluation_id: model.evaluation_id, as_of: model.as_of.clone(), accepted }
    }

    /// `--baseline`: a baseline file when `reference` names an existing file, else a stored evaluation (id or date).
    pub fn resolve(conn: &Connection, reference: &str) -> Result<Baseline> {
        let path = Path::new(reference);
        if path.is_file() {
            let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
            let baseline: Baseline = serde_json::from_str(&text)
                .map_err(|e| input_error(format!("{} is not a pipeproof baseline: {e}", path.display())))?;
            if baseline.format != FORMAT {
                return Err(input_error(format!("{} is not a pipeproof baseline", path.display())));
            }
            return Ok(baseline);
        }
        let evaluation = crate::evaluate::which::named(conn, reference).map_err(|_| {
            input_error(format!("--baseline {reference:?} is neither a baseline file nor an evaluation id or date"))
        })?;
        Ok(Baseline::of(&ReportModel::load(conn, Some(evaluation), None)?))
    }

    /// Writes the baseline as pretty JSON (sorted, so accepting the same evaluation twice gives the same file).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
    }

    /// The accepted findings, by (control, resource).
    pub fn findings(&self) -> Findings {
        self.accepted.iter().map(|a| ((a.control.clone(), a.resource.clone()), a.judged.clone())).collect()
    }
}
