//! GitHub dependency-submission snapshots (the body POSTed to the dependency submission API): resolved packages
//! per manifest, read as an SBOM of the repository at a commit.

use anyhow::Result;
use serde_json::Value;

use super::cyclonedx::package_name;
use super::json::{text, time};
use crate::facts::{Component, Facts, Sbom};

/// Whether a document is a dependency-submission snapshot.
pub fn detect(document: &Value) -> bool {
    document.get("detector").is_some() && document.get("manifests").is_some_and(Value::is_object)
}

/// Reads every resolved package of every manifest.
pub fn parse(document: &Value, _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("dependency-snapshot", "github-dependency-snapshot");
    facts.document_time = time(document, "/scanned");
    let detector = text(document, "/detector/name");
    facts.subject = match (text(document, "/ref"), text(document, "/sha")) {
        (Some(reference), Some(sha)) => Some(format!("{reference}@{sha}")),
        (reference, sha) => reference.or(sha),
    };
    let manifests = document.get("manifests").and_then(Value::as_object).cloned().unwrap_or_default();
    let mut relationships = 0;
    for manifest in manifests.values() {
        let resolved = manifest.get("resolved").and_then(Value::as_object).cloned().unwrap_or_default();
        for (name, package) in &resolved {
            let purl = text(package, "/package_url");
            relationships += package.get("dependencies").and_then(Value::as_array).map_or(0, Vec::len);
            facts.components.push(Component {
                name: purl.as_deref().and_then(package_name).unwrap_or_else(|| name.clone()),
                version: purl
                    .as_deref()
                    .and_then(|p| p.split('@').nth(1))
                    .map(|v| v.split('?').next().unwrap_or(v).to_string()),
                purl,
                component_type: text(package, "/relationship"),
                supplier: None,
                licenses: Vec::new(),
                sha256: None,
            });
        }
    }
    facts.sbom = Some(Sbom {
        format: "github-dependency-snapshot".into(),
        spec_version: text(document, "/version").unwrap_or_else(|| "0".into()),
        document_name: text(document, "/job/correlator"),
        serial_number: text(document, "/job/id"),
        created: facts.document_time,
        tools: detector.into_iter().collect(),
        relationship_count: relationships,
    });
    Ok(facts)
}
