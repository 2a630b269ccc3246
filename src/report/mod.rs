//! Reports: one `ReportModel` built from an evaluation, rendered to HTML, PDF and JSON.

pub mod html;
pub mod model;
pub mod pdf;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

pub use model::ReportModel;

use crate::cli::ReportFormat;

/// Writes the requested formats into `dir`; returns the files written.
pub fn write_reports(
    model: &ReportModel,
    dir: &Path,
    formats: &[ReportFormat],
    templates: Option<&Path>,
) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create report folder {}", dir.display()))?;
    let formats = if formats.is_empty() {
        vec![ReportFormat::Html, ReportFormat::Pdf, ReportFormat::Json]
    } else {
        formats.to_vec()
    };
    let mut written = Vec::new();
    for format in formats {
        let (name, bytes) = match format {
            ReportFormat::Html => ("report.html", html::render(model, templates)?.into_bytes()),
            ReportFormat::Pdf => ("report.pdf", pdf::render(model)?),
            ReportFormat::Json => ("report.json", model.to_json()?.into_bytes()),
        };
        let path = dir.join(name);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        written.push(path);
    }
    Ok(written)
}
