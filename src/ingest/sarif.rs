//! SARIF 2.1.0: static-analysis results from any tool (CodeQL, Semgrep, Trivy, Grype, Gitleaks, ...).

use std::collections::BTreeMap;

use anyhow::Result;
use serde_json::Value;

use crate::error::input_error;
use crate::facts::{CodeFinding, Completion, Facts, Scan};

/// One run: a tool invocation and what it found.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// The tool name.
    pub tool: String,
    /// The tool version.
    pub tool_version: Option<String>,
    /// Its results.
    pub findings: Vec<CodeFinding>,
    /// Whether the run reached its end: its invocations' `executionSuccessful` and error notifications.
    pub completion: Completion,
    /// Why it is partial or failed.
    pub completion_note: Option<String>,
}

/// A parsed SARIF log.
#[derive(Debug, Clone, PartialEq)]
pub struct SarifLog {
    /// The runs, in order.
    pub runs: Vec<Run>,
    /// The repository named by `versionControlProvenance`, as `owner/name` when it is a GitHub URL.
    pub repository: Option<String>,
    /// Notes about a valid log that says little.
    pub warnings: Vec<String>,
    /// The SARIF version the log declares.
    pub version: String,
    /// When the analysis finished: the latest `endTimeUtc` (else `startTimeUtc`) of the runs' invocations.
    pub finished: Option<chrono::NaiveDateTime>,
}

/// Parses SARIF bytes; `origin` (the file name) and the position of any problem are named in errors.
pub fn parse(bytes: &[u8], origin: &str) -> Result<SarifLog> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(input_error(format!("{origin}: the file is empty: expected a SARIF 2.1.0 JSON log")));
    }
    let document: Value = serde_json::from_slice(bytes).map_err(|error| {
        input_error(format!("{origin}: line {}, column {}: invalid JSON: {error}", error.line(), error.column()))
    })?;
    let version = document.get("version").and_then(Value::as_str);
    let mut warnings = Vec::new();
    match version {
        Some("2.1.0") => {}
        Some("2.0.0") => warnings.push(format!(
            "{origin}: SARIF 2.0.0 is the pre-standard draft format; read in compatibility mode \
             (tool.name, resources.rules, fileLocation, suppressionStates). Producers should emit 2.1.0"
        )),
        Some(other) => {
            return Err(input_error(format!(
                "{origin}: unsupported SARIF version {other:?}: expected \"2.1.0\" (convert older logs with the SARIF SDK's `sarif transform`)"
            )))
        }
        None => return Err(input_error(format!("{origin}: no \"version\" field: expected a SARIF 2.1.0 log"))),
    }
    let runs = document
        .get("runs")
        .and_then(Value::as_array)
        .ok_or_else(|| input_error(format!("{origin}: no \"runs\" array: expected a SARIF 2.1.0 log")))?;
    let mut log = SarifLog {
        runs: Vec::new(),
        repository: None,
        warnings,
        version: version.unwrap_or_default().to_string(),
        finished: invocation_time(runs),
    };
    if runs.is_empty() {
        log.warnings.push(format!(
            "{origin}: the log has no runs: the scanner may never have run, so it proves no scan took place"
        ));
    }
    for (index, run) in runs.iter().enumerate() {
        log.runs.push(parse_run(run, origin, index)?);
        if log.repository.is_none() {
            log.repository = repository_of(run);
        }
    }
    Ok(log)
}

/// The latest time any run's invocation says it ended (or started, when it gives no end).
fn invocation_time(runs: &[Value]) -> Option<chrono::NaiveDateTime> {
    runs.iter()
        .flat_map(|run| run.get("invocations").and_then(Value::as_array).into_iter().flatten())
        .filter_map(|invocation| {
            ["endTimeUtc", "startTimeUtc"]
                .iter()
                .find_map(|key| invocation.get(*key)?.as_str().and_then(crate::time::parse_api_time))
        })
        .max()
}

fn parse_run(run: &Value, origin: &str, index: usize) -> Result<Run> {
    let driver =
        run.pointer("/tool/driver").or_else(|| run.get("tool").filter(|tool| tool.get("name").is_some())).ok_or_else(
            || input_error(format!("{origin}: runs[{index}] has no tool.driver: every SARIF run names its tool")),
        )?;
    let tool = driver.get("name").and_then(Value::as_str).unwrap_or("unknown tool").to_string();
    let tool_version = ["semanticVersion", "version"]
        .iter()
        .find_map(|key| driver.get(*key).and_then(Value::as_str))
        .map(str::to_string);
    let mut driver_rules = rules_of(driver);
    if let Some(legacy_rules) = run.pointer("/resources/rules").and_then(Value::as_object) {
        driver_rules.extend(legacy_rules.values());
    }
    let extension_rules: Vec<Vec<&Value>> = run
        .pointer("/tool/extensions")
        .and_then(Value::as_array)
        .map(|extensions| extensions.iter().map(rules_of).collect())
        .unwrap_or_default();
    let by_id: BTreeMap<&str, &Value> = driver_rules
        .iter()
        .chain(extension_rules.iter().flatten())
        .filter_map(|rule| rule.get("id").and_then(Value::as_str).map(|id| (id, *rule)))
        .collect();
    let results = run.get("results").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let findings = results
        .iter()
        .map(|result| {
            let rule = rule_for(result, &driver_rules, &extension_rules, &by_id);
            finding(result, rule, &tool, &tool_version)
        })
        .collect();
    let (completion, completion_note) = completion_of(run);
    Ok(Run { tool, tool_version, findings, completion, completion_note })
}

/// How far a run got: failed when an invocation says `executionSuccessful: false` or the run carries no `results`
/// (SARIF 2.1.0 §3.14.23: the tool did not complete an analysis), partial when it reports error-level tool
/// notifications (files it could not analyse, rules that could not run).
fn completion_of(run: &Value) -> (Completion, Option<String>) {
    let invocations = run.get("invocations").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let mut notes = Vec::new();
    let mut failed = false;
    if run.get("results").is_none_or(Value::is_null) {
        failed = true;
        notes.push("the run has no results: the tool did not complete an analysis".to_string());
    }
    for invocation in invocations {
        if invocation.get("executionSuccessful").and_then(Value::as_bool) == Some(false) {
            failed = true;
            let exit =
                invocation.get("exitCodeDescription").and_then(Value::as_str).map(str::to_string).or_else(|| {
                    invocation.get("exitCode").and_then(Value::as_i64).map(|code| format!("exit code {code}"))
                });
            notes.push(format!(
                "the tool reported that it did not run successfully (executionSuccessful: false{})",
                exit.map(|exit| format!(", {exit}")).unwrap_or_default()
            ));
        }
    }
    let errors: Vec<&Value> = invocations
        .iter()
        .flat_map(|invocation| {
            ["toolExecutionNotifications", "toolConfigurationNotifications"]
                .iter()
                .filter_map(|key| invocation.get(*key).and_then(Value::as_array))
                .flatten()
        })
        .filter(|notification| notification.get("level").and_then(Value::as_str) == Some("error"))
        .collect();
    if let Some(first) = errors.first() {
        let message = first.pointer("/message/text").and_then(Value::as_str).unwrap_or("no message");
        let message: String = message.chars().take(200).collect();
        notes.push(format!("{} error notification(s) from the tool, the first: {message}", errors.len()));
    }
    let completion = match (failed, errors.is_empty()) {
        (true, _) => Completion::Failed,
        (false, false) => Completion::Partial,
        (false, true) => Completion::Complete,
    };
    (completion, (!notes.is_empty()).then(|| notes.join("; ")))
}

fn rules_of(component: &Value) -> Vec<&Value> {
    component.get("rules").and_then(Value::as_array).map(|rules| rules.iter().collect()).unwrap_or_default()
}

fn rule_for<'a>(
    result: &'a Value,
    driver: &[&'a Value],
    extensions: &[Vec<&'a Value>],
    by_id: &BTreeMap<&str, &'a Value>,
) -> Option<&'a Value> {
    let reference = result.get("rule");
    let index = result
        .get("ruleIndex")
        .or_else(|| reference.and_then(|r| r.get("index")))
        .and_then(Value::as_u64)
        .map(|i| i as usize);
    let component =
        reference.and_then(|r| r.pointer("/toolComponent/index")).and_then(Value::as_u64).map(|i| i as usize);
    if let Some(index) = index {
        let rules = match component {
            Some(extension) => extensions.get(extension).map(Vec::as_slice).unwrap_or_default(),
            None => driver,
        };
        if let Some(rule) = rules.get(index) {
            return Some(rule);
        }
    }
    let id = result.get("ruleId").or_else(|| reference.and_then(|r| r.get("id"))).and_then(Value::as_str)?;
    by_id.get(id).copied().or_else(|| id.split('/').next().and_then(|base| by_id.get(base).copied()))
}

fn finding(result: &Value, rule: Option<&Value>, tool: &str, tool_version: &Option<String>) -> CodeFinding {
    let rule_id = result
        .get("ruleId")
        .or_else(|| result.pointer("/rule/id"))
        .or_else(|| rule.and_then(|r| r.get("id")))
        .and_then(Value::as_str)
        .map(str::to_string);
    let level = result
        .get("level")
        .or_else(|| rule.and_then(|r| r.pointer("/defaultConfiguration/level")))
        .and_then(Value::as_str)
        .unwrap_or("warning")
        .to_string();
    let security_severity =
        rule.and_then(|r| r.pointer("/properties/security-severity")).and_then(|value| match value {
            Value::String(text) => text.trim().parse().ok(),
            other => other.as_f64(),
        });
    let rule_name = rule.and_then(|r| {
        r.pointer("/shortDescription/text").or_else(|| r.get("name")).and_then(Value::as_str).map(str::to_string)
    });
    let message = result.pointer("/message/text").and_then(Value::as_str).map(str::to_string).or_else(|| {
        let id = result.pointer("/message/id")?.as_str()?;
        rule?.pointer(&format!("/messageStrings/{id}/text"))?.as_str().map(str::to_string)
    });
    let location = result.pointer("/locations/0/physicalLocation").and_then(|physical| {
        let uri =
            physical.pointer("/artifactLocation/uri").or_else(|| physical.pointer("/fileLocation/uri"))?.as_str()?;
        Some(match physical.pointer("/region/startLine").and_then(Value::as_u64) {
            Some(line) => format!("{uri}:{line}"),
            None => uri.to_string(),
        })
    });
    let fingerprint = ["partialFingerprints", "fingerprints"].iter().find_map(|key| {
        let map = result.get(*key)?.as_object()?;
        map.iter().find_map(|(name, value)| value.as_str().map(|v| format!("{name}={v}")))
    });
    let suppressed =
        result.get("suppressions").and_then(Value::as_array).is_some_and(|suppressions| {
            suppressions.iter().any(|s| matches!(s.get("status").and_then(Value::as_str), None | Some("accepted")))
        }) || result.get("suppressionStates").and_then(Value::as_array).is_some_and(|states| !states.is_empty());
    CodeFinding {
        tool: tool.to_string(),
        tool_version: tool_version.clone(),
        rule_id,
        rule_name,
        level,
        security_severity,
        message,
        location,
        fingerprint,
        suppressed,
    }
}

fn repository_of(run: &Value) -> Option<String> {
    let uri = run.pointer("/versionControlProvenance/0/repositoryUri")?.as_str()?;
    let path = uri.strip_prefix("https://github.com/")?.trim_end_matches(".git").trim_end_matches('/');
    (path.split('/').count() == 2).then(|| path.to_string())
}

/// The facts a parsed log yields: one code scan per run, with how far it got (a log with no runs records a failed
/// scan: nothing was analysed).
pub fn into_facts(log: SarifLog) -> Facts {
    let mut facts = Facts::new("sarif", format!("sarif-{}", log.version));
    facts.repository = log.repository;
    facts.document_time = log.finished;
    facts.warnings = log.warnings;
    if log.runs.is_empty() {
        facts.scans.push(Scan {
            category: "code",
            tool: "(no runs)".into(),
            completion: Completion::Failed,
            completion_note: Some("the log has no runs: the scanner may never have run".into()),
            ..Default::default()
        });
    }
    for run in log.runs {
        facts.scans.push(Scan {
            category: "code",
            tool: run.tool,
            tool_version: run.tool_version,
            result_count: run.findings.len(),
            completion: run.completion,
            completion_note: run.completion_note,
        });
        facts.code_findings.extend(run.findings);
    }
    facts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_defaults_from_the_rule_then_to_warning() {
        let log = parse(
            br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T","rules":[{"id":"R1","defaultConfiguration":{"level":"error"}}]}},
               "results":[{"ruleIndex":0,"message":{"text":"a"}},{"ruleId":"R2","message":{"text":"b"}}]}]}"#,
            "t.sarif",
        )
        .unwrap();
        let findings = &log.runs[0].findings;
        assert_eq!(findings[0].rule_id.as_deref(), Some("R1"));
        assert_eq!(findings[0].level, "error");
        assert_eq!(findings[1].level, "warning");
    }

    #[test]
    fn the_draft_2_0_0_format_is_read_with_a_warning() {
        let log = parse(
            br#"{"version":"2.0.0","runs":[{"tool":{"name":"CodeScanner","semanticVersion":"2.1.0"},
               "results":[{"ruleId":"C2001","message":{"text":"m"},"suppressionStates":["suppressedExternally"],
                 "locations":[{"physicalLocation":{"fileLocation":{"uri":"src/a.cpp"},"region":{"startLine":15}}}]}],
               "resources":{"rules":{"C2001":{"id":"C2001","defaultConfiguration":{"level":"error"}}}}}]}"#,
            "old.sarif",
        )
        .unwrap();
        assert!(log.warnings[0].contains("SARIF 2.0.0"));
        let finding = &log.runs[0].findings[0];
        assert_eq!(finding.tool, "CodeScanner");
        assert_eq!(finding.level, "error");
        assert_eq!(finding.location.as_deref(), Some("src/a.cpp:15"));
        assert!(finding.suppressed);
    }

    #[test]
    fn version_1_is_refused() {
        let error = parse(br#"{"version":"1.0.0","runs":[]}"#, "v1.sarif").unwrap_err().to_string();
        assert!(error.contains("unsupported SARIF version \"1.0.0\""), "{error}");
    }

    #[test]
    fn a_bom_is_accepted() {
        let mut bytes = b"\xEF\xBB\xBF".to_vec();
        bytes.extend_from_slice(br#"{"version":"2.1.0","runs":[]}"#);
        let log = parse(&bytes, "bom.sarif").unwrap();
        assert_eq!(log.warnings.len(), 1);
    }

    #[test]
    fn syntax_errors_name_file_line_and_column() {
        let error = parse(b"{\n  \"version\": \"2.1.0\",\n  ,\n}", "broken.sarif").unwrap_err().to_string();
        assert!(error.starts_with("broken.sarif: line 3, column 3"), "{error}");
    }

    #[test]
    fn accepted_suppressions_mark_findings() {
        let log = parse(
            br#"{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"T"}},"results":[
                {"ruleId":"A","message":{"text":"x"},"suppressions":[{"kind":"inSource"}]},
                {"ruleId":"B","message":{"text":"y"},"suppressions":[{"kind":"external","status":"rejected"}]}]}]}"#,
            "s.sarif",
        )
        .unwrap();
        assert!(log.runs[0].findings[0].suppressed);
        assert!(!log.runs[0].findings[1].suppressed);
    }

    #[test]
    fn the_analysis_time_is_when_the_last_invocation_ended() {
        let log = parse(
            br#"{"version":"2.1.0","runs":[
                {"tool":{"driver":{"name":"A"}},"invocations":[{"startTimeUtc":"2026-10-01T10:00:00Z","endTimeUtc":"2026-10-01T10:05:00Z"}]},
                {"tool":{"driver":{"name":"B"}},"invocations":[{"startTimeUtc":"2026-10-02T08:00:00Z"}]}]}"#,
            "s.sarif",
        )
        .unwrap();
        assert_eq!(log.finished, crate::time::parse_api_time("2026-10-02T08:00:00Z"));
        assert_eq!(into_facts(log).document_time, crate::time::parse_api_time("2026-10-02T08:00:00Z"));
    }
}
