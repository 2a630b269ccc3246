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
    let mut files: Vec<(&str, Vec<u8>)> = Vec::new();
    for format in formats {
        match format {
            ReportFormat::Html => files.push(("report.html", html::render(model, templates)?.into_bytes())),
            ReportFormat::Pdf => files.push(("report.pdf", pdf::render(model, paper)?)),
            ReportFormat::Json => files.push(("report.json", model.to_json()?.into_bytes())),
            ReportFormat::Csv => {
                files.push(("findings.csv", csv::findings(model)?));
                files.push(("requirements.csv", csv::requirements(model)?));
            }
            ReportFormat::Oscal => files.push(("assessment-results.json", oscal::assessment_results(model)?)),
            ReportFormat::Poam => files.push(("poam.json", poam::plan_of_action(model)?)),
            ReportFormat::Sarif => files.push(("report.sarif", sarif::failing_findings(model)?)),
        }
    }
    let mut written = Vec::new();
    for (name, bytes) in files {
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
