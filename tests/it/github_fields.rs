//! Every field the GitHub collector reads is one GitHub documents for the answer it reads it from, checked against
//! a subset of GitHub's published OpenAPI description (`tests/fixtures/github-openapi/fields.json`, written by
//! `refresh.py` there from the npm package `@octokit/openapi`). A field a listing does not carry (a pull request's
//! `merged_by` is only in the pull request read alone) is always absent in real answers, and whatever rests on it
//! would be judged on nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Fields read although the description leaves them out, and why that is sound.
const UNDOCUMENTED: &[(&str, &str, &str)] = &[(
    "actions_rows.rs",
    "can_admins_bypass",
    "GitHub sends it in environments (a recorded answer in ../shared/samples/github-api/octocrab) but its schema \
     omits it; read as optional, and DEP-02 says unknown when it is absent",
)];

/// Files whose reads are of file contents (workflow YAML, registry configs, Dockerfiles) or GraphQL answers, not
/// REST answers; their REST reads (`path`, `content`, `encoding`, `state`) are listed to be checked all the same.
const CONTENT_READERS: &[(&str, &[&str])] = &[
    ("workflow_files.rs", &["path", "name", "state", "content", "encoding"]),
    ("registry_configs.rs", &["path", "content", "encoding"]),
    ("dependency_files.rs", &["path", "content", "encoding"]),
    ("workflow_jobs.rs", &[]),
    ("identity_rows.rs", &[]),
];

/// The operation each evidence kind handled in a `"github.…" =>` match arm comes from.
const ARM_KINDS: &[(&str, &str)] = &[
    ("github.pull_requests", "GET /repos/{owner}/{repo}/pulls"),
    ("github.pull_request_reviews", "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
    ("github.check_runs", "GET /repos/{owner}/{repo}/commits/{ref}/check-runs"),
    ("github.workflow_runs", "GET /repos/{owner}/{repo}/actions/runs"),
    ("github.actions_retention", "GET /repos/{owner}/{repo}/actions/permissions/artifact-and-log-retention"),
    ("github.actions_job", "GET /repos/{owner}/{repo}/actions/jobs/{job_id}"),
    ("github.deployment_approvals", "GET /repos/{owner}/{repo}/actions/runs/{run_id}/approvals"),
    ("github.deployments", "GET /repos/{owner}/{repo}/deployments"),
];

fn documented() -> BTreeMap<String, BTreeSet<String>> {
    let text = std::fs::read_to_string("tests/fixtures/github-openapi/fields.json").expect("the vendored subset");
    let value: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    value["operations"]
        .as_object()
        .expect("operations")
        .iter()
        .map(|(op, fields)| {
            let fields = fields.as_array().expect("a list").iter().map(|f| f.as_str().unwrap().to_string());
            (op.clone(), fields.collect())
        })
        .collect()
}

/// The code of a file without its unit tests.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("source");
    match text.find("#[cfg(test)]") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// The documented operation a request path the collector builds is for (the segment after `/repos/` is
/// `owner/name`; a template ending in `{ref}` or `{path}` takes the rest, slashes and all).
fn operation_of(path: &str, operations: &BTreeMap<String, BTreeSet<String>>) -> Option<String> {
    let path = path.split('?').next().unwrap_or(path);
    let mut wanted = Vec::new();
    let mut after_repos = false;
    for segment in path.trim_start_matches('/').split('/') {
        match segment {
            _ if after_repos => wanted.extend(["*", "*"]),
            s if s.starts_with('{') => wanted.push("*"),
            s => wanted.push(s),
        }
        after_repos = segment == "repos" && wanted.len() == 1;
    }
    operations
        .keys()
        .find(|op| {
            let template: Vec<&str> = op.trim_start_matches("GET /").split('/').collect();
            let fits = |t: &&str, w: &&str| t == w || (*w == "*" && t.starts_with('{'));
            let greedy = template.last().is_some_and(|last| *last == "{ref}" || *last == "{path}");
            if greedy && wanted.len() >= template.len() {
                let fixed = template.len() - 1;
                template[..fixed].iter().zip(&wanted[..fixed]).all(|(t, w)| fits(t, w))
            } else {
                template.len() == wanted.len() && template.iter().zip(&wanted).all(|(t, w)| fits(t, w))
            }
        })
        .cloned()
}

fn is_request_path(literal: &str) -> bool {
    ["/repos/", "/orgs/", "/repositories/", "/graphql", "/rate_limit"].iter().any(|p| literal.starts_with(p))
}

/// The string literals of a text, with the line each starts on.
fn literals(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(start) = rest.find('"') {
            let after = &rest[start + 1..];
            let Some(end) = after.find('"') else { break };
            found.push((number, after[..end].to_string()));
            rest = &after[end + 1..];
        }
    }
    found
}

/// A field read: a JSON pointer given to a cell reader, or a key given to `.get`.
#[derive(Debug)]
enum Read {
    Pointer(String),
    Key(String),
}

fn reads(text: &str) -> Vec<(usize, Read)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(at) = rest.find(".get(\"") {
            let after = &rest[at + 6..];
            if let Some(end) = after.find('"') {
                found.push((number, Read::Key(after[..end].to_string())));
            }
            rest = after;
        }
    }
    for (number, literal) in literals(text) {
        let looks_like_pointer = literal.starts_with('/')
            && literal.len() > 1
            && !literal.ends_with('/')
            && !is_request_path(&literal)
            && literal[1..].chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '/');
        if looks_like_pointer {
            found.push((number, Read::Pointer(literal)));
        }
    }
    found
}

/// The evidence kind of the match arm each line is in, if any.
fn arms(text: &str) -> Vec<Option<String>> {
    let mut current = None;
    text.lines()
        .map(|line| {
            let trimmed = line.trim_start();
            if let Some(arm) = trimmed.strip_prefix('"').and_then(|rest| rest.split_once("\" =>")) {
                if arm.0.starts_with("github.") {
                    current = Some(arm.0.to_string());
                }
            } else if trimmed.contains(" => ") && !trimmed.starts_with("//") && trimmed.ends_with('{') {
                current = None;
            }
            current.clone()
        })
        .collect()
}

/// For each module, the operations whose answers it reads: the paths it builds itself, and the endpoints of
/// `endpoints.rs` whose extractors (or follow-up paths, made from the listing's items) it holds.
fn served(dir: &Path, operations: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut unmatched = Vec::new();
    for entry in std::fs::read_dir(dir).expect("collector sources") {
        let path = entry.expect("entry").path();
        let file = path.file_name().unwrap().to_string_lossy().to_string();
        for (_, literal) in literals(&code(&path)) {
            if !is_request_path(&literal) || literal == "/graphql" || literal.starts_with("/repositories/") {
                continue;
            }
            match operation_of(&literal, operations) {
                Some(op) => {
                    served.entry(file.clone()).or_default().insert(op);
                }
                None => unmatched.push(format!("{file}: {literal}")),
            }
        }
    }
    assert!(
        unmatched.is_empty(),
        "paths the collector requests that the vendored description subset lacks (add them to refresh.py): {unmatched:#?}"
    );
    let endpoints = code(&dir.join("endpoints.rs"));
    let blocks: Vec<&str> = endpoints.split("Endpoint {").skip(1).collect();
    let named = |block: &str| -> Vec<String> {
        ["extract: ", "whole: Some(", "unseen: Some(", "absent: Some(", "path: "]
            .iter()
            .flat_map(|key| block.split(key).skip(1))
            .filter_map(|rest| rest.split("::").next())
            .filter(|module| module.chars().all(|c| c.is_ascii_lowercase() || c == '_') && *module != "nothing")
            .map(|module| format!("{module}.rs"))
            .collect()
    };
    for block in &blocks {
        let block = block.split("\n};").next().unwrap_or(block);
        let Some(path) = block.split("path: \"").nth(1).and_then(|rest| rest.split('"').next()) else { continue };
        let mut modules = named(block);
        if let Some(base) = block.split("..").nth(1).map(|rest| rest.trim_end_matches(|c: char| !c.is_alphanumeric())) {
            let base = base.split(|c: char| !(c.is_ascii_uppercase() || c == '_')).next().unwrap_or_default();
            if let Some(definition) = endpoints.split(&format!("const {base}: Endpoint = Endpoint {{")).nth(1) {
                modules.extend(named(definition.split("\n};").next().unwrap_or_default()));
            }
        }
        if path == "/graphql" || path.is_empty() {
            continue;
        }
        let op = operation_of(path, operations).unwrap_or_else(|| panic!("{path} is not in the subset"));
        for module in modules {
            served.entry(module).or_default().insert(op.clone());
        }
    }
    served
}

fn is_documented(read: &Read, fields: &BTreeSet<String>) -> bool {
    match read {
        Read::Key(key) => fields.iter().any(|f| f.rsplit('/').next() == Some(key.as_str())),
        Read::Pointer(pointer) => {
            let shallow: String = pointer.split('/').skip(1).take(4).map(|s| format!("/{s}")).collect();
            fields.iter().any(|f| f.ends_with(&shallow))
        }
    }
}

#[test]
fn every_field_the_collector_reads_is_documented() {
    let operations = documented();
    let dir = Path::new("src/collect/github");
    let served = served(dir, &operations);
    let arm_kinds: BTreeMap<&str, &str> = ARM_KINDS.iter().copied().collect();
    let mut wrong = Vec::new();
    let mut checked = 0;
    for (file, ops) in &served {
        let text = code(&dir.join(file));
        let content = CONTENT_READERS.iter().find(|(name, _)| name == file).map(|(_, keys)| *keys);
        let arm_of = arms(&text);
        for (line, read) in reads(&text) {
            let name = match &read {
                Read::Key(key) => key.clone(),
                Read::Pointer(pointer) => pointer.split('/').nth(1).unwrap_or_default().to_string(),
            };
            if content.is_some_and(|rest_reads| !rest_reads.contains(&name.as_str())) {
                continue;
            }
            if UNDOCUMENTED.iter().any(|(f, field, _)| f == file && *field == name) {
                continue;
            }
            let fields: BTreeSet<String> = match arm_of[line].as_deref() {
                Some(kind) => {
                    let op =
                        arm_kinds.get(kind).unwrap_or_else(|| panic!("{file}: add the arm kind {kind} to ARM_KINDS"));
                    operations[*op].clone()
                }
                None => ops.iter().flat_map(|op| operations[op].iter().cloned()).collect(),
            };
            checked += 1;
            if !is_documented(&read, &fields) {
                let from = arm_of[line].as_deref().map(|k| arm_kinds[k].to_string()).unwrap_or(format!("{ops:?}"));
                wrong.push(format!("{file}:{}: {read:?} is not in {from}", line + 1));
            }
        }
    }
    assert!(checked > 150, "the scan found only {checked} reads: is it still reading the collector?");
    assert!(wrong.is_empty(), "fields GitHub does not document for the answer they are read from: {wrong:#?}");
}

#[test]
fn a_field_only_the_single_pull_request_carries_is_caught() {
    let operations = documented();
    let list = &operations["GET /repos/{owner}/{repo}/pulls"];
    let single = &operations["GET /repos/{owner}/{repo}/pulls/{pull_number}"];
    let merger = Read::Pointer("/merged_by/login".into());
    assert!(!is_documented(&merger, list), "the listing's items (pull-request-simple) have no merged_by");
    assert!(is_documented(&merger, single));
    let text = "match kind {\n    \"github.pull_requests\" => {\n        text(item, \"/merged_by/login\"),\n    }\n}";
    assert_eq!(arms(text)[2].as_deref(), Some("github.pull_requests"));
    assert!(matches!(&reads(text)[0].1, Read::Pointer(p) if p == "/merged_by/login"));
}
