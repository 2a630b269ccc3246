//! `pipeproof controls` and `schema`: list, show, validate and test controls; print JSON schemas.

use std::path::{Path, PathBuf};

use anyhow::Result;

use crate::cli::SchemaKind;
use crate::controls::Catalogue;
use crate::error::{EXIT_GATE_FAILED, EXIT_OK};

/// `controls list`: every control with its domain, kind, severity and mappings.
pub fn controls_list(control_dirs: &[PathBuf], format: super::args::ListFormat) -> Result<u8> {
    let catalogue = Catalogue::load(control_dirs)?;
    if format == super::args::ListFormat::Json {
        println!("{}", serde_json::to_string_pretty(&catalogue_json(&catalogue))?);
        return Ok(EXIT_OK);
    }
    println!("{:<8} {:<10} {:<9} {:<9} {:<60} MAPPINGS", "ID", "DOMAIN", "KIND", "SEVERITY", "TITLE");
    for control in &catalogue.controls {
        let mappings: Vec<String> = control.mappings.iter().map(|(f, ids)| format!("{f}: {}", ids.join(" "))).collect();
        println!(
            "{:<8} {:<10} {:<9} {:<9} {:<60} {}",
            control.id,
            format!("{:?}", control.domain).to_lowercase(),
            format!("{:?}", control.kind).to_lowercase(),
            format!("{:?}", control.severity).to_lowercase(),
            control.title,
            mappings.join("; ")
        );
    }
    println!(
        "{} controls; frameworks: {}",
        catalogue.controls.len(),
        catalogue.frameworks.iter().map(|f| f.id.as_str()).collect::<Vec<_>>().join(", ")
    );
    Ok(EXIT_OK)
}

/// The catalogue as JSON: controls, frameworks (each requirement with the controls deciding and supporting it) and
/// crosswalks.
fn catalogue_json(catalogue: &Catalogue) -> serde_json::Value {
    use serde_json::json;
    let controls: Vec<serde_json::Value> = catalogue
        .controls
        .iter()
        .map(|c| {
            json!({
                "id": c.id, "title": c.title, "domain": c.domain.label(), "kind": format!("{:?}", c.kind).to_lowercase(),
                "severity": c.severity.as_str(), "mappings": c.mappings,
            })
        })
        .collect();
    let frameworks: Vec<serde_json::Value> = catalogue
        .frameworks
        .iter()
        .map(|f| {
            let requirements: Vec<serde_json::Value> = f
                .requirements
                .iter()
                .map(|r| {
                    let deciding: Vec<&str> =
                        catalogue.controls_for(&f.id, &r.id).iter().map(|c| c.id.as_str()).collect();
                    let mut value = serde_json::to_value(r).unwrap_or_default();
                    value["judged"] = json!(if deciding.is_empty() { "manual" } else { "automated" });
                    value["controls"] = json!(deciding);
                    value
                })
                .collect();
            json!({
                "id": f.id, "name": f.name, "version": f.version, "source": f.source, "summary": f.summary,
                "levels": f.levels, "requirements": requirements,
            })
        })
        .collect();
    let crosswalks: Vec<serde_json::Value> = catalogue
        .crosswalks
        .iter()
        .map(|x| json!({ "id": x.id, "from": x.from, "to": x.to, "source": x.source, "edges": x.edges.len() }))
        .collect();
    json!({ "controls": controls, "frameworks": frameworks, "crosswalks": crosswalks })
}

/// Prints one control in full.
pub fn show(id: &str, control_dirs: &[PathBuf]) -> Result<u8> {
    let catalogue = Catalogue::load(control_dirs)?;
    let control = catalogue.control(id).ok_or_else(|| {
        crate::error::input_error(format!("no control {id:?}; `pipeproof controls list` shows them all"))
    })?;
    println!("{} {}", control.id, control.title);
    println!("  source:      {}", catalogue.origins.get(&control.id).map(String::as_str).unwrap_or("?"));
    println!("  domain:      {}", control.domain.label());
    println!("  kind:        {:?}", control.kind);
    println!("  severity:    {:?}", control.severity);
    println!("  requires:    {}", control.requires.join(", "));
    println!("\nStatement\n  {}", control.statement.trim());
    println!("\nRationale\n  {}", control.rationale.trim());
    println!("\nRemediation\n  {}", control.remediation.trim());
    if !control.params.is_empty() {
        println!("\nParameters");
        for (name, param) in &control.params {
            println!("  {name} = {} ({})", param.default, param.description);
        }
    }
    println!("\nMappings");
    for (framework_id, ids) in &control.mappings {
        let framework = catalogue.framework(framework_id);
        for id in ids {
            let label = framework
                .and_then(|f| f.requirements.iter().find(|r| &r.id == id))
                .map(|r| r.label.as_str())
                .unwrap_or("");
            println!("  {} {id}  {label}", framework.map(|f| f.name.as_str()).unwrap_or(framework_id));
        }
    }
    println!("\nQuery\n{}", control.query.trim_end().lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n"));
    match catalogue.tests.get(&control.id) {
        Some((origin, tests)) => {
            println!("\nTest cases ({origin})");
            for case in &tests.cases {
                println!("  {} ({} expectation(s))", case.name, case.expect.len());
            }
        }
        None => println!("\nTest cases\n  none: add {}.test.yaml beside the control", control.id),
    }
    Ok(EXIT_OK)
}

fn dirs(dir: Option<&Path>) -> Vec<&Path> {
    dir.into_iter().collect()
}

/// Loads (and so validates) the built-in catalogue plus `dir`, and says what it found.
pub fn validate(dir: Option<&Path>) -> Result<u8> {
    let catalogue = Catalogue::load(&dirs(dir))?;
    let unknown = catalogue.unknown_references();
    if !unknown.is_empty() {
        return Err(crate::error::input_error(format!(
            "frameworks name controls or parameters that are not in the catalogue: {}",
            unknown.join("; ")
        )));
    }
    let requirements: usize = catalogue.frameworks.iter().map(|f| f.requirements.len()).sum();
    println!(
        "valid: {} controls, {} test files, {} frameworks ({} requirements), {} crosswalks",
        catalogue.controls.len(),
        catalogue.tests.len(),
        catalogue.frameworks.len(),
        requirements,
        catalogue.crosswalks.len()
    );
    let untested: Vec<&str> =
        catalogue.controls.iter().filter(|c| !catalogue.tests.contains_key(&c.id)).map(|c| c.id.as_str()).collect();
    if !untested.is_empty() {
        println!("warning: no test cases for {}", untested.join(", "));
    }
    Ok(EXIT_OK)
}

/// Runs the test cases of the built-in controls, or of the controls in `dir`, and with `fail_closed` the
/// fail-closed check of their passing cases.
pub fn test(dir: Option<&Path>, fail_closed: bool) -> Result<u8> {
    let catalogue = Catalogue::load(&dirs(dir))?;
    let only: Option<Vec<String>> = dir.map(|dir| {
        let prefix = dir.display().to_string();
        catalogue.origins.iter().filter(|(_, origin)| origin.starts_with(&prefix)).map(|(id, _)| id.clone()).collect()
    });
    let results = crate::evaluate::run_control_tests(&catalogue, only.as_deref(), fail_closed)?;
    let mut failed = 0;
    for result in &results {
        if result.passed() {
            println!("ok    {} {}", result.control_id, result.case);
        } else {
            failed += 1;
            println!("FAIL  {} {}", result.control_id, result.case);
            for failure in &result.failures {
                println!("        {failure}");
            }
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    Ok(if failed > 0 { EXIT_GATE_FAILED } else { EXIT_OK })
}

/// Prints a JSON Schema.
pub fn schema(kind: SchemaKind) -> Result<u8> {
    let schema = match kind {
        SchemaKind::Control => schemars::schema_for!(crate::controls::Control),
        SchemaKind::ControlTest => schemars::schema_for!(crate::controls::ControlTests),
        SchemaKind::Framework => schemars::schema_for!(crate::controls::Framework),
        SchemaKind::Crosswalk => schemars::schema_for!(crate::controls::Crosswalk),
        SchemaKind::Config => schemars::schema_for!(crate::config::Config),
        SchemaKind::Waivers => schemars::schema_for!(Vec<crate::evaluate::waivers::Waiver>),
        SchemaKind::Attestations => schemars::schema_for!(Vec<crate::evaluate::attestations::Attestation>),
        SchemaKind::Report => schemars::schema_for!(crate::report::ReportModel),
        SchemaKind::BundleManifest => schemars::schema_for!(crate::bundle::Manifest),
        SchemaKind::LogMapping => schemars::schema_for!(crate::ingest::LogMapping),
    };
    println!("{}", serde_json::to_string_pretty(&schema)?);
    Ok(EXIT_OK)
}
