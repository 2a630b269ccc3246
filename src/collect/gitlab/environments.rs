//! What guards each environment of a GitLab project: its protected-environment entries (the project's, by name, and
//! each group's, by deployment tier), read as the `environments` rows GitHub's environments fill.
//!
//! An environment no entry names is unprotected: any Developer who can run its job deploys. Where a project entry
//! and a group entry both name it, the more permissive reading is kept (fewer approvals, the wider set of
//! deployers), so an unclear combination never passes. Developer-level deploy access lets anyone who can push a
//! branch deploy from it, which is what GitHub's "any branch may deploy" means.

use serde_json::Value;

/// How one environment is guarded.
#[derive(Debug, Clone, PartialEq)]
pub struct Guard {
    /// The environment's name.
    pub environment: String,
    /// Its deployment tier (`production`, `staging`, `testing`, `development`, `other`), when GitLab says.
    pub tier: Option<String>,
    /// Approvals a deployment needs.
    pub required_reviewers: i32,
    /// Who may approve (roles, users, groups), in GitLab's words.
    pub reviewers: Vec<String>,
    /// Whether who triggered the pipeline is kept from approving its deployment; `None` when GitLab did not say.
    pub prevent_self_review: Option<bool>,
    /// `any` (unprotected, or Developers may deploy) or `deployers` (only those named).
    pub branch_policy: &'static str,
    /// Who may deploy, in GitLab's words (empty when unprotected).
    pub deployers: Vec<String>,
}

/// The guards of `environments` (a listing's items) from the project's protected environments, the groups'
/// (`group_level`, keyed by tier) and the project's `allow_pipeline_trigger_approve_deployment`.
pub fn guards(
    environments: &[Value],
    project_level: &[Value],
    group_level: &[Value],
    trigger_may_approve: Option<bool>,
) -> Vec<Guard> {
    let mut guards: Vec<Guard> = environments
        .iter()
        .filter_map(|environment| {
            let name = environment.get("name")?.as_str()?;
            let tier = environment.get("tier").and_then(Value::as_str).map(str::to_string);
            let named =
                |entry: &&Value, key: Option<&str>| key.is_some() && entry.get("name").and_then(Value::as_str) == key;
            let entries: Vec<&Value> = project_level
                .iter()
                .filter(|e| named(e, Some(name)))
                .chain(group_level.iter().filter(|e| named(e, tier.as_deref())))
                .collect();
            Some(guard(name, tier, &entries, trigger_may_approve))
        })
        .collect();
    guards.sort_by(|a, b| a.environment.cmp(&b.environment));
    guards.dedup_by(|a, b| a.environment == b.environment);
    guards
}

fn guard(name: &str, tier: Option<String>, entries: &[&Value], trigger_may_approve: Option<bool>) -> Guard {
    let prevent_self_review = trigger_may_approve.map(|allowed| !allowed);
    if entries.is_empty() {
        return Guard {
            environment: name.to_string(),
            tier,
            required_reviewers: 0,
            reviewers: Vec::new(),
            prevent_self_review,
            branch_policy: "any",
            deployers: Vec::new(),
        };
    }
    let required = entries.iter().map(|entry| required_approvals(entry)).min().unwrap_or(0);
    let list = |entry: &Value, key: &str| entry.get(key).and_then(Value::as_array).cloned().unwrap_or_default();
    let mut reviewers: Vec<String> =
        entries.iter().flat_map(|entry| list(entry, "approval_rules")).map(|rule| who(&rule)).collect();
    let mut deployers: Vec<String> =
        entries.iter().flat_map(|entry| list(entry, "deploy_access_levels")).map(|level| who(&level)).collect();
    let developers_deploy = entries.iter().any(|entry| {
        list(entry, "deploy_access_levels")
            .iter()
            .any(|level| level.get("access_level").and_then(Value::as_i64).is_some_and(|at| at <= 30))
    });
    reviewers.sort();
    reviewers.dedup();
    deployers.sort();
    deployers.dedup();
    Guard {
        environment: name.to_string(),
        tier,
        required_reviewers: required,
        reviewers,
        prevent_self_review,
        branch_policy: if developers_deploy { "any" } else { "deployers" },
        deployers,
    }
}

/// Approvals one entry requires: the legacy single count, or every approval rule's together.
fn required_approvals(entry: &Value) -> i32 {
    let unified = entry.get("required_approval_count").and_then(Value::as_i64).unwrap_or(0);
    let rules: i64 = entry
        .get("approval_rules")
        .and_then(Value::as_array)
        .map(|rules| rules.iter().filter_map(|rule| rule.get("required_approvals")?.as_i64()).sum())
        .unwrap_or(0);
    unified.max(rules).clamp(0, i64::from(i32::MAX)) as i32
}

/// An access entry (deploy access level or approval rule) in words.
fn who(entry: &Value) -> String {
    if let Some(description) = entry.get("access_level_description").and_then(Value::as_str) {
        if !description.is_empty() {
            return description.to_string();
        }
    }
    let id = |key: &str| entry.get(key).and_then(Value::as_i64);
    match (id("user_id"), id("group_id"), id("access_level")) {
        (Some(user), _, _) => format!("user {user}"),
        (_, Some(group), _) => format!("group {group}"),
        (_, _, Some(level)) => format!("access level {level}"),
        _ => "an unnamed entry".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn environment(name: &str, tier: &str) -> Value {
        let mut body = super::super::recorded_sample("gitlab4j-environment.json");
        body["name"] = json!(name);
        body["tier"] = json!(tier);
        body
    }

    #[test]
    fn an_environment_no_entry_names_is_unprotected() {
        let found = guards(&[environment("review/fix-foo", "testing")], &[], &[], Some(false));
        assert_eq!(found.len(), 1);
        let guard = &found[0];
        assert_eq!((guard.required_reviewers, guard.branch_policy), (0, "any"));
        assert_eq!(guard.tier.as_deref(), Some("testing"));
        assert_eq!(guard.prevent_self_review, Some(true));
    }

    #[test]
    fn project_and_group_entries_combine_to_the_more_permissive_reading() {
        let project = json!({"name": "live", "required_approval_count": 0,
            "deploy_access_levels": [{"access_level": 40, "access_level_description": "Maintainers"}],
            "approval_rules": [{"user_id": 7, "access_level_description": "Ann", "required_approvals": 1},
                               {"access_level": 40, "access_level_description": "Maintainers", "required_approvals": 1}]});
        let group = json!({"name": "production", "required_approval_count": 1,
            "deploy_access_levels": [{"group_id": 12, "access_level_description": "release-managers"}]});
        let found = guards(
            &[environment("live", "production")],
            std::slice::from_ref(&project),
            std::slice::from_ref(&group),
            None,
        );
        let guard = &found[0];
        assert_eq!(guard.required_reviewers, 1, "the group asks 1, the project 2: the fewer is kept");
        assert_eq!(guard.reviewers, ["Ann", "Maintainers"]);
        assert_eq!(guard.deployers, ["Maintainers", "release-managers"]);
        assert_eq!(guard.branch_policy, "deployers");
        assert_eq!(guard.prevent_self_review, None, "GitLab did not say");
        let only_project = guards(&[environment("live", "production")], &[project], &[], Some(true));
        assert_eq!(only_project[0].required_reviewers, 2);
        assert_eq!(only_project[0].prevent_self_review, Some(false));
        let developers = json!({"name": "production", "deploy_access_levels": [{"access_level": 30}]});
        let open = guards(&[environment("live", "production")], &[], &[developers], None);
        assert_eq!(
            (open[0].branch_policy, open[0].deployers.as_slice()),
            ("any", ["access level 30".to_string()].as_slice())
        );
    }
}
