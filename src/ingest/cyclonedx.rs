//! CycloneDX JSON 1.2–1.7: components (nested ones too), dependencies, vulnerabilities and VEX analysis.

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, number, severity_word, text, time};
use crate::error::input_error;
use crate::facts::{Component, Facts, Sbom, Scan, VexStatement, Vulnerability};

const VERSIONS: &[&str] = &["1.2", "1.3", "1.4", "1.5", "1.6", "1.7"];

/// Whether a document declares itself CycloneDX (or is shaped like one with a wrong `bomFormat`).
pub fn detect(document: &Value) -> bool {
    document.get("bomFormat").is_some()
        || (document.get("specVersion").is_some()
            && text(document, "/$schema").is_some_and(|s| s.contains("cyclonedx")))
}

/// Checks what the CycloneDX schema requires of the fields we read, then reads them.
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let spec_version = check(document, origin)?;
    let mut facts = Facts::new("cyclonedx", format!("cyclonedx-{spec_version}"));
    let main = document.pointer("/metadata/component");
    facts.subject = main.and_then(|component| match (text(component, "/name"), text(component, "/version")) {
        (Some(name), Some(version)) => Some(format!("{name}@{version}")),
        (name, _) => name,
    });
    facts.document_time = time(document, "/metadata/timestamp");
    let mut components = Vec::new();
    collect_components(array(document, "/components"), &mut components);
    let purls: BTreeMap<String, Option<String>> = components
        .iter()
        .filter_map(|(reference, component)| Some((reference.clone()?, component.purl.clone())))
        .collect();
    let tools = tool_names(document);
    facts.sbom = Some(Sbom {
        format: "cyclonedx".into(),
        spec_version: spec_version.clone(),
        document_name: facts.subject.clone(),
        serial_number: text(document, "/serialNumber"),
        created: facts.document_time,
        tools: tools.clone(),
        relationship_count: array(document, "/dependencies").iter().map(|d| array(d, "/dependsOn").len()).sum(),
    });
    facts.components = components.into_iter().map(|(_, component)| component).collect();
    let scanner = tools.first().cloned().unwrap_or_else(|| "CycloneDX".into());
    let describes_software = !facts.components.is_empty() || main.is_some();
    for vulnerability in array(document, "/vulnerabilities") {
        read_vulnerability(vulnerability, &purls, &scanner, describes_software, &mut facts);
    }
    if describes_software && document.get("vulnerabilities").is_some() {
        facts.scans.push(Scan {
            category: "vulnerability",
            tool: scanner,
            tool_version: None,
            result_count: facts.vulnerabilities.len(),
            ..Default::default()
        });
    }
    Ok(facts)
}

/// The checks the CycloneDX JSON Schema makes on the fields we rely on; errors name the JSON pointer.
fn check(document: &Value, origin: &str) -> Result<String> {
    let fail = |pointer: &str, expected: &str| Err(input_error(format!("{origin}: at {pointer}: expected {expected}")));
    if text(document, "/bomFormat").as_deref() != Some("CycloneDX") {
        return fail("/bomFormat", "\"CycloneDX\" (the CycloneDX schema allows no other value)");
    }
    let version = text(document, "/specVersion").unwrap_or_default();
    if !VERSIONS.contains(&version.as_str()) {
        return fail("/specVersion", &format!("one of {} (found {version:?})", VERSIONS.join(", ")));
    }
    if let Some(serial) = document.get("serialNumber") {
        if !serial.as_str().is_some_and(is_urn_uuid) {
            return fail(
                "/serialNumber",
                "a urn:uuid: serial number (RFC 4122), e.g. urn:uuid:3e671687-395b-41f5-a30f-a58921a69b79",
            );
        }
    }
    if let Some(timestamp) = document.pointer("/metadata/timestamp") {
        let valid = timestamp.as_str().is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok());
        if !valid {
            return fail("/metadata/timestamp", "an RFC 3339 date-time such as 2020-04-13T20:20:39+00:00");
        }
    }
    for (index, dependency) in array(document, "/dependencies").iter().enumerate() {
        if dependency.get("ref").and_then(Value::as_str).is_none_or(str::is_empty) {
            return fail(&format!("/dependencies/{index}/ref"), "a non-empty bom-ref naming the dependent component");
        }
    }
    Ok(version)
}

fn is_urn_uuid(serial: &str) -> bool {
    let Some(uuid) = serial.strip_prefix("urn:uuid:") else { return false };
    let groups: Vec<&str> = uuid.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups.iter().all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

fn collect_components(list: &[Value], out: &mut Vec<(Option<String>, Component)>) {
    for item in list {
        let licenses = array(item, "/licenses")
            .iter()
            .filter_map(|entry| first_text(entry, &["/license/id", "/license/name", "/expression"]))
            .collect();
        let sha256 = array(item, "/hashes")
            .iter()
            .find(|hash| text(hash, "/alg").as_deref() == Some("SHA-256"))
            .and_then(|hash| text(hash, "/content"));
        if let Some(name) = text(item, "/name") {
            out.push((
                text(item, "/bom-ref"),
                Component {
                    name,
                    version: text(item, "/version"),
                    purl: text(item, "/purl"),
                    component_type: text(item, "/type"),
                    supplier: first_text(item, &["/supplier/name", "/publisher", "/author"]),
                    licenses,
                    sha256,
                },
            ));
        }
        collect_components(array(item, "/components"), out);
    }
}

fn tool_names(document: &Value) -> Vec<String> {
    let tools = document.pointer("/metadata/tools");
    let listed: Vec<&Value> = match tools {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(object @ Value::Object(_)) => {
            array(object, "/components").iter().chain(array(object, "/services")).collect()
        }
        _ => Vec::new(),
    };
    listed.iter().filter_map(|tool| text(tool, "/name")).collect()
}

fn read_vulnerability(
    item: &Value,
    purls: &BTreeMap<String, Option<String>>,
    scanner: &str,
    describes_software: bool,
    facts: &mut Facts,
) {
    let Some(vuln_id) = text(item, "/id") else { return };
    let ratings = array(item, "/ratings");
    let cvss = ratings.iter().filter_map(|rating| number(rating, "/score")).reduce(f64::max);
    let severity = ratings
        .iter()
        .map(|rating| severity_word(text(rating, "/severity").as_deref()))
        .min_by_key(|word| {
            ["critical", "high", "medium", "low", "negligible", "unknown"].iter().position(|w| w == word)
        })
        .unwrap_or_else(|| "unknown".into());
    let state = text(item, "/analysis/state");
    let status = match state.as_deref() {
        Some("resolved") | Some("resolved_with_pedigree") => "fixed",
        Some("not_affected") | Some("false_positive") => "not_affected",
        Some("in_triage") => "under_investigation",
        _ => "affected",
    };
    let justification = first_text(item, &["/analysis/justification", "/analysis/detail"]);
    let aliases: Vec<String> =
        array(item, "/references").iter().filter_map(|reference| text(reference, "/id")).collect();
    let affected: Vec<Option<String>> = match array(item, "/affects") {
        [] => vec![None],
        affects => affects.iter().map(|a| text(a, "/ref")).collect(),
    };
    for reference in affected {
        let purl = reference
            .as_ref()
            .and_then(|r| purls.get(r).cloned().flatten().or_else(|| r.starts_with("pkg:").then(|| r.clone())));
        if state.is_some() {
            facts.vex_statements.push(VexStatement {
                format: "cyclonedx".into(),
                vuln_id: vuln_id.clone(),
                product: purl.clone().or_else(|| reference.clone()),
                status: status.into(),
                justification: justification.clone(),
                stated_at: time(item, "/updated").or_else(|| time(item, "/published")).or(facts.document_time),
            });
        }
        if describes_software {
            facts.vulnerabilities.push(Vulnerability {
                scanner: scanner.to_string(),
                target: reference.clone(),
                package: purl.as_deref().and_then(package_name),
                version: purl
                    .as_deref()
                    .and_then(|p| p.split('@').nth(1))
                    .map(|v| v.split('?').next().unwrap_or(v).to_string()),
                purl,
                vuln_id: vuln_id.clone(),
                aliases: aliases.clone(),
                severity: severity.clone(),
                cvss,
                fixed_version: None,
                status: status.into(),
                justification: justification.clone(),
            });
        }
    }
}

/// The package name in a purl: `pkg:npm/%40scope/name@1.0` → `@scope/name`.
pub fn package_name(purl: &str) -> Option<String> {
    let path = purl.strip_prefix("pkg:")?.split(['@', '?', '#']).next()?;
    let (_, name) = path.split_once('/')?;
    Some(name.replace("%40", "@"))
}
