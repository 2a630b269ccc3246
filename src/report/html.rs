//! HTML rendering: handlebars templates (built in, or overridden from a folder), strict, escaped.

use std::path::Path;

use anyhow::{Context, Result};
use handlebars::Handlebars;

use super::ReportModel;
use crate::error::input_error;

/// The template files a report is made of: (registered name, file name).
const TEMPLATE_FILES: &[(&str, &str)] =
    &[("report", "report.html.hbs"), ("styles", "report.css"), ("framework_summary", "framework-summary.hbs")];

/// The report's script, inserted verbatim and allowed by its hash in the Content-Security-Policy.
const SCRIPT_FILE: &str = "report.js";

/// Renders the report as one self-contained HTML page.
pub fn render(model: &ReportModel, template_dir: Option<&Path>) -> Result<String> {
    render_page(model, template_dir, false)
}

/// Renders the report as an evidence bundle's `index.html`: each evidence item links to its raw bytes in the bundle.
pub fn render_for_bundle(model: &ReportModel, template_dir: Option<&Path>) -> Result<String> {
    render_page(model, template_dir, true)
}

fn render_page(model: &ReportModel, template_dir: Option<&Path>, in_bundle: bool) -> Result<String> {
    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    for (name, file) in TEMPLATE_FILES {
        let (origin, text) = template_source(template_dir, file)?;
        if *name == "report" {
            registry.register_template_string(name, text)
        } else {
            registry.register_partial(name, text)
        }
        .map_err(|error| input_error(format!("template {origin}: {error}")))?;
    }
    let (_, script) = template_source(template_dir, SCRIPT_FILE)?;
    if script.contains("</script") {
        return Err(input_error(format!("{SCRIPT_FILE} must not contain \"</script\"")));
    }
    let mut context = serde_json::to_value(model.for_people().as_ref())?;
    context["in_bundle"] = serde_json::Value::Bool(in_bundle);
    context["script_hash"] = format!("sha256-{}", script_digest(&script)).into();
    context["script"] = script.into();
    registry.render("report", &context).context("rendering the HTML report")
}

/// The base64 sha256 of the script, as a Content-Security-Policy `script-src` hash source.
fn script_digest(script: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes()))
}

fn template_source(template_dir: Option<&Path>, file: &str) -> Result<(String, String)> {
    if let Some(dir) = template_dir {
        let path = dir.join(file);
        if path.exists() {
            let text =
                std::fs::read_to_string(&path).with_context(|| format!("cannot read template {}", path.display()))?;
            return Ok((path.display().to_string(), text));
        }
    }
    let text = crate::embedded::find(crate::embedded::TEMPLATES, file)
        .ok_or_else(|| anyhow::anyhow!("built-in template {file} is missing"))?;
    Ok((format!("builtin:report-templates/{file}"), text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny_model() -> ReportModel {
        crate::report::model::sample_model()
    }

    #[test]
    fn a_template_folder_overrides_the_built_in_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.css"), "body { color: rebeccapurple; }").unwrap();
        let html = render(&tiny_model(), Some(dir.path())).unwrap();
        assert!(html.contains("rebeccapurple"));
        assert!(html.contains("Executive summary"), "the built-in page template is still used");
    }

    #[test]
    fn evidence_text_is_escaped() {
        let html = render(&tiny_model(), None).unwrap();
        assert!(html.contains("Example &lt;Org&gt;"));
        assert!(!html.contains("Example <Org>"));
    }

    #[test]
    fn strict_mode_turns_a_missing_field_into_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.html.hbs"), "<p>{{no_such_field}}</p>").unwrap();
        let error = render(&tiny_model(), Some(dir.path())).unwrap_err();
        assert!(format!("{error:#}").contains("no_such_field"), "{error:#}");
    }

    #[test]
    fn a_broken_template_names_its_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.html.hbs"), "{{#each controls}}").unwrap();
        let error = render(&tiny_model(), Some(dir.path())).unwrap_err().to_string();
        assert!(error.contains("report.html.hbs"), "{error}");
    }
}
