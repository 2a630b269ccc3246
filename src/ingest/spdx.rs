//! SPDX 2.2 and 2.3 JSON: packages, relationships, licences, and advisories referenced from packages.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, text, time};
use crate::error::input_error;
use crate::facts::{Component, Facts, Sbom, Scan, Vulnerability};

/// Whether a document is SPDX (any version, so that SPDX 3 gets a clear refusal).
pub fn detect(document: &Value) -> bool {
    document.get("spdxVersion").is_some()
        || text(document, "/@context").is_some_and(|context| context.contains("spdx.org/rdf/3"))
}

/// Reads an SPDX 2.2/2.3 document; SPDX 3 (JSON-LD) is refused with a clear message.
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let version = text(document, "/spdxVersion");
    let spec = match version.as_deref() {
        Some(v @ ("SPDX-2.2" | "SPDX-2.3")) => v.trim_start_matches("SPDX-").to_string(),
        Some(other) if !other.starts_with("SPDX-3") => {
            return Err(input_error(format!(
                "{origin}: at /spdxVersion: unsupported SPDX version {other:?}: expected \"SPDX-2.2\" or \"SPDX-2.3\""
            )))
        }
        _ => {
            return Err(input_error(format!(
                "{origin}: SPDX 3 (JSON-LD) is not supported yet: expected an SPDX 2.2 or 2.3 JSON document \
                 (convert with `spdx-tools` or export SPDX 2.3 from the producing tool)"
            )))
        }
    };
    let mut facts = Facts::new("spdx", format!("spdx-{spec}"));
    facts.subject = text(document, "/name");
    facts.document_time = time(document, "/creationInfo/created");
    let tools: Vec<String> = array(document, "/creationInfo/creators")
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|creator| creator.strip_prefix("Tool:"))
        .map(|tool| tool.trim().to_string())
        .collect();
    facts.sbom = Some(Sbom {
        format: "spdx".into(),
        spec_version: spec,
        document_name: facts.subject.clone(),
        serial_number: text(document, "/documentNamespace"),
        created: facts.document_time,
        tools,
        relationship_count: array(document, "/relationships").len(),
    });
    for (index, package) in array(document, "/packages").iter().enumerate() {
        let purl = external_refs(package, "PACKAGE-MANAGER", "purl").next();
        // `name` is required, but converters write `packageName` or `PackageName` (the tag-value field's name);
        // failing all, the purl names the package.
        let Some(name) = first_text(package, &["/name", "/packageName", "/PackageName"])
            .or_else(|| purl.as_deref().and_then(name_in_purl))
        else {
            facts.skip("without a name or package URL", format!("/packages/{index}"));
            continue;
        };
        let licenses = ["/licenseConcluded", "/licenseDeclared"]
            .iter()
            .filter_map(|pointer| text(package, pointer))
            .filter(|license| !matches!(license.as_str(), "NOASSERTION" | "NONE"))
            .take(1)
            .collect();
        let sha256 = array(package, "/checksums")
            .iter()
            .find(|checksum| text(checksum, "/algorithm").as_deref() == Some("SHA256"))
            .and_then(|checksum| text(checksum, "/checksumValue"));
        for advisory in external_refs(package, "SECURITY", "advisory") {
            let id = advisory.trim_end_matches('/').rsplit('/').next().unwrap_or(&advisory).to_string();
            facts.vulnerabilities.push(Vulnerability {
                scanner: "SPDX advisory reference".into(),
                target: text(package, "/SPDXID"),
                package: Some(name.clone()),
                version: text(package, "/versionInfo"),
                purl: purl.clone(),
                vuln_id: id,
                aliases: vec![advisory],
                severity: "unknown".into(),
                status: "affected".into(),
                ..Vulnerability::default()
            });
        }
        facts.components.push(Component {
            name,
            version: text(package, "/versionInfo"),
            purl,
            component_type: first_text(package, &["/primaryPackagePurpose"]).map(|p| p.to_ascii_lowercase()),
            supplier: text(package, "/supplier").filter(|s| s != "NOASSERTION"),
            licenses,
            sha256,
        });
    }
    if !facts.vulnerabilities.is_empty() {
        facts.scans.push(Scan {
            category: "vulnerability",
            tool: "SPDX advisory reference".into(),
            tool_version: None,
            result_count: facts.vulnerabilities.len(),
            ..Default::default()
        });
    }
    Ok(facts)
}

/// The name inside a package URL: `pkg:npm/%40scope/name@1.0` → `@scope/name`.
fn name_in_purl(purl: &str) -> Option<String> {
    let path = purl.strip_prefix("pkg:")?.split(['@', '?', '#']).next()?;
    let (_, rest) = path.split_once('/')?;
    let name = rest.replace("%40", "@").replace("%2F", "/").replace("%2f", "/");
    (!name.is_empty()).then_some(name)
}

fn external_refs<'a>(package: &'a Value, category: &'a str, kind: &'a str) -> impl Iterator<Item = String> + 'a {
    array(package, "/externalRefs")
        .iter()
        .filter(move |reference| {
            text(reference, "/referenceCategory").is_some_and(|c| c.replace('_', "-") == category)
                && text(reference, "/referenceType").as_deref() == Some(kind)
        })
        .filter_map(|reference| text(reference, "/referenceLocator"))
}
