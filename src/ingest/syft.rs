//! Syft's own JSON SBOM (`syft -o json`): artifacts, relationships, source and descriptor.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, text, time};
use crate::facts::{Component, Facts, Sbom};

/// Whether a document is a Syft JSON SBOM.
pub fn detect(document: &Value) -> bool {
    document.get("artifacts").is_some_and(Value::is_array) && document.get("artifactRelationships").is_some()
}

/// Reads the artifacts as SBOM components.
pub fn parse(document: &Value, _origin: &str) -> Result<Facts> {
    let version = text(document, "/schema/version").unwrap_or_else(|| "unknown".into());
    let mut facts = Facts::new("syft", format!("syft-json-{version}"));
    facts.subject = match document.pointer("/source/target") {
        Some(Value::String(target)) => Some(target.clone()),
        Some(target) => first_text(target, &["/userInput", "/name", "/path"]),
        None => text(document, "/source/name"),
    };
    facts.document_time = time(document, "/descriptor/timestamp");
    facts.sbom = Some(Sbom {
        format: "syft".into(),
        spec_version: version,
        document_name: facts.subject.clone(),
        serial_number: None,
        created: facts.document_time,
        tools: text(document, "/descriptor/name").into_iter().collect(),
        relationship_count: array(document, "/artifactRelationships").len(),
    });
    let artifacts = array(document, "/artifacts");
    for (index, artifact) in artifacts.iter().enumerate() {
        if text(artifact, "/name").is_none() {
            facts.skip("without a name", format!("/artifacts/{index}"));
        }
    }
    facts.components = artifacts
        .iter()
        .filter_map(|artifact| {
            Some(Component {
                name: text(artifact, "/name")?,
                version: text(artifact, "/version"),
                purl: text(artifact, "/purl"),
                component_type: text(artifact, "/type"),
                supplier: None,
                licenses: array(artifact, "/licenses")
                    .iter()
                    .filter_map(|license| match license {
                        Value::String(name) => Some(name.clone()),
                        object => first_text(object, &["/spdxExpression", "/value"]),
                    })
                    .collect(),
                sha256: None,
            })
        })
        .collect();
    Ok(facts)
}
