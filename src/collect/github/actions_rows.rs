//! GitHub Actions settings as fact rows: allowed actions, the workflow token's default permissions, log and artifact
//! retention, secrets (names only), self-hosted runners and deployment environments.

use anyhow::Result;
use duckdb::types::Value as Cell;
use serde_json::Value;

use super::cells::{flag, int, maybe_text, text, texts, time};
use super::endpoints::{Fact, Scope};

/// Whether Actions is enabled and which actions may run (repository or organisation level).
pub fn actions_permissions(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let enabled = match (body.get("enabled"), body.get("enabled_repositories").and_then(Value::as_str)) {
        (Some(Value::Bool(enabled)), _) => Cell::Boolean(*enabled),
        (_, Some(repositories)) => Cell::Boolean(repositories != "none"),
        _ => Cell::Null,
    };
    Ok(vec![Fact {
        table: "actions_permissions",
        cells: vec![
            maybe_text(scope.repo),
            enabled,
            text(body, "/enabled_repositories"),
            text(body, "/allowed_actions"),
            flag(body, "/sha_pinning_required"),
        ],
    }])
}

/// The default permissions of the workflow token and whether workflows may approve pull requests.
pub fn workflow_token_permissions(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact {
        table: "workflow_token_permissions",
        cells: vec![
            maybe_text(scope.repo),
            text(body, "/default_workflow_permissions"),
            flag(body, "/can_approve_pull_request_reviews"),
        ],
    }])
}

/// Which outside contributors' pull-request workflows wait for approval before they run.
pub fn fork_pr_approval(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact { table: "fork_pr_approval", cells: vec![maybe_text(scope.repo), text(body, "/approval_policy")] }])
}

/// How many days GitHub keeps workflow run logs and artifacts (repository or organisation level).
pub fn artifact_log_retention(scope: &Scope, body: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact {
        table: "actions_retention",
        cells: vec![maybe_text(scope.repo), int(body, "/days"), int(body, "/maximum_allowed_days")],
    }])
}

/// An Actions secret's name, visibility and dates (GitHub never returns values).
pub fn secret(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    Ok(vec![Fact {
        table: "actions_secrets",
        cells: vec![
            maybe_text(scope.repo),
            text(item, "/name"),
            text(item, "/visibility"),
            time(item, "/created_at"),
            time(item, "/updated_at"),
            Cell::Null, // protected, masked, environment_scope: GitLab's
            Cell::Null,
            Cell::Null,
        ],
    }])
}

/// A self-hosted runner.
pub fn runner(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let labels = item
        .get("labels")
        .and_then(Value::as_array)
        .map(|labels| labels.iter().filter_map(|l| l.get("name")?.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    Ok(vec![Fact {
        table: "runners",
        cells: vec![
            maybe_text(scope.repo),
            int(item, "/id"),
            text(item, "/name"),
            text(item, "/os"),
            text(item, "/status"),
            flag(item, "/ephemeral"),
            texts::<Vec<String>>(labels),
        ],
    }])
}

/// A deployment environment and its protection rules.
pub fn environment(scope: &Scope, item: &Value, _: Option<&Value>) -> Result<Vec<Fact>> {
    let rules = item.get("protection_rules").and_then(Value::as_array).cloned().unwrap_or_default();
    let reviewers_rule =
        rules.iter().find(|rule| rule.get("type").and_then(Value::as_str) == Some("required_reviewers"));
    let reviewers: Vec<String> = reviewers_rule
        .and_then(|rule| rule.get("reviewers")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .map(|entry| {
            let kind = entry.get("type").and_then(Value::as_str).unwrap_or("User");
            let who = entry.get("reviewer").unwrap_or(&Value::Null);
            let name = who.get("login").or_else(|| who.get("slug")).or_else(|| who.get("name"));
            format!("{kind} {}", name.and_then(Value::as_str).unwrap_or("?"))
        })
        .collect();
    let wait_timer = rules
        .iter()
        .find(|rule| rule.get("type").and_then(Value::as_str) == Some("wait_timer"))
        .and_then(|rule| rule.get("wait_timer")?.as_i64());
    let branch_policy = match item.get("deployment_branch_policy") {
        Some(policy) if policy.is_object() => {
            if policy.get("protected_branches").and_then(Value::as_bool) == Some(true) {
                "protected_branches"
            } else {
                "custom"
            }
        }
        _ => "any",
    };
    Ok(vec![Fact {
        table: "environments",
        cells: vec![
            maybe_text(scope.repo),
            text(item, "/name"),
            Cell::Int(reviewers.len() as i32),
            texts(reviewers),
            reviewers_rule
                .map(|rule| Cell::Boolean(rule.get("prevent_self_review").and_then(Value::as_bool).unwrap_or(false)))
                .unwrap_or(Cell::Null),
            wait_timer.map(|minutes| Cell::Int(minutes as i32)).unwrap_or(Cell::Null),
            Cell::Text(branch_policy.to_string()),
            flag(item, "/can_admins_bypass"),
            Cell::Null, // tier: GitLab's
            Cell::Null, // deployers: GitLab's
        ],
    }])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_recorded_octocrab_environments_parse() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/github-api/octocrab/octocrab-repo_environments.json"
        );
        let body: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("shared samples")).unwrap();
        static EMPTY: std::collections::BTreeMap<i64, Vec<String>> = std::collections::BTreeMap::new();
        let scope = Scope { org: "o", repo: Some("o/r"), branch: None, bypass: &EMPTY };
        let items = body["environments"].as_array().unwrap();
        let facts: Vec<Fact> = items.iter().flat_map(|item| environment(&scope, item, None).unwrap()).collect();
        assert_eq!(facts.len(), items.len());
        assert!(facts.iter().any(|fact| matches!(fact.cells[2], Cell::Int(n) if n > 0)), "{facts:?}");
    }
}
