//! The jobs of a workflow file as `workflow_jobs` rows: which runner each asks for (`runs-on`), whether that is
//! plainly a self-hosted runner, and the time limit it sets (`timeout-minutes`).

use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::{maybe_text, texts};
use super::endpoints::{Fact, Scope};

/// Labels GitHub's standard hosted runners answer to (`ubuntu-24.04`, `windows-latest`, `macos-15`, ...).
const HOSTED_PREFIXES: &[&str] = &["ubuntu-", "windows-", "macos-"];

/// One row per job of a parsed workflow, jobs by name.
pub fn job_rows(scope: &Scope, path: &str, workflow: &Value) -> Vec<Fact> {
    let Some(jobs) = workflow.get("jobs").and_then(Value::as_object) else { return Vec::new() };
    jobs.iter()
        .map(|(name, job)| {
            let reusable = job.get("uses").is_some();
            let runner = job.get("runs-on").map(Runner::of);
            let timeout = match job.get("timeout-minutes") {
                Some(Value::Number(minutes)) => Some(minutes.to_string()),
                Some(Value::String(text)) => Some(text.trim().to_string()),
                _ => None,
            };
            Fact {
                table: "workflow_jobs",
                cells: vec![
                    maybe_text(scope.repo),
                    Cell::Text(path.to_string()),
                    Cell::Text(name.clone()),
                    runner.as_ref().map_or(Cell::Null, |r| texts(r.labels.clone())),
                    runner.as_ref().and_then(|r| r.self_hosted).map_or(Cell::Null, Cell::Boolean),
                    maybe_text(timeout.as_deref()),
                    Cell::Boolean(reusable),
                ],
            }
        })
        .collect()
}

/// What `runs-on` asks for.
struct Runner {
    /// The labels, and `group:NAME` for a runner group.
    labels: Vec<String>,
    /// `true` with the `self-hosted` label, `false` when every label is a standard hosted one, else unknown (an
    /// expression, a runner group, or a custom label: a larger hosted runner or a self-hosted one).
    self_hosted: Option<bool>,
}

impl Runner {
    fn of(runs_on: &Value) -> Runner {
        let strings = |value: Option<&Value>| -> Vec<String> {
            match value {
                Some(Value::String(label)) => vec![label.trim().to_string()],
                Some(Value::Array(labels)) => {
                    labels.iter().filter_map(|l| l.as_str().map(|l| l.trim().to_string())).collect()
                }
                _ => Vec::new(),
            }
        };
        let mut labels = match runs_on {
            Value::Object(_) => strings(runs_on.get("labels")),
            other => strings(Some(other)),
        };
        let group = runs_on.get("group").and_then(Value::as_str);
        if let Some(group) = group {
            labels.push(format!("group:{}", group.trim()));
        }
        let self_hosted = if labels.iter().any(|l| l.eq_ignore_ascii_case("self-hosted")) {
            Some(true)
        } else if labels.is_empty() || group.is_some() || labels.iter().any(|l| l.contains("${{")) {
            None
        } else if labels.iter().all(|l| HOSTED_PREFIXES.iter().any(|p| l.to_ascii_lowercase().starts_with(p))) {
            Some(false)
        } else {
            None
        };
        Runner { labels, self_hosted }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner(yaml: &str) -> (Vec<String>, Option<bool>) {
        let value: Value = serde_saphyr::from_str(yaml).unwrap();
        let runner = Runner::of(&value);
        (runner.labels, runner.self_hosted)
    }

    #[test]
    fn runs_on_says_self_hosted_hosted_or_cannot_tell() {
        assert_eq!(runner("[self-hosted, linux]"), (vec!["self-hosted".into(), "linux".into()], Some(true)));
        assert_eq!(runner("ubuntu-latest"), (vec!["ubuntu-latest".into()], Some(false)));
        assert_eq!(runner("${{ matrix.os }}").1, None, "an expression");
        assert_eq!(runner("linux-x64-16core").1, None, "a custom label: larger hosted runner or self-hosted");
        assert_eq!(
            runner("{group: prod-runners, labels: [linux]}"),
            (vec!["linux".into(), "group:prod-runners".into()], None)
        );
    }

    #[test]
    fn each_job_is_a_row_with_its_runner_and_time_limit() {
        let yaml =
            "on: push\njobs:\n  build:\n    runs-on: [self-hosted, linux]\n    timeout-minutes: 30\n    steps: []\n  \
                    release:\n    uses: o/shared/.github/workflows/release.yml@v1\n";
        let workflow: Value = serde_saphyr::from_str(yaml).unwrap();
        static EMPTY: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        let scope = Scope { org: "o", repo: Some("o/r"), branch: Some("main"), bypass: &EMPTY };
        let rows = job_rows(&scope, ".github/workflows/ci.yml", &workflow);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].cells[2], Cell::Text("build".into()));
        assert_eq!(rows[0].cells[4], Cell::Boolean(true));
        assert_eq!(rows[0].cells[5], Cell::Text("30".into()));
        assert_eq!(rows[1].cells[3], Cell::Null, "a reusable workflow's job names no runner here");
        assert_eq!(rows[1].cells[6], Cell::Boolean(true));
    }
}
