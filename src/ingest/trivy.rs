//! Trivy JSON in every shape it is found: `SchemaVersion` 2 reports, legacy bare arrays, Kubernetes cluster
//! reports, Trivy Operator resources (VulnerabilityReport, ClusterComplianceReport), ASFF exports and summary ids.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, level_for, number, severity_word, text, time};
use crate::error::input_error;
use crate::facts::{CodeFinding, Facts, Scan, SecretFinding, Vulnerability};

const TOOL: &str = "Trivy";
const EXPECTED: &str = "a Trivy JSON report (trivy --format json)";

/// Whether a document is one of Trivy's JSON shapes.
pub fn detect(document: &Value) -> bool {
    let object_keys = |keys: &[&str]| keys.iter().all(|key| document.get(*key).is_some());
    object_keys(&["SchemaVersion", "ArtifactName"])
        || object_keys(&["ClusterName"])
        || document.get("Findings").and_then(Value::as_array).is_some_and(|findings| {
            findings.first().is_some_and(|f| text(f, "/ProductFields/Product Name").as_deref() == Some("Trivy"))
        })
        || operator_kind(document).is_some()
        || document.as_array().is_some_and(|items| {
            items.first().is_some_and(|item| item.get("Target").is_some() || operator_kind(item).is_some())
        })
        || (document.as_object().is_some_and(|object| object.len() == 2)
            && document.get("vulnerabilities").is_some_and(Value::is_array)
            && document.get("misconfigurations").is_some_and(Value::is_array))
}

fn operator_kind(document: &Value) -> Option<&str> {
    let api = document.get("apiVersion")?.as_str()?;
    api.starts_with("aquasecurity.github.io/").then(|| document.get("kind")?.as_str()).flatten()
}

/// Reads any Trivy shape into vulnerabilities, misconfiguration findings and secret findings.
pub fn parse(document: &Value, origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("trivy", "trivy-json");
    let mut reader = Reader { facts: &mut facts, version: text(document, "/Trivy/Version") };
    if let Some(items) = document.as_array() {
        if items.first().is_some_and(|item| operator_kind(item).is_some()) {
            reader.facts.format = "trivy-operator".into();
            for item in items {
                reader.operator(item, origin)?;
            }
        } else {
            reader.facts.format = "trivy-json-legacy".into();
            reader.results(items, None);
        }
    } else if let Some(version) = document.get("SchemaVersion") {
        if version.as_i64() != Some(2) {
            return Err(input_error(format!(
                "{origin}: unsupported Trivy SchemaVersion {version}: expected 2 (or the legacy bare array)"
            )));
        }
        reader.facts.format = "trivy-json-2".into();
        reader.facts.subject = text(document, "/ArtifactName");
        reader.facts.artifact_type = text(document, "/ArtifactType").and_then(|kind| artifact_type(&kind));
        reader.facts.document_time = time(document, "/CreatedAt");
        reader.results(array(document, "/Results"), None);
        if document.get("Results").is_none() {
            reader.facts.warnings.push(format!(
                "{origin}: the report has no Results: Trivy found nothing it could scan in {}",
                text(document, "/ArtifactName").unwrap_or_else(|| "the artifact".into())
            ));
        }
    } else if document.get("ClusterName").is_some() {
        reader.facts.format = "trivy-k8s".into();
        reader.facts.subject = text(document, "/ClusterName").map(|name| format!("cluster:{name}"));
        reader.facts.artifact_type = Some("cluster");
        for resource in array(document, "/Resources")
            .iter()
            .chain(array(document, "/Vulnerabilities"))
            .chain(array(document, "/Misconfigurations"))
        {
            let place = ["/Namespace", "/Kind", "/Name"].iter().filter_map(|p| text(resource, p)).collect::<Vec<_>>();
            reader.results(array(resource, "/Results"), Some(&place.join("/")));
        }
    } else if let Some(findings) = document.get("Findings").and_then(Value::as_array) {
        reader.facts.format = "trivy-asff".into();
        reader.asff(findings);
    } else if operator_kind(document).is_some() {
        reader.facts.format = "trivy-operator".into();
        reader.operator(document, origin)?;
    } else if document.get("vulnerabilities").is_some() && document.get("misconfigurations").is_some() {
        reader.facts.format = "trivy-summary-ids".into();
        reader.summary_ids(document);
    } else {
        return Err(input_error(format!("{origin}: not a Trivy report: expected {EXPECTED}")));
    }
    Ok(facts)
}

/// Our name for Trivy's `ArtifactType` (`container_image`, `filesystem`, `repository`, `cyclonedx`, `spdx`, `vm`).
fn artifact_type(kind: &str) -> Option<&'static str> {
    match kind {
        "container_image" => Some("image"),
        "filesystem" => Some("filesystem"),
        "repository" => Some("repository"),
        "cyclonedx" | "spdx" => Some("sbom"),
        "vm" => Some("vm"),
        _ => None,
    }
}

struct Reader<'a> {
    facts: &'a mut Facts,
    version: Option<String>,
}

impl Reader<'_> {
    fn scan(&mut self, category: &'static str, count: usize) {
        match self.facts.scans.iter_mut().find(|scan| scan.category == category) {
            Some(scan) => scan.result_count += count,
            None => self.facts.scans.push(Scan {
                category,
                tool: TOOL.into(),
                tool_version: self.version.clone(),
                result_count: count,
                ..Default::default()
            }),
        }
    }

    /// Each result's findings, and a scan of each kind the report shows Trivy ran: a vulnerability scan only where a
    /// result is a package scan (`Class` `os-pkgs`/`lang-pkgs`, or, in reports older than `Class`, one that lists
    /// packages' vulnerabilities), never merely because the file is a Trivy report.
    fn results(&mut self, results: &[Value], place: Option<&str>) {
        for result in results {
            let target = match (place, text(result, "/Target")) {
                (Some(place), Some(target)) => Some(format!("{place}: {target}")),
                (Some(place), None) => Some(place.to_string()),
                (None, target) => target,
            };
            let vulnerabilities = array(result, "/Vulnerabilities");
            let package_scan = match text(result, "/Class").as_deref() {
                Some(class) => matches!(class, "os-pkgs" | "lang-pkgs"),
                None => {
                    result.get("Vulnerabilities").is_some()
                        || (result.get("Type").is_some()
                            && result.get("Misconfigurations").is_none()
                            && result.get("Secrets").is_none())
                }
            };
            if package_scan || !vulnerabilities.is_empty() {
                self.scan("vulnerability", vulnerabilities.len());
            }
            for vulnerability in vulnerabilities {
                self.facts.vulnerabilities.push(from_vulnerability(vulnerability, target.clone()));
            }
            let failed: Vec<&Value> = array(result, "/Misconfigurations")
                .iter()
                .filter(|m| text(m, "/Status").is_none_or(|status| status == "FAIL"))
                .collect();
            if !failed.is_empty() || text(result, "/Class").as_deref() == Some("config") {
                self.scan("code", failed.len());
            }
            for misconfiguration in failed {
                self.facts.code_findings.push(self.misconfiguration(misconfiguration, target.as_deref()));
            }
            let secrets = array(result, "/Secrets");
            if !secrets.is_empty() || text(result, "/Class").as_deref() == Some("secret") {
                self.scan("secret", secrets.len());
            }
            for secret in secrets {
                self.facts.secret_findings.push(SecretFinding {
                    scanner: TOOL.into(),
                    rule_id: text(secret, "/RuleID").unwrap_or_else(|| "unknown".into()),
                    title: text(secret, "/Title"),
                    severity: severity_word(text(secret, "/Severity").as_deref()),
                    file: target.clone(),
                    line: number(secret, "/StartLine").map(|line| line as i64),
                    commit_sha: None,
                    fingerprint: text(secret, "/Fingerprint"),
                });
            }
        }
    }

    fn misconfiguration(&self, item: &Value, target: Option<&str>) -> CodeFinding {
        let severity = severity_word(text(item, "/Severity").as_deref());
        let line = number(item, "/CauseMetadata/StartLine").filter(|line| *line > 0.0);
        CodeFinding {
            tool: TOOL.into(),
            tool_version: self.version.clone(),
            rule_id: first_text(item, &["/AVDID", "/ID", "/id", "/checkID"]),
            rule_name: first_text(item, &["/Title", "/title"]),
            level: level_for(&severity),
            security_severity: None,
            message: first_text(item, &["/Message", "/Description", "/description"]),
            location: target.map(|target| match line {
                Some(line) => format!("{target}:{line}"),
                None => target.to_string(),
            }),
            fingerprint: None,
            suppressed: false,
        }
    }

    fn operator(&mut self, item: &Value, origin: &str) -> Result<()> {
        let name = text(item, "/metadata/name").unwrap_or_default();
        match operator_kind(item) {
            Some("VulnerabilityReport") => {
                let report = item.get("report").unwrap_or(&Value::Null);
                self.version = text(report, "/scanner/version");
                let image = match (text(report, "/artifact/repository"), text(report, "/artifact/tag")) {
                    (Some(repository), Some(tag)) => Some(format!("{repository}:{tag}")),
                    (repository, _) => repository,
                };
                self.facts.subject = self.facts.subject.take().or(image);
                self.facts.artifact_type = Some("image");
                self.facts.document_time = time(report, "/updateTimestamp");
                let vulnerabilities = array(report, "/vulnerabilities");
                self.scan("vulnerability", vulnerabilities.len());
                for vulnerability in vulnerabilities {
                    let mut row = from_vulnerability(vulnerability, Some(name.clone()));
                    row.cvss = row.cvss.or_else(|| number(vulnerability, "/score"));
                    self.facts.vulnerabilities.push(row);
                }
            }
            Some("ClusterComplianceReport") => {
                self.facts.subject = Some(format!("compliance:{name}"));
                self.facts.document_time = time(item, "/status/updateTimestamp");
                let failing: Vec<&Value> = array(item, "/status/summaryReport/controlCheck")
                    .iter()
                    .filter(|check| number(check, "/totalFail").is_some_and(|fails| fails > 0.0))
                    .collect();
                self.scan("code", failing.len());
                for check in failing {
                    let mut finding = self.misconfiguration(check, None);
                    finding.tool = "Trivy Operator compliance".into();
                    finding.message =
                        Some(format!("{} resource(s) fail this check", number(check, "/totalFail").unwrap_or(0.0)));
                    self.facts.code_findings.push(finding);
                }
            }
            Some(other) => {
                return Err(input_error(format!(
                    "{origin}: Trivy Operator kind {other:?} is not evidence we read: expected a \
                     VulnerabilityReport or ClusterComplianceReport"
                )))
            }
            None => return Err(input_error(format!("{origin}: not a Trivy Operator resource"))),
        }
        Ok(())
    }

    fn asff(&mut self, findings: &[Value]) {
        self.scan("vulnerability", findings.len());
        for finding in findings {
            let other = finding.pointer("/Resources/0/Details/Other").unwrap_or(&Value::Null);
            self.facts.subject = self
                .facts
                .subject
                .take()
                .or_else(|| text(finding, "/Resources/0/Details/Container/ImageName"))
                .or_else(|| text(finding, "/Resources/0/Id"));
            self.facts.document_time = self.facts.document_time.or_else(|| time(finding, "/CreatedAt"));
            self.facts.vulnerabilities.push(Vulnerability {
                scanner: TOOL.into(),
                target: text(finding, "/Resources/0/Id"),
                package: text(other, "/PkgName"),
                version: text(other, "/Installed Package"),
                purl: None,
                vuln_id: text(other, "/CVE ID").or_else(|| text(finding, "/Title")).unwrap_or_default(),
                aliases: Vec::new(),
                severity: severity_word(text(finding, "/Severity/Label").as_deref()),
                cvss: number(other, "/NvdCvssScoreV3").or_else(|| number(other, "/NvdCvssScoreV2")),
                fixed_version: text(other, "/Patched Package"),
                status: "affected".into(),
                justification: None,
            });
        }
    }

    fn summary_ids(&mut self, document: &Value) {
        let vulnerabilities = array(document, "/vulnerabilities");
        self.scan("vulnerability", vulnerabilities.len());
        for id in vulnerabilities.iter().filter_map(Value::as_str) {
            self.facts.vulnerabilities.push(Vulnerability {
                scanner: TOOL.into(),
                vuln_id: id.to_string(),
                severity: "unknown".into(),
                status: "affected".into(),
                ..Vulnerability::default()
            });
        }
        let misconfigurations = array(document, "/misconfigurations");
        self.scan("code", misconfigurations.len());
        for id in misconfigurations.iter().filter_map(Value::as_str) {
            self.facts.code_findings.push(CodeFinding {
                tool: TOOL.into(),
                rule_id: Some(id.to_string()),
                level: "warning".into(),
                ..CodeFinding::default()
            });
        }
    }
}

fn from_vulnerability(item: &Value, target: Option<String>) -> Vulnerability {
    let cvss = item.get("CVSS").and_then(Value::as_object).and_then(|sources| {
        sources
            .values()
            .flat_map(|source| ["/V40Score", "/V3Score", "/V2Score"].iter().filter_map(|p| number(source, p)))
            .reduce(f64::max)
    });
    let trivy_status = text(item, "/Status");
    let status = match trivy_status.as_deref() {
        Some("not_affected") => "not_affected",
        Some("under_investigation") => "under_investigation",
        _ => "affected",
    };
    Vulnerability {
        scanner: TOOL.into(),
        target,
        package: first_text(item, &["/PkgName", "/resource"]),
        version: first_text(item, &["/InstalledVersion", "/installedVersion"]),
        purl: text(item, "/PkgIdentifier/PURL"),
        vuln_id: first_text(item, &["/VulnerabilityID", "/vulnerabilityID"]).unwrap_or_default(),
        aliases: Vec::new(),
        severity: severity_word(first_text(item, &["/Severity", "/severity"]).as_deref()),
        cvss,
        fixed_version: first_text(item, &["/FixedVersion", "/fixedVersion"]),
        status: status.into(),
        justification: trivy_status.filter(|s| !matches!(s.as_str(), "affected" | "fixed" | "unknown")),
    }
}
