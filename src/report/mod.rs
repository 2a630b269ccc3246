//! Reports: one `ReportModel` built from an evaluation, rendered to HTML, PDF and JSON.

pub mod attribution;
mod build;
pub mod changes;
pub mod csv;
mod for_people;
mod format;
pub mod html;
pub mod indicators;
pub mod levels;
mod limit;
pub mod model;
pub mod oscal;
pub mod pdf;
pub mod poam;
pub mod releases;
mod samples;
pub mod sarif;
pub mod sections;
pub mod trend;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use model::ReportModel;

pub use for_people::{SHOWN_PER_CONTROL, SHOWN_UNOBSERVED};
pub use format::{Paper, ReportFormat};

/// Writes the requested formats into `dir`; returns the files written.
pub fn write_reports(
    model: &ReportModel,
    dir: &Path,
    formats: &[ReportFormat],
    templates: Option<&Path>,
    paper: Paper,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create report folder {}", dir.display()))?;
    let formats = if formats.is_empty() {
        vec![
            ReportFormat::Html,
            ReportFormat::Pdf,
            ReportFormat::Json,
            ReportFormat::Csv,
            ReportFormat::Oscal,
            ReportFormat::Poam,
            ReportFormat::Sarif,
        ]
    } else {
        formats.to_vec()
    };
    // Each file is written as soon as it is rendered, so only one output is held in memory at a time (at
    // organisation scale the JSON, CSV and POA&M are hundreds of megabytes each).
    let mut written = Vec::new();
    let mut write = |name: &str, bytes: Vec<u8>| -> Result<()> {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
        Ok(())
    };
    for format in formats {
        match format {
            ReportFormat::Html => write("report.html", html::render(model, templates)?.into_bytes())?,
            ReportFormat::Pdf => write("report.pdf", pdf::render(model, paper)?)?,
            ReportFormat::Json => write("report.json", model.to_json()?.into_bytes())?,
            ReportFormat::Csv => {
                write("findings.csv", csv::findings(model)?)?;
                write("requirements.csv", csv::requirements(model)?)?;
            }
            ReportFormat::Oscal => write("assessment-results.json", oscal::assessment_results(model)?)?,
            ReportFormat::Poam => write("poam.json", poam::plan_of_action(model)?)?,
            ReportFormat::Sarif => write("report.sarif", sarif::failing_findings(model)?)?,
        }
    }
    Ok(written)
}
