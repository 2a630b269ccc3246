//! GitLab files: security reports (SAST, dependency and container scanning, secret detection), Code Quality
//! reports, and merge-request lists exported from the API.

use anyhow::Result;
use serde_json::Value;

use super::json::{array, first_text, level_for, number, severity_word, text, time};
use crate::facts::{CodeFinding, Completion, Facts, MergeRequest, Scan, SecretFinding, Vulnerability};

/// Whether a document is a GitLab security report.
pub fn is_security_report(document: &Value) -> bool {
    document.get("vulnerabilities").is_some_and(Value::is_array)
        && document.get("version").is_some_and(Value::is_string)
        && (document.get("remediations").is_some() || document.get("scan").is_some())
}

/// Whether a document is a GitLab Code Quality report.
pub fn is_code_quality(document: &Value) -> bool {
    document.as_array().is_some_and(|items| {
        items.first().is_some_and(|first| first.get("check_name").is_some() && first.get("fingerprint").is_some())
    })
}

/// Whether a document is a list of merge requests from the GitLab API.
pub fn is_merge_request_list(document: &Value) -> bool {
    document.as_array().is_some_and(|items| {
        items.first().is_some_and(|first| first.get("iid").is_some() && first.get("target_branch").is_some())
    })
}

/// Reads a security report; the report type comes from `scan.type`, else from the findings' shape.
pub fn parse_security_report(document: &Value, _origin: &str) -> Result<Facts> {
    let version = text(document, "/version").unwrap_or_default();
    let mut facts = Facts::new("gitlab-security-report", format!("gitlab-security-report-{version}"));
    let findings = array(document, "/vulnerabilities");
    let report_type = text(document, "/scan/type").unwrap_or_else(|| guess_type(findings));
    let tool = first_text(document, &["/scan/scanner/name", "/scan/analyzer/name"])
        .or_else(|| findings.first().and_then(|f| text(f, "/scanner/name")))
        .unwrap_or_else(|| format!("GitLab {}", report_type.replace('_', " ")));
    let tool_version = first_text(document, &["/scan/scanner/version", "/scan/analyzer/version"]);
    facts.document_time = time(document, "/scan/end_time");
    for finding in findings {
        let severity = severity_word(text(finding, "/severity").as_deref());
        let identifier = array(finding, "/identifiers").first().and_then(|id| text(id, "/value"));
        let file = text(finding, "/location/file");
        let line = number(finding, "/location/start_line").map(|line| line as i64);
        match report_type.as_str() {
            "dependency_scanning" | "container_scanning" | "cluster_image_scanning" => {
                facts.subject = facts.subject.take().or_else(|| text(finding, "/location/image"));
                facts.vulnerabilities.push(Vulnerability {
                    scanner: tool.clone(),
                    target: file.clone().or_else(|| text(finding, "/location/image")),
                    package: text(finding, "/location/dependency/package/name"),
                    version: text(finding, "/location/dependency/version"),
                    purl: None,
                    vuln_id: identifier.clone().or_else(|| text(finding, "/cve")).unwrap_or_default(),
                    aliases: array(finding, "/identifiers")
                        .iter()
                        .skip(1)
                        .filter_map(|id| text(id, "/value"))
                        .collect(),
                    severity,
                    cvss: None,
                    fixed_version: None,
                    status: "affected".into(),
                    justification: None,
                });
            }
            "secret_detection" => facts.secret_findings.push(SecretFinding {
                scanner: tool.clone(),
                rule_id: identifier.clone().unwrap_or_else(|| "unknown".into()),
                title: text(finding, "/name"),
                severity,
                file: file.clone(),
                line,
                commit_sha: text(finding, "/location/commit/sha").filter(|sha| !sha.trim_matches('0').is_empty()),
                fingerprint: text(finding, "/id"),
            }),
            _ => facts.code_findings.push(CodeFinding {
                tool: tool.clone(),
                tool_version: tool_version.clone(),
                rule_id: identifier.clone(),
                rule_name: text(finding, "/name"),
                level: level_for(&severity),
                security_severity: None,
                message: first_text(finding, &["/message", "/description"]),
                location: file.map(|file| match line {
                    Some(line) => format!("{file}:{line}"),
                    None => file,
                }),
                fingerprint: first_text(finding, &["/id", "/cve"]),
                suppressed: false,
            }),
        }
    }
    let (category, count) = match report_type.as_str() {
        "dependency_scanning" | "container_scanning" | "cluster_image_scanning" => {
            ("vulnerability", facts.vulnerabilities.len())
        }
        "secret_detection" => ("secret", facts.secret_findings.len()),
        _ => ("code", facts.code_findings.len()),
    };
    let mut scan = Scan { category, tool, tool_version, result_count: count, ..Default::default() };
    // GitLab's security report schema: `scan.status` is `success` or `failure`; `scan.messages` carry errors.
    if text(document, "/scan/status").as_deref() == Some("failure") {
        scan.mark(Completion::Failed, "the report's scan.status is failure");
    }
    let errors: Vec<String> = array(document, "/scan/messages")
        .iter()
        .filter(|message| text(message, "/level").as_deref() == Some("error"))
        .filter_map(|message| text(message, "/value"))
        .collect();
    if let Some(first) = errors.first() {
        let first: String = first.chars().take(200).collect();
        scan.mark(Completion::Partial, format!("{} error message(s), the first: {first}", errors.len()));
    }
    facts.scans.push(scan);
    Ok(facts)
}

fn guess_type(findings: &[Value]) -> String {
    let first = findings.first();
    let category = first.and_then(|f| text(f, "/category"));
    if let Some(category) = category {
        return category;
    }
    match first {
        Some(f) if f.pointer("/location/image").is_some() => "container_scanning",
        Some(f) if f.pointer("/location/dependency/package/name").is_some() => "dependency_scanning",
        Some(f) if f.get("raw_source_code_extract").is_some() => "secret_detection",
        _ => "sast",
    }
    .into()
}

/// Reads a Code Quality report as code findings.
pub fn parse_code_quality(document: &Value, _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("gitlab-code-quality", "gitlab-code-quality");
    for issue in document.as_array().map(Vec::as_slice).unwrap_or_default() {
        let severity = severity_word(text(issue, "/severity").as_deref());
        facts.code_findings.push(CodeFinding {
            tool: "GitLab Code Quality".into(),
            tool_version: None,
            rule_id: text(issue, "/check_name"),
            rule_name: None,
            level: level_for(&severity),
            security_severity: None,
            message: text(issue, "/description"),
            location: text(issue, "/location/path").map(|path| match text(issue, "/location/lines/begin") {
                Some(line) => format!("{path}:{line}"),
                None => path,
            }),
            fingerprint: text(issue, "/fingerprint"),
            suppressed: false,
        });
    }
    facts.scans.push(Scan {
        category: "code",
        tool: "GitLab Code Quality".into(),
        tool_version: None,
        result_count: facts.code_findings.len(),
        ..Default::default()
    });
    Ok(facts)
}

/// Reads merge requests listed by the GitLab API.
pub fn parse_merge_requests(document: &Value, _origin: &str) -> Result<Facts> {
    let mut facts = Facts::new("gitlab-merge-requests", "gitlab-api-merge-requests");
    for item in document.as_array().map(Vec::as_slice).unwrap_or_default() {
        let url = text(item, "/web_url");
        let repo = first_text(item, &["/references/full"])
            .and_then(|full| full.split('!').next().map(str::to_string))
            .or_else(|| url.as_deref().and_then(project_of_url))
            .or_else(|| text(item, "/project_id"))
            .unwrap_or_default();
        facts.merge_requests.push(MergeRequest {
            source: "gitlab".into(),
            repo,
            number: number(item, "/iid").unwrap_or_default() as i64,
            title: text(item, "/title"),
            author: text(item, "/author/username"),
            state: text(item, "/state"),
            target_branch: text(item, "/target_branch"),
            created_at: time(item, "/created_at"),
            merged_at: time(item, "/merged_at"),
            merged_by: first_text(item, &["/merged_by/username", "/merge_user/username"]),
            url,
        });
    }
    Ok(facts)
}

fn project_of_url(url: &str) -> Option<String> {
    let path = url.split("://").nth(1)?.split_once('/')?.1;
    let project = path.split("/-/").next()?.split("/merge_requests").next()?;
    Some(project.to_string())
}
