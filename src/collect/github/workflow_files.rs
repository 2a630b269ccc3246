//! Reads GitHub Actions workflow files: their triggers, the token permissions they ask for, every action or
//! reusable workflow they use with whether it is pinned to a full commit SHA and whether it may fail unnoticed
//! (`continue-on-error`), and their jobs (see `workflow_jobs`).

use anyhow::Result;
use base64::Engine;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::{maybe_text, texts};
use super::endpoints::{Fact, Scope};

/// The contents path of a listed workflow, for workflows kept in `.github/workflows/` (GitHub also lists dynamic
/// ones, such as default-setup code scanning, that have no file).
pub fn file_path(scope: &Scope, item: &Value) -> Option<String> {
    let path = item.get("path")?.as_str()?;
    if !path.starts_with(".github/workflows/") {
        return None;
    }
    contents_path(scope, path)
}

/// The contents API path of a file of the repository, at its default branch.
pub fn contents_path(scope: &Scope, path: &str) -> Option<String> {
    let reference = scope.branch.map(|b| format!("?ref={}", super::fetch::encode_branch(b))).unwrap_or_default();
    Some(format!("/repos/{}/contents/{}{reference}", scope.repo?, super::fetch::encode_branch(path)))
}

/// A workflow file's row, one row per action or reusable workflow it uses, and one per job.
pub fn workflow_file(scope: &Scope, body: &Value, listed: Option<&Value>) -> Result<Vec<Fact>> {
    let path = listed
        .and_then(|item| item.get("path"))
        .or_else(|| body.get("path"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let name = listed.and_then(|item| item.get("name")).and_then(Value::as_str);
    let state = listed.and_then(|item| item.get("state")).and_then(Value::as_str);
    // A file GitHub did not hand over readably (too large, not base64, not text) is not known to be broken: its
    // `parsed` is NULL. Only text that is not YAML makes a broken workflow.
    let text = decode(body);
    let workflow = text
        .as_ref()
        .map_err(|error| error.clone())
        .and_then(|text| serde_saphyr::from_str::<Value>(text).map_err(|error| format!("not valid YAML: {error}")));
    let row = |parsed: Option<bool>, error: Option<String>, summary: Option<Summary>| {
        let known = parsed == Some(true);
        let summary = summary.unwrap_or_default();
        let pull_request_target = summary.triggers_contain("pull_request_target");
        Fact {
            table: "workflows",
            cells: vec![
                maybe_text(scope.repo),
                Cell::Text(path.clone()),
                maybe_text(name),
                maybe_text(state),
                parsed.map(Cell::Boolean).unwrap_or(Cell::Null),
                maybe_text(error.as_deref()),
                if known { texts(summary.triggers) } else { Cell::Null },
                maybe_text(summary.permissions.as_deref()),
                if known { Cell::Int(summary.jobs) } else { Cell::Null },
                if known { Cell::Int(summary.jobs_without_permissions) } else { Cell::Null },
                if known { Cell::Boolean(summary.write_all) } else { Cell::Null },
                if known { Cell::Boolean(pull_request_target) } else { Cell::Null },
            ],
        }
    };
    let workflow = match (text.is_ok(), workflow) {
        (_, Ok(workflow)) => workflow,
        (true, Err(error)) => return Ok(vec![row(Some(false), Some(error), None)]),
        (false, Err(error)) => return Ok(vec![row(None, Some(error), None)]),
    };
    let summary = summarise(&workflow);
    let mut facts = Vec::new();
    for (job, uses, continue_on_error) in uses_of(&workflow) {
        let used = Used::parse(&uses);
        facts.push(Fact {
            table: "workflow_actions",
            cells: vec![
                maybe_text(scope.repo),
                Cell::Text(path.clone()),
                Cell::Text(job),
                Cell::Text(uses.clone()),
                Cell::Text(used.action),
                maybe_text(used.reference.as_deref()),
                Cell::Text(used.kind.to_string()),
                Cell::Boolean(used.pinned),
                maybe_text(continue_on_error.as_deref()),
            ],
        });
    }
    facts.extend(super::workflow_jobs::job_rows(scope, &path, &workflow));
    facts.extend(super::registry_configs::setup_node_rows(scope, &path, &workflow));
    facts.insert(0, row(Some(true), None, Some(summary)));
    Ok(facts)
}

/// The text of a contents answer (base64-encoded file), or why it cannot be read.
pub fn decode(body: &Value) -> std::result::Result<String, String> {
    let content = body.get("content").and_then(Value::as_str).ok_or("the answer has no file content")?;
    if body.get("encoding").and_then(Value::as_str).is_some_and(|e| e != "base64") {
        return Err("the file content is not base64 (GitHub sends files over 1 MB without content)".into());
    }
    let packed: String = content.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(packed).map_err(|e| format!("bad base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

/// What a workflow declares.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    triggers: Vec<String>,
    permissions: Option<String>,
    jobs: i32,
    jobs_without_permissions: i32,
    write_all: bool,
}

impl Summary {
    fn triggers_contain(&self, event: &str) -> bool {
        self.triggers.iter().any(|t| t == event)
    }
}

fn permissions_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

fn summarise(workflow: &Value) -> Summary {
    // YAML 1.1 readers turn the key `on` into `true`; accept both spellings.
    let on = workflow.get("on").or_else(|| workflow.get("true")).unwrap_or(&Value::Null);
    let mut triggers: Vec<String> = match on {
        Value::String(event) => vec![event.clone()],
        Value::Array(events) => events.iter().filter_map(|e| e.as_str().map(str::to_string)).collect(),
        Value::Object(events) => events.keys().cloned().collect(),
        _ => Vec::new(),
    };
    triggers.sort();
    let top = workflow.get("permissions").filter(|p| !p.is_null());
    let jobs = workflow.get("jobs").and_then(Value::as_object);
    let job_permissions: Vec<Option<&Value>> = jobs
        .map(|jobs| jobs.values().map(|job| job.get("permissions").filter(|p| !p.is_null())).collect())
        .unwrap_or_default();
    let is_write_all = |p: &Value| p.as_str() == Some("write-all");
    Summary {
        triggers,
        permissions: top.map(permissions_text),
        jobs: job_permissions.len() as i32,
        jobs_without_permissions: if top.is_some() {
            0
        } else {
            job_permissions.iter().filter(|p| p.is_none()).count() as i32
        },
        write_all: top.is_some_and(is_write_all) || job_permissions.iter().flatten().any(|p| is_write_all(p)),
    }
}

/// `continue-on-error` as written (`true`, `false` or an expression), when set.
fn continue_on_error(item: &Value) -> Option<String> {
    match item.get("continue-on-error")? {
        Value::Bool(flag) => Some(flag.to_string()),
        Value::String(text) => Some(text.trim().to_string()),
        _ => None,
    }
}

/// `(job, uses, continue-on-error)` for every job-level reusable workflow and step-level action, jobs by name and
/// steps in order; a step's own `continue-on-error` wins over its job's.
fn uses_of(workflow: &Value) -> Vec<(String, String, Option<String>)> {
    let mut found = Vec::new();
    let Some(jobs) = workflow.get("jobs").and_then(Value::as_object) else { return found };
    for (name, job) in jobs {
        let job_continues = continue_on_error(job);
        if let Some(uses) = job.get("uses").and_then(Value::as_str) {
            found.push((name.clone(), uses.to_string(), job_continues.clone()));
        }
        for step in job.get("steps").and_then(Value::as_array).into_iter().flatten() {
            if let Some(uses) = step.get("uses").and_then(Value::as_str) {
                found.push((name.clone(), uses.to_string(), continue_on_error(step).or_else(|| job_continues.clone())));
            }
        }
    }
    found
}

/// Whether a step uses `action` (`owner/repo`) at any reference; GitHub matches action names case-insensitively.
pub fn step_uses(step: &Value, action: &str) -> bool {
    step.get("uses").and_then(Value::as_str).is_some_and(|uses| Used::parse(uses).action.eq_ignore_ascii_case(action))
}

/// A `uses:` reference taken apart.
#[derive(Debug, PartialEq)]
struct Used {
    action: String,
    reference: Option<String>,
    kind: &'static str,
    pinned: bool,
}

impl Used {
    fn parse(uses: &str) -> Used {
        let uses = uses.trim();
        if uses.starts_with("./") || uses.starts_with(".\\") {
            return Used { action: uses.to_string(), reference: None, kind: "local", pinned: true };
        }
        if let Some(image) = uses.strip_prefix("docker://") {
            let (name, digest) = match image.split_once("@sha256:") {
                Some((name, digest)) => (name.to_string(), Some(format!("sha256:{digest}"))),
                None => (image.to_string(), None),
            };
            let pinned =
                digest.as_deref().is_some_and(|d| d.len() == 71 && d[7..].chars().all(|c| c.is_ascii_hexdigit()));
            return Used { action: format!("docker://{name}"), reference: digest, kind: "docker", pinned };
        }
        let (action, reference) = match uses.rsplit_once('@') {
            Some((action, reference)) => (action.to_string(), Some(reference.to_string())),
            None => (uses.to_string(), None),
        };
        let pinned = reference
            .as_deref()
            .is_some_and(|r| (r.len() == 40 || r.len() == 64) && r.chars().all(|c| c.is_ascii_hexdigit()));
        let kind = if action.contains("/.github/workflows/") { "reusable_workflow" } else { "action" };
        Used { action, reference, kind, pinned }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uses_are_pinned_only_to_full_commit_shas_or_digests() {
        assert!(Used::parse("actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11").pinned);
        assert!(!Used::parse("actions/checkout@v4").pinned);
        assert!(!Used::parse("actions/checkout@b4ffde6").pinned, "short SHAs can collide");
        assert!(!Used::parse("actions/checkout").pinned);
        let local = Used::parse("./.github/actions/setup");
        assert_eq!((local.kind, local.pinned), ("local", true));
        let reusable = Used::parse("acme/shared/.github/workflows/build.yml@main");
        assert_eq!((reusable.kind, reusable.pinned), ("reusable_workflow", false));
        let docker = Used::parse(&format!("docker://alpine@sha256:{}", "a".repeat(64)));
        assert_eq!((docker.kind, docker.pinned), ("docker", true));
        assert!(!Used::parse("docker://alpine:3.20").pinned);
    }

    #[test]
    fn a_workflow_file_is_read_from_base64_yaml() {
        let yaml = "name: ci\non:\n  pull_request_target:\n  push:\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: make\n  release:\n    permissions: write-all\n    uses: acme/shared/.github/workflows/release.yml@0123456789abcdef0123456789abcdef01234567\n";
        let encoded = base64::engine::general_purpose::STANDARD.encode(yaml);
        let wrapped: String =
            encoded.as_bytes().chunks(60).map(|c| format!("{}\n", String::from_utf8_lossy(c))).collect();
        let body = serde_json::json!({"path": ".github/workflows/ci.yml", "encoding": "base64", "content": wrapped});
        static EMPTY: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        let scope = Scope { org: "o", repo: Some("o/r"), branch: Some("main"), bypass: &EMPTY };
        let facts = workflow_file(&scope, &body, None).unwrap();
        assert_eq!(facts.len(), 5, "the workflow, two uses, two jobs");
        let workflow = &facts[0].cells;
        assert_eq!(workflow[4], Cell::Boolean(true));
        assert_eq!(workflow[6], texts(vec!["pull_request_target".to_string(), "push".to_string()]));
        assert_eq!(workflow[7], Cell::Null, "no top-level permissions");
        assert_eq!(workflow[9], Cell::Int(1), "build inherits the default token permissions");
        assert_eq!(workflow[10], Cell::Boolean(true), "write-all");
        assert_eq!(workflow[11], Cell::Boolean(true), "pull_request_target");
        assert_eq!(facts[1].cells[7], Cell::Boolean(false));
        assert_eq!(facts[2].cells[7], Cell::Boolean(true));
        assert_eq!(facts[1].cells[8], Cell::Null, "continue-on-error not set");
    }

    #[test]
    fn a_file_not_handed_over_readably_is_not_known_to_parse_but_bad_yaml_is_broken() {
        static EMPTY: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        let scope = Scope { org: "o", repo: Some("o/r"), branch: Some("main"), bypass: &EMPTY };
        let large = serde_json::json!({"path": ".github/workflows/big.yml", "encoding": "none", "content": ""});
        let facts = workflow_file(&scope, &large, None).unwrap();
        assert_eq!(facts[0].cells[4], Cell::Null, "not known");
        assert!(matches!(&facts[0].cells[5], Cell::Text(why) if why.contains("not base64")));
        let broken = base64::engine::general_purpose::STANDARD.encode("jobs: [unclosed\n");
        let body = serde_json::json!({"path": ".github/workflows/x.yml", "encoding": "base64", "content": broken});
        let facts = workflow_file(&scope, &body, None).unwrap();
        assert_eq!(facts[0].cells[4], Cell::Boolean(false), "text that is not YAML is a broken workflow");
    }

    #[test]
    fn continue_on_error_is_read_from_the_step_else_its_job() {
        let yaml = "on: push\njobs:\n  scan:\n    continue-on-error: true\n    steps:\n      - uses: aquasecurity/trivy-action@v1\n      - uses: github/codeql-action/analyze@v3\n        continue-on-error: false\n  lint:\n    steps:\n      - uses: zizmorcore/zizmor-action@v1\n        continue-on-error: ${{ github.event_name == 'pull_request' }}\n      - uses: actions/checkout@v4\n";
        let workflow: Value = serde_saphyr::from_str(yaml).unwrap();
        let found: Vec<Option<String>> = uses_of(&workflow).into_iter().map(|(_, _, c)| c).collect();
        assert_eq!(
            found,
            vec![
                Some("${{ github.event_name == 'pull_request' }}".into()),
                None,
                Some("true".into()),
                Some("false".into()),
            ],
            "jobs by name (lint, scan), steps in order"
        );
    }

    #[test]
    fn a_broken_workflow_is_a_row_with_the_error() {
        let body = serde_json::json!({"encoding": "base64", "content": base64::engine::general_purpose::STANDARD.encode("jobs: [unclosed")});
        static EMPTY: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        let scope = Scope { org: "o", repo: Some("o/r"), branch: Some("main"), bypass: &EMPTY };
        let facts = workflow_file(&scope, &body, None).unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[0].cells[4], Cell::Boolean(false));
        assert!(matches!(&facts[0].cells[5], Cell::Text(error) if error.contains("YAML")));
    }
}
