//! OSV-Scanner JSON (`osv-scanner --format json`): one vulnerability per alias group per package.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, number, severity_word, text};
use crate::facts::{Facts, Scan, Vulnerability};

const TOOL: &str = "OSV-Scanner";

/// Whether a document is an OSV-Scanner report.
pub fn detect(document: &Value) -> bool {
    document.get("results").and_then(Value::as_array).is_some_and(|results| {
        results.is_empty() && document.get("experimental_config").is_some()
            || results.first().is_some_and(|result| result.get("packages").is_some() && result.get("source").is_some())
    })
}

/// Reads each package's alias groups (falling back to each vulnerability when there are no groups).
pub fn parse(document: &Value, _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("osv-scanner", "osv-scanner-json");
    for (result_index, result) in array(document, "/results").iter().enumerate() {
        let target = text(result, "/source/path");
        for (package_index, package) in array(result, "/packages").iter().enumerate() {
            let package_pointer = format!("/results/{result_index}/packages/{package_index}");
            let records = array(package, "/vulnerabilities");
            let groups: Vec<Vec<String>> = match array(package, "/groups") {
                [] => records.iter().filter_map(|r| text(r, "/id")).map(|id| vec![id]).collect(),
                groups => groups
                    .iter()
                    .map(|group| array(group, "/ids").iter().filter_map(Value::as_str).map(str::to_string).collect())
                    .collect(),
            };
            for (index, ids) in groups.iter().enumerate() {
                let Some(vuln_id) = ids.first().cloned() else {
                    facts.skip("(vulnerability groups) without an id", format!("{}/groups/{index}", package_pointer));
                    continue;
                };
                let group = package.pointer(&format!("/groups/{index}")).unwrap_or(&Value::Null);
                let record = records.iter().find(|r| text(r, "/id").as_deref() == Some(&vuln_id));
                let mut aliases: Vec<String> = array(group, "/aliases")
                    .iter()
                    .chain(record.map(|r| array(r, "/aliases")).unwrap_or_default())
                    .filter_map(Value::as_str)
                    .filter(|alias| *alias != vuln_id)
                    .map(str::to_string)
                    .collect();
                aliases.sort();
                aliases.dedup();
                let name = text(package, "/package/name");
                facts.vulnerabilities.push(Vulnerability {
                    scanner: TOOL.into(),
                    target: target.clone(),
                    package: name.clone(),
                    version: text(package, "/package/version"),
                    purl: text(package, "/package/purl"),
                    vuln_id,
                    aliases,
                    severity: severity_word(record.and_then(|r| text(r, "/database_specific/severity")).as_deref()),
                    cvss: number(group, "/max_severity"),
                    fixed_version: record.and_then(|r| fixed_version(r, name.as_deref())),
                    status: "affected".into(),
                    justification: None,
                });
            }
        }
    }
    facts.scans.push(Scan {
        category: "vulnerability",
        tool: TOOL.into(),
        tool_version: None,
        result_count: facts.vulnerabilities.len(),
        ..Default::default()
    });
    Ok(facts)
}

fn fixed_version(record: &Value, package: Option<&str>) -> Option<String> {
    array(record, "/affected")
        .iter()
        .filter(|affected| package.is_none() || text(affected, "/package/name").as_deref() == package)
        .flat_map(|affected| array(affected, "/ranges"))
        .flat_map(|range| array(range, "/events"))
        .find_map(|event| text(event, "/fixed"))
}
