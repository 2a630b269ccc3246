//! The pipeline definition of each project: its CI configuration file on the default branch (`ci_config_path`, by
//! default `.gitlab-ci.yml`) and GitLab's own expansion of it (`/ci/lint`: the merged configuration with every
//! include resolved, and the list of those includes, nested ones too), into `workflows` and `workflow_actions` as
//! GitHub's workflow files are, judged by `BLD-01` and `BLD-03`.
//!
//! What a configuration uses from outside the project, and when it is pinned: an `include:project` at a full commit
//! SHA, an `include:remote` with an `integrity` hash, a CI/CD component at a full commit SHA (a version tag or
//! `~latest` can move), an image or service by digest (`@sha256:`). Local includes and images of the project's own
//! registry (`$CI_REGISTRY_IMAGE`) are the project's; GitLab's templates ship with the instance. Without the
//! expansion (the token may not lint), a file that includes others is not known whole: its references are recorded
//! and `gitlab.ci_includes` says what was not read.

use anyhow::Result;
use base64::Engine;
use duckdb::params;
use futures_util::StreamExt;
use serde_json::Value;

use super::fetch::{get, segment};
use super::tier::{judge, Tier};
use crate::collect::coverage::{Coverage, Seen};
use crate::collect::http::{ApiClient, ApiResponse};

/// A project whose pipeline definition is read.
pub struct Project {
    /// The full path (without the `gitlab:` prefix).
    pub path: String,
    /// The project id.
    pub id: i64,
    /// The default branch.
    pub branch: String,
    /// `ci_config_path`, or `.gitlab-ci.yml` when unset.
    pub config_path: String,
}

/// What was read of one project.
pub struct ProjectConfig {
    /// The project.
    pub project: Project,
    /// The file (`/repository/files/…`), when the configuration lives in the project.
    pub file: Option<ApiResponse>,
    /// GitLab's expansion (`/ci/lint`).
    pub lint: ApiResponse,
}

impl ProjectConfig {
    /// Every answer.
    pub fn responses(&self) -> impl Iterator<Item = &ApiResponse> {
        self.file.iter().chain([&self.lint])
    }
}

/// Whether the configuration lives in the project itself (not `file@group/project` nor a URL).
fn in_project(config_path: &str) -> bool {
    !config_path.contains('@') && !config_path.contains("://")
}

/// The files API path of a project's configuration file at `branch` (the collector and `doctor` ask alike).
pub fn file_path(id: i64, config_path: &str, branch: &str) -> String {
    format!("/projects/{id}/repository/files/{}?ref={}", segment(config_path), segment(branch))
}

/// The path of GitLab's expansion of a project's configuration at `branch` (static: no pipeline is simulated).
pub fn lint_path(id: i64, branch: &str) -> String {
    format!("/projects/{id}/ci/lint?content_ref={}&dry_run=false", segment(branch))
}

/// Reads each project's configuration file and its expansion.
pub async fn fetch(client: &ApiClient, projects: Vec<Project>, concurrency: usize) -> Result<Vec<ProjectConfig>> {
    let reads = projects.into_iter().map(|project| async move {
        let file = if in_project(&project.config_path) {
            Some(get(client, &file_path(project.id, &project.config_path, &project.branch)).await?)
        } else {
            None
        };
        let lint = get(client, &lint_path(project.id, &project.branch)).await?;
        Ok::<_, anyhow::Error>(ProjectConfig { project, file, lint })
    });
    futures_util::stream::iter(reads).buffered(concurrency.max(1)).collect::<Vec<_>>().await.into_iter().collect()
}

/// One thing a configuration uses: what it says, what it names, at which reference, its kind, whether pinned.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The job that uses it (`None` for includes and defaults).
    pub job: Option<String>,
    /// As written.
    pub uses: String,
    /// What it names (project and file, URL, component, image).
    pub action: String,
    /// The reference (ref, version, tag or digest), when there is one.
    pub reference: Option<String>,
    /// `include`, `component`, `template`, `docker` or `local`.
    pub kind: &'static str,
    /// Whether it cannot move: a full commit SHA, an integrity hash, a digest, or the project's own.
    pub pinned: bool,
    /// For a job: whether it may fail without failing its pipeline (`true`, `false`, or `when …` for exit codes
    /// or rules); `None` for includes and images.
    pub may_fail: Option<String>,
}

fn full_sha(text: &str) -> bool {
    text.len() == 40 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The includes a configuration file writes (`include:` at its top, and in jobs' `trigger:include:`).
pub fn written_includes(config: &Value) -> Vec<Reference> {
    let mut found = Vec::new();
    let mut add = |value: &Value, job: Option<&str>| {
        let entries = match value {
            Value::Array(items) => items.clone(),
            other => vec![other.clone()],
        };
        for entry in entries {
            found.extend(include(&entry, job));
        }
    };
    if let Some(value) = key(config, "include") {
        add(value, None);
    }
    for (name, job) in config.as_object().into_iter().flatten() {
        if let Some(value) = key(job, "trigger").and_then(|t| key(t, "include")) {
            add(value, Some(name.trim_start_matches(':')));
        }
    }
    found
}

/// One `include:` entry as references (a project include may name several files).
fn include(entry: &Value, job: Option<&str>) -> Vec<Reference> {
    let job = job.map(str::to_string);
    let text = |name: &str| key(entry, name).and_then(Value::as_str).map(str::to_string);
    let local = |path: String| Reference {
        job: job.clone(),
        uses: path.clone(),
        action: path,
        reference: None,
        kind: "local",
        may_fail: None,
        pinned: true,
    };
    if let Some(path) = entry.as_str() {
        return vec![if path.starts_with("http://") || path.starts_with("https://") {
            remote(path, None, job.clone())
        } else {
            local(path.to_string())
        }];
    }
    if let Some(path) = text("local") {
        return vec![local(path)];
    }
    if let Some(url) = text("remote") {
        return vec![remote(&url, text("integrity"), job)];
    }
    if let Some(template) = text("template") {
        return vec![Reference {
            job,
            uses: format!("template:{template}"),
            action: template,
            reference: None,
            kind: "template",
            may_fail: None,
            pinned: true,
        }];
    }
    if let Some(component) = text("component") {
        return vec![component_reference(&component, job)];
    }
    if let Some(project) = text("project") {
        let reference = text("ref");
        let files: Vec<String> = match key(entry, "file") {
            Some(Value::Array(files)) => files.iter().filter_map(|f| f.as_str().map(str::to_string)).collect(),
            Some(Value::String(file)) => vec![file.clone()],
            _ => vec![String::new()],
        };
        return files
            .into_iter()
            .map(|file| {
                let action = format!("{project}:{file}");
                Reference {
                    job: job.clone(),
                    uses: format!("{action}@{}", reference.as_deref().unwrap_or("(default branch)")),
                    action,
                    reference: reference.clone(),
                    kind: "include",
                    may_fail: None,
                    pinned: reference.as_deref().is_some_and(full_sha),
                }
            })
            .collect();
    }
    if key(entry, "artifact").is_some() {
        let artifact = text("artifact").unwrap_or_default();
        return vec![local(format!("artifact:{artifact}"))];
    }
    vec![Reference {
        job,
        uses: entry.to_string(),
        action: entry.to_string(),
        reference: None,
        kind: "include",
        may_fail: None,
        pinned: false,
    }]
}

fn remote(url: &str, integrity: Option<String>, job: Option<String>) -> Reference {
    Reference {
        job,
        uses: url.to_string(),
        action: url.to_string(),
        pinned: integrity.as_deref().is_some_and(|i| i.starts_with("sha256-")),
        reference: integrity,
        kind: "include",
        may_fail: None,
    }
}

fn component_reference(component: &str, job: Option<String>) -> Reference {
    let (action, version) = match component.rsplit_once('@') {
        Some((action, version)) => (action.to_string(), Some(version.to_string())),
        None => (component.to_string(), None),
    };
    Reference {
        job,
        uses: component.to_string(),
        action,
        pinned: version.as_deref().is_some_and(full_sha),
        reference: version,
        kind: "component",
        may_fail: None,
    }
}

/// The includes GitLab's expansion lists (nested ones too), as references; `None` when it lists none (an older
/// GitLab does not say).
pub fn expanded_includes(lint: &Value) -> Option<Vec<Reference>> {
    let listed = lint.get("includes")?.as_array()?;
    Some(
        listed
            .iter()
            .map(|entry| {
                let text = |pointer: &str| entry.pointer(pointer).and_then(Value::as_str).map(str::to_string);
                let location = text("/location").unwrap_or_default();
                match text("/type").as_deref() {
                    Some("local") => include(&serde_json::json!({"local": location}), None).remove(0),
                    Some("template") => include(&serde_json::json!({"template": location}), None).remove(0),
                    Some("component") => component_reference(&location, None),
                    Some("remote") => remote(&location, text("/extra/integrity"), None),
                    Some("file") => {
                        let project = text("/extra/project").unwrap_or_default();
                        let entry =
                            serde_json::json!({"project": project, "ref": text("/extra/ref"), "file": location});
                        include(&entry, None).remove(0)
                    }
                    _ => include(&serde_json::json!({"unknown": entry}), None).remove(0),
                }
            })
            .collect(),
    )
}

/// Every image and service a configuration names, by job (`None` for the defaults).
pub fn images(config: &Value) -> Vec<Reference> {
    let mut found = Vec::new();
    for (name, value) in config.as_object().into_iter().flatten() {
        let name = name.trim_start_matches(':');
        let (job, holder) = match name {
            "image" | "services" => (None, config),
            "default" => (None, value),
            _ if is_reserved(name) => continue,
            _ => (Some(name.to_string()), value),
        };
        let mut add = |image: &Value| {
            let image = image.as_str().or_else(|| key(image, "name").and_then(Value::as_str));
            if let Some(image) = image {
                found.push(image_reference(image, job.clone()));
            }
        };
        if name == "services" || name == "image" {
            if name == "image" {
                add(value);
            } else {
                value.as_array().into_iter().flatten().for_each(&mut add);
            }
            continue;
        }
        if let Some(image) = key(holder, "image") {
            add(image);
        }
        for service in key(holder, "services").and_then(Value::as_array).into_iter().flatten() {
            add(service);
        }
    }
    found.sort_by(|a, b| (&a.job, &a.uses).cmp(&(&b.job, &b.uses)));
    found.dedup();
    found
}

fn image_reference(image: &str, job: Option<String>) -> Reference {
    let own = ["$CI_REGISTRY_IMAGE", "${CI_REGISTRY_IMAGE}"].iter().any(|own| image.starts_with(own));
    let (action, reference) = match image.split_once('@') {
        Some((name, digest)) => (name.to_string(), Some(digest.to_string())),
        None => match image.rsplit_once(':').filter(|(_, tag)| !tag.contains('/')) {
            Some((name, tag)) => (name.to_string(), Some(tag.to_string())),
            None => (image.to_string(), None),
        },
    };
    Reference {
        job,
        uses: image.to_string(),
        action,
        pinned: own || reference.as_deref().is_some_and(|r| r.starts_with("sha256:")),
        reference,
        kind: if own { "local" } else { "docker" },
        may_fail: None,
    }
}

/// Every job of a configuration (not hidden templates, not triggers of other pipelines) with whether it may fail
/// without failing its pipeline: `allow_failure: true`, or `when …` where exit codes or a rule allow it.
pub fn jobs_run(config: &Value) -> Vec<Reference> {
    let mut found = Vec::new();
    for (name, job) in config.as_object().into_iter().flatten() {
        let name = name.trim_start_matches(':');
        if name.starts_with('.') || is_reserved(name) || !job.is_object() || key(job, "trigger").is_some() {
            continue;
        }
        let by_rule = key(job, "rules").and_then(Value::as_array).is_some_and(|rules| {
            rules.iter().any(|rule| key(rule, "allow_failure").and_then(Value::as_bool) == Some(true))
        });
        let may_fail = match key(job, "allow_failure") {
            Some(Value::Bool(true)) => "true".to_string(),
            Some(Value::Object(_)) => {
                let codes =
                    key(job, "allow_failure").and_then(|a| key(a, "exit_codes")).cloned().unwrap_or(Value::Null);
                format!("when its exit code is {codes}")
            }
            _ if by_rule => "when a rule allows it".to_string(),
            _ => "false".to_string(),
        };
        found.push(Reference {
            job: Some(name.to_string()),
            uses: format!("job:{name}"),
            action: name.to_string(),
            reference: None,
            kind: "job",
            pinned: true,
            may_fail: Some(may_fail),
        });
    }
    found
}

/// Whether a project's configuration, as GitLab expands it, has a job producing a SAST report (`artifacts: reports:
/// sast`, in a job or in a template a job extends); `None` when that is not known: the expansion was not read or is
/// not valid, or child pipelines run configurations of their own.
pub fn sast_configured(config: &ProjectConfig) -> Option<bool> {
    if config.lint.status != 200 {
        return None;
    }
    let lint = config.lint.json().ok()?;
    if lint.get("valid").and_then(Value::as_bool) != Some(true) {
        return None;
    }
    let merged: Value = serde_saphyr::from_str(lint.get("merged_yaml")?.as_str()?).ok()?;
    if !merged.is_object() || !written_includes(&merged).is_empty() {
        return None;
    }
    Some(declares_sast_report(&merged))
}

/// Whether any mapping inside `value` declares a SAST report among its artifacts.
fn declares_sast_report(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(name, inner)| {
            (name.trim_start_matches(':') == "artifacts"
                && key(inner, "reports").and_then(|reports| key(reports, "sast")).is_some())
                || declares_sast_report(inner)
        }),
        Value::Array(items) => items.iter().any(declares_sast_report),
        _ => false,
    }
}

/// Top-level keys of a configuration that are not jobs.
fn is_reserved(name: &str) -> bool {
    const RESERVED: [&str; 11] = [
        "include",
        "stages",
        "variables",
        "workflow",
        "before_script",
        "after_script",
        "cache",
        "spec",
        "types",
        "image",
        "services",
    ];
    RESERVED.contains(&name) || name == "default"
}

/// The jobs of a configuration (hidden `.templates` are not jobs).
pub fn jobs(config: &Value) -> usize {
    config
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name.trim_start_matches(':'))
        .filter(|name| !name.starts_with('.') && !is_reserved(name))
        .count()
}

/// A key of a mapping as GitLab writes it, or as its merged configuration does (Ruby symbols: `:image`).
fn key<'a>(value: &'a Value, name: &str) -> Option<&'a Value> {
    value.get(name).or_else(|| value.get(format!(":{name}")))
}

/// The text of a files answer (base64 content), or why it cannot be read.
fn decode(body: &Value) -> std::result::Result<String, String> {
    let content = body.get("content").and_then(Value::as_str).ok_or("GitLab sent no file content")?;
    if body.get("encoding").and_then(Value::as_str).is_some_and(|e| e != "base64") {
        return Err("GitLab sent the file's content in an encoding other than base64".into());
    }
    let packed: String = content.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD.decode(packed).map_err(|e| format!("bad base64: {e}"))?;
    String::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())
}

/// Stores each configuration: evidence, coverage, a `workflows` row and a `workflow_actions` row per reference;
/// counts them in `summary`.
pub fn store(
    conn: &duckdb::Connection,
    run_id: i64,
    org: &str,
    tier: &Tier,
    read: &[ProjectConfig],
    summary: &mut super::GitlabSummary,
) -> Result<()> {
    let repos: Vec<String> = read.iter().map(|c| format!("{}{}", super::PREFIX, c.project.path)).collect();
    let mut kept = Vec::new();
    for (config, repo) in read.iter().zip(&repos) {
        if let Some(file) = &config.file {
            kept.push(super::facts::evidence("gitlab.ci_config", repo, file, None));
        }
        kept.push(super::facts::evidence("gitlab.ci_lint", repo, &config.lint, None));
    }
    let ids = crate::store::add_evidence_batch(conn, run_id, &kept)?;
    summary.evidence += ids.len();
    let mut next_id = ids.into_iter();
    let mut coverage = conn.appender("api_coverage_history")?;
    let mut workflows = conn.appender("workflows_history")?;
    let mut actions = conn.appender("workflow_actions_history")?;
    for (config, repo) in read.iter().zip(&repos) {
        let file_id = config.file.as_ref().map(|_| next_id.next().unwrap_or_default());
        let lint_id = next_id.next().unwrap_or_default();
        let mut record = |kind, evidence_id: Option<i64>, at, seen: &Seen| {
            let complete = *seen == Seen::Visible;
            Coverage { org, subject: repo, kind, table: "workflows", part: "", evidence_id, observed_at: at, complete }
                .append(&mut coverage, run_id, seen)
        };
        // The file: a 404 "File Not Found" says there is none.
        let file_seen = config.file.as_ref().map(|file| {
            let missing = super::fetch::file_not_found(file);
            if missing {
                Seen::Absent
            } else {
                judge("gitlab.ci_config", "Reporter", None, tier, std::slice::from_ref(file))
            }
        });
        let lint_seen = judge("gitlab.ci_lint", "Developer", None, tier, std::slice::from_ref(&config.lint));
        let at = config.lint.received_at;
        let location_seen = match &file_seen {
            Some(seen) => seen.clone(),
            // A configuration kept elsewhere is known only through GitLab's expansion.
            None => match &lint_seen {
                Seen::Visible => Seen::Visible,
                other => Seen::NotVisible(format!(
                    "the CI configuration is kept outside the project ({}), and GitLab's expansion of it was not \
                     read: {}",
                    config.project.config_path,
                    other.state().1.unwrap_or_default()
                )),
            },
        };
        record("gitlab.ci_config", file_id.or(Some(lint_id)), at, &location_seen)?;
        summary.count(&location_seen);
        record("gitlab.ci_lint", Some(lint_id), at, &lint_seen)?;
        summary.count(&lint_seen);
        let lint = if lint_seen == Seen::Visible { config.lint.json().ok() } else { None };
        let written: Option<std::result::Result<Value, String>> = match (&file_seen, &config.file) {
            (Some(Seen::Visible), Some(file)) => {
                Some(file.json().map_err(|e| e.to_string()).and_then(|body| decode(&body)).and_then(|text| {
                    serde_saphyr::from_str::<Value>(&text).map_err(|e| format!("not valid YAML: {e}"))
                }))
            }
            _ => None,
        };
        let present = matches!(file_seen, Some(Seen::Visible)) || (file_seen.is_none() && lint.is_some());
        if !present {
            continue; // absent (BLD-01 fails it) or not seen (coverage says why)
        }
        let merged = lint
            .as_ref()
            .and_then(|l| l.get("merged_yaml")?.as_str().map(str::to_string))
            .and_then(|yaml| serde_saphyr::from_str::<Value>(&yaml).ok());
        let (parsed, error) = match (&lint, &written) {
            (Some(lint), _) if lint.get("valid").and_then(Value::as_bool).is_some() => {
                let valid = lint.get("valid").and_then(Value::as_bool).unwrap_or(false);
                let errors: Vec<String> = lint
                    .get("errors")
                    .and_then(Value::as_array)
                    .map(|e| e.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                (Some(valid), (!valid).then(|| errors.join("; ")))
            }
            (_, Some(Ok(_))) => (Some(true), None),
            (_, Some(Err(error))) if error.starts_with("not valid YAML") => (Some(false), Some(error.clone())),
            (_, Some(Err(error))) => (None, Some(error.clone())),
            _ => (None, Some("GitLab's expansion of the configuration did not say whether it is valid".into())),
        };
        let whole = merged.as_ref().or(written.as_ref().and_then(|w| w.as_ref().ok()));
        let evidence_id = file_id.unwrap_or(lint_id);
        workflows.append_row(params![
            run_id,
            evidence_id,
            at,
            org,
            repo,
            config.project.config_path,
            None::<String>,
            "active",
            parsed,
            error,
            None::<String>,
            None::<String>,
            whole.map(|c| jobs(c) as i32),
            None::<i32>,
            None::<bool>,
            None::<bool>,
        ])?;
        // What it uses: the expansion's includes (nested ones too) and the merged configuration's images; else
        // what the file itself writes, and a coverage row saying what its includes hold was not read.
        let written_config = written.as_ref().and_then(|w| w.as_ref().ok());
        let includes = lint.as_ref().and_then(expanded_includes);
        let mut references = match (&includes, &merged) {
            (Some(includes), Some(merged)) => {
                let mut all = includes.clone();
                all.extend(images(merged));
                all.extend(jobs_run(merged));
                // A child pipeline (`trigger: include:`) is a configuration of its own: GitLab's expansion of this
                // one does not resolve it, so what it runs is not known.
                let children = written_includes(merged);
                if let Some(child) = children.first() {
                    let gap = Seen::NotVisible(format!(
                        "{} starts child pipelines whose configuration was not read (job {}: {})",
                        config.project.config_path,
                        child.job.as_deref().unwrap_or("?"),
                        child.uses
                    ));
                    record("gitlab.ci_includes", Some(lint_id), at, &gap)?;
                }
                all.extend(children);
                all
            }
            _ => {
                let mut all = written_config.map(written_includes).unwrap_or_default();
                let includes_others = !all.is_empty();
                all.extend(written_config.map(images).unwrap_or_default());
                all.extend(written_config.map(jobs_run).unwrap_or_default());
                if includes_others {
                    let why = match &lint_seen {
                        Seen::Visible => "GitLab's expansion did not list the includes (an older GitLab)".to_string(),
                        other => format!("GitLab's expansion was not read ({})", other.state().1.unwrap_or_default()),
                    };
                    let gap = Seen::NotVisible(format!(
                        "{} includes other files whose images and includes were not read: {why}",
                        config.project.config_path
                    ));
                    record("gitlab.ci_includes", Some(lint_id), at, &gap)?;
                }
                all
            }
        };
        references.sort_by(|a, b| (&a.job, &a.uses).cmp(&(&b.job, &b.uses)));
        references.dedup();
        for reference in references {
            actions.append_row(params![
                run_id,
                evidence_id,
                at,
                org,
                repo,
                config.project.config_path,
                reference.job,
                reference.uses,
                reference.action,
                reference.reference,
                reference.kind,
                reference.pinned,
                reference.may_fail,
            ])?;
        }
    }
    coverage.flush()?;
    workflows.flush()?;
    actions.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(yaml: &str) -> Value {
        serde_saphyr::from_str(yaml).unwrap()
    }

    #[test]
    fn includes_are_pinned_by_sha_integrity_or_being_the_projects_own() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        let config = parse(&format!(
            "include:\n  - local: ci/build.yml\n  - project: acme/ci\n    ref: {sha}\n    file: [a.yml, b.yml]\n  \
             - project: acme/ci\n    file: c.yml\n  - remote: https://x.example/ci.yml\n  \
             - remote: https://x.example/pinned.yml\n    integrity: sha256-abc=\n  - template: Jobs/SAST.gitlab-ci.yml\n  \
             - component: gitlab.com/acme/scan@~latest\n  - component: gitlab.com/acme/lint@{sha}\n\
             deploy:\n  trigger:\n    include: child.yml\n"
        ));
        let found = written_includes(&config);
        let pinned: Vec<(&str, bool)> = found.iter().map(|r| (r.uses.as_str(), r.pinned)).collect();
        assert_eq!(pinned.len(), 10, "{pinned:?}");
        assert!(pinned.contains(&("ci/build.yml", true)));
        assert!(pinned.contains(&(format!("acme/ci:a.yml@{sha}").as_str(), true)));
        assert!(pinned.contains(&("acme/ci:c.yml@(default branch)", false)));
        assert!(pinned.contains(&("https://x.example/ci.yml", false)));
        assert!(pinned.contains(&("https://x.example/pinned.yml", true)));
        assert!(pinned.contains(&("gitlab.com/acme/scan@~latest", false)));
        assert!(pinned.contains(&(format!("gitlab.com/acme/lint@{sha}").as_str(), true)));
        assert_eq!(found.last().unwrap().job.as_deref(), Some("deploy"), "a child pipeline's include");
    }

    #[test]
    fn images_are_pinned_by_digest_or_being_the_projects_own() {
        let config = parse(
            ":default:\n  :image: ruby:3.3\n:services:\n  - postgres:16\n:build:\n  :image:\n    :name: \
             alpine@sha256:abc\n  :services:\n    - name: redis:7\n:release:\n  :image: $CI_REGISTRY_IMAGE/tools:1\n\
             :.hidden:\n  :image: node:20\n:stages: [build]\n",
        );
        let all = images(&config);
        let found: Vec<(Option<&str>, &str, bool)> =
            all.iter().map(|r| (r.job.as_deref(), r.uses.as_str(), r.pinned)).collect();
        assert_eq!(
            found,
            [
                (None, "postgres:16", false),
                (None, "ruby:3.3", false),
                (Some(".hidden"), "node:20", false),
                (Some("build"), "alpine@sha256:abc", true),
                (Some("build"), "redis:7", false),
                (Some("release"), "$CI_REGISTRY_IMAGE/tools:1", true),
            ]
        );
        assert_eq!(jobs(&config), 2, "build and release; not the hidden template, defaults or stages");
    }

    #[test]
    fn a_job_may_fail_by_itself_for_exit_codes_or_by_a_rule() {
        let config = parse(
            ":sast:\n  :allow_failure: true\n:secret_detection:\n  :rules:\n  - :if: $CI\n    :allow_failure: true\n\
             :dast:\n  :allow_failure:\n    :exit_codes: [137]\n:build:\n  :script: make\n:child:\n  :trigger:\n    \
             :include: c.yml\n:.template:\n  :allow_failure: true\n",
        );
        let jobs = jobs_run(&config);
        let found: Vec<(&str, &str)> =
            jobs.iter().map(|r| (r.action.as_str(), r.may_fail.as_deref().unwrap_or_default())).collect();
        assert_eq!(found.len(), 4, "no trigger job, no hidden template: {found:?}");
        assert!(found.contains(&("sast", "true")));
        assert!(found.contains(&("secret_detection", "when a rule allows it")));
        assert!(found.contains(&("dast", "when its exit code is [137]")));
        assert!(found.contains(&("build", "false")));
    }

    #[test]
    fn a_sast_report_is_declared_by_a_job_or_a_template_it_extends() {
        let declared = parse(":.sast-analyzer:\n  :artifacts:\n    :reports:\n      :sast: gl-sast-report.json\n");
        assert!(declares_sast_report(&declared));
        let custom = parse("lint:\n  script: x\n  artifacts:\n    reports:\n      sast: out.json\n");
        assert!(declares_sast_report(&custom));
        let other = parse(":test:\n  :artifacts:\n    :reports:\n      :junit: report.xml\n    :paths: [sast]\n");
        assert!(!declares_sast_report(&other));
    }

    #[test]
    fn the_expansion_lists_nested_includes() {
        let lint = serde_json::json!({"valid": true, "merged_yaml": "---\n:build:\n  :script: make\n", "includes": [
            {"type": "local", "location": "ci/build.yml", "extra": {}},
            {"type": "file", "location": "/templates/go.yml", "extra": {"project": "acme/ci", "ref": "main"}},
            {"type": "template", "location": "Jobs/SAST.gitlab-ci.yml", "extra": {}}]});
        let found = expanded_includes(&lint).unwrap();
        assert_eq!(found[1].uses, "acme/ci:/templates/go.yml@main");
        assert!(!found[1].pinned && found[0].pinned && found[2].pinned);
        assert!(expanded_includes(&serde_json::json!({"valid": true})).is_none(), "an older GitLab lists none");
    }
}
