//! A GitLab project's default branch as `branch_rules` rows, one per source, which the `branch_rules` view merges
//! into the effective protection as it does GitHub's classic protection and rulesets:
//! - `gitlab.protected_branches`: the protected-branch rules whose name pattern matches the branch. GitLab has no
//!   "require a merge request" switch: a merge request is required when nobody may push (access level 0); who may
//!   push anyway (Maintainers, administrators, named users, groups, deploy keys) gets past review, as GitHub's bypass
//!   actors do. Where several rules match, GitLab applies the most permissive, so their rights are united.
//! - `gitlab.merge_settings`: the project's merge checks (pipeline must succeed, discussions resolved, merge method).
//! - `gitlab.approvals`: the approval rules that apply to the branch and the approval settings, whose polarity is
//!   GitLab's (`merge_requests_author_approval: true` *allows* self-approval).
//! - `gitlab.push_rule`: signed commits.
//!
//! Each row says only what its source says; the other columns are NULL, which the view's aggregates skip.

use duckdb::types::Value as Cell;
use serde_json::Value;

/// One `branch_rules` row of a GitLab project's default branch (the columns after `org`, `repo`, `branch`).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rule {
    /// `gitlab.protected_branches`, `gitlab.merge_settings`, `gitlab.approvals` or `gitlab.push_rule`.
    pub source: &'static str,
    /// Whether the source could be read.
    pub visible: bool,
    /// Why not.
    pub not_visible_reason: Option<String>,
    /// Whether any protected-branch rule matches.
    pub protected: Option<bool>,
    /// Whether changes reach the branch only through merge requests.
    pub pull_request_required: Option<bool>,
    /// Approvals the applicable rules require (the largest).
    pub required_approvals: Option<i32>,
    /// Whether a new push removes approvals.
    pub dismiss_stale_reviews: Option<bool>,
    /// Whether code owners must approve.
    pub require_code_owner_reviews: Option<bool>,
    /// Whether someone who added commits may not approve.
    pub require_last_push_approval: Option<bool>,
    /// The checks a merge waits for.
    pub required_status_checks: Option<Vec<String>>,
    /// Whether the merge is tested as it will land (source rebased, or merged results).
    pub strict_status_checks: Option<bool>,
    /// Whether nobody gets past the protection.
    pub enforce_admins: Option<bool>,
    /// Whether force pushes are allowed.
    pub allow_force_pushes: Option<bool>,
    /// Whether the branch may be deleted.
    pub allow_deletions: Option<bool>,
    /// Whether history stays linear (fast-forward merges).
    pub required_linear_history: Option<bool>,
    /// Whether pushes must carry signed commits.
    pub required_signatures: Option<bool>,
    /// Whether every discussion must be resolved.
    pub required_conversation_resolution: Option<bool>,
    /// Who may push without a merge request.
    pub bypass_actors: Option<Vec<String>>,
    /// What lets an author get round the required review.
    pub review_weakened_by: Option<String>,
}

impl Rule {
    /// A row saying the source could not be read, and why.
    pub fn unseen(source: &'static str, reason: &str) -> Rule {
        Rule { source, visible: false, not_visible_reason: Some(reason.to_string()), ..Rule::default() }
    }

    /// Its cells, from `is_default_branch` on, in `branch_rules_history`'s column order.
    pub fn cells(&self) -> Vec<Cell> {
        let flag = |value: Option<bool>| value.map(Cell::Boolean).unwrap_or(Cell::Null);
        let text = |value: &Option<String>| value.clone().map(Cell::Text).unwrap_or(Cell::Null);
        let list =
            |value: &Option<Vec<String>>| value.clone().map(crate::store::list_text::text_list).unwrap_or(Cell::Null);
        vec![
            Cell::Boolean(true),
            Cell::Text(self.source.to_string()),
            Cell::Boolean(self.visible),
            text(&self.not_visible_reason),
            flag(self.protected),
            flag(self.pull_request_required),
            self.required_approvals.map(Cell::Int).unwrap_or(Cell::Null),
            flag(self.dismiss_stale_reviews),
            flag(self.require_code_owner_reviews),
            flag(self.require_last_push_approval),
            list(&self.required_status_checks),
            flag(self.strict_status_checks),
            flag(self.enforce_admins),
            flag(self.allow_force_pushes),
            flag(self.allow_deletions),
            flag(self.required_linear_history),
            flag(self.required_signatures),
            flag(self.required_conversation_resolution),
            list(&self.bypass_actors),
            Cell::Null,
            text(&self.review_weakened_by),
        ]
    }
}

/// The protected-branch rules (every item of `/projects/:id/protected_branches`) as they apply to `branch`.
pub fn protected_branches(branch: &str, items: &[Value]) -> Rule {
    let matching: Vec<&Value> = items
        .iter()
        .filter(|item| item.get("name").and_then(Value::as_str).is_some_and(|name| crate::glob::matches(name, branch)))
        .collect();
    let source = "gitlab.protected_branches";
    if matching.is_empty() {
        return Rule {
            source,
            visible: true,
            protected: Some(false),
            pull_request_required: Some(false),
            enforce_admins: Some(false),
            allow_force_pushes: Some(true),
            // GitLab never deletes a project's default branch.
            allow_deletions: Some(false),
            bypass_actors: Some(Vec::new()),
            ..Rule::default()
        };
    }
    let mut pushers: Vec<String> = matching
        .iter()
        .flat_map(|rule| rule.get("push_access_levels").and_then(Value::as_array).into_iter().flatten())
        .filter_map(pusher)
        .collect();
    pushers.sort();
    pushers.dedup();
    let developers_push = pushers.iter().any(|who| who.starts_with(DEVELOPERS));
    let any = |key: &str| matching.iter().any(|rule| rule.get(key).and_then(Value::as_bool) == Some(true));
    let said = |key: &str| matching.iter().all(|rule| rule.get(key).is_some_and(Value::is_boolean));
    // Who may push is known only when every matching rule lists its push rights.
    let pushers_known = matching.iter().all(|rule| rule.get("push_access_levels").is_some_and(Value::is_array));
    Rule {
        source,
        visible: true,
        protected: Some(true),
        pull_request_required: (pushers_known || developers_push).then_some(!developers_push),
        enforce_admins: pushers_known.then_some(pushers.is_empty()),
        allow_force_pushes: said("allow_force_push").then(|| any("allow_force_push")),
        allow_deletions: Some(false),
        // A Premium field: absent on Free, where code owners cannot be required.
        require_code_owner_reviews: Some(any("code_owner_approval_required")),
        bypass_actors: Some(pushers),
        ..Rule::default()
    }
}

const DEVELOPERS: &str = "Developers and Maintainers";

/// Who a push access entry lets push, in words; `None` for "No one".
fn pusher(entry: &Value) -> Option<String> {
    let id = |key: &str| entry.get(key).and_then(Value::as_i64);
    if let Some(user) = id("user_id") {
        return Some(format!("user {user} may push"));
    }
    if let Some(group) = id("group_id") {
        return Some(format!("members of group {group} may push"));
    }
    if let Some(key) = id("deploy_key_id") {
        return Some(format!("deploy key {key} may push"));
    }
    match id("access_level") {
        Some(0) => None,
        Some(30) => Some(format!("{DEVELOPERS} may push")),
        Some(40) => Some("Maintainers may push".to_string()),
        Some(60) => Some("administrators may push".to_string()),
        Some(level) => Some(format!("access level {level} may push")),
        None => Some("an access entry this token cannot read may push".to_string()),
    }
}

/// The project's merge checks, from its object (fields GitLab shows to those who can administer it).
pub fn merge_settings(project: &Value) -> Rule {
    let source = "gitlab.merge_settings";
    let flag = |key: &str| project.get(key).and_then(Value::as_bool);
    let (Some(pipeline), Some(method)) =
        (flag("only_allow_merge_if_pipeline_succeeds"), project.get("merge_method").and_then(Value::as_str))
    else {
        return Rule::unseen(
            source,
            "GitLab did not show the project's merge checks (only_allow_merge_if_pipeline_succeeds, merge_method): \
             it shows them to the Maintainer role",
        );
    };
    let checks = if pipeline { vec![pipeline_check(project)] } else { Vec::new() };
    Rule {
        source,
        visible: true,
        required_status_checks: Some(checks),
        strict_status_checks: Some(method != "merge" || flag("merge_pipelines_enabled") == Some(true)),
        required_linear_history: Some(method == "ff"),
        required_conversation_resolution: flag("only_allow_merge_if_all_discussions_are_resolved"),
        ..Rule::default()
    }
}

/// The name of the check a merge waits for when the project requires its pipeline to succeed, as `branch_rules`
/// requires it and `check_runs` records each merge's pipeline.
pub fn pipeline_check(project: &Value) -> String {
    if project.get("allow_merge_on_skipped_pipeline").and_then(Value::as_bool) == Some(true) {
        "pipeline must succeed (a skipped pipeline also lets it merge)".to_string()
    } else {
        "pipeline must succeed".to_string()
    }
}

/// The approval rules (every item of `/projects/:id/approval_rules`) that apply to `branch`, whose protected-branch
/// rules are `protected`, with the project's approval settings (`/projects/:id/approvals`).
pub fn approvals(branch: &str, protected: &[Value], settings: &Value, rules: &[Value]) -> Rule {
    let source = "gitlab.approvals";
    let protecting: Vec<i64> = protected
        .iter()
        .filter(|rule| rule.get("name").and_then(Value::as_str).is_some_and(|name| crate::glob::matches(name, branch)))
        .filter_map(|rule| rule.get("id").and_then(Value::as_i64))
        .collect();
    let applies = |rule: &&Value| {
        let listed: Vec<i64> = rule
            .get("protected_branches")
            .and_then(Value::as_array)
            .map(|branches| branches.iter().filter_map(|b| b.get("id").and_then(Value::as_i64)).collect())
            .unwrap_or_default();
        if rule.get("applies_to_all_protected_branches").and_then(Value::as_bool) == Some(true) {
            !protecting.is_empty()
        } else if listed.is_empty() {
            true
        } else {
            listed.iter().any(|id| protecting.contains(id))
        }
    };
    // Rules that require approvals of every merge request: report-approver rules wait only on findings.
    let required = rules
        .iter()
        .filter(|rule| matches!(rule.get("rule_type").and_then(Value::as_str), Some("regular" | "any_approver") | None))
        .filter(applies)
        .filter_map(|rule| rule.get("approvals_required").and_then(Value::as_i64))
        .max()
        .unwrap_or(0);
    let setting = |key: &str| settings.get(key).and_then(Value::as_bool);
    let (Some(author_approves), Some(no_overrides)) =
        (setting("merge_requests_author_approval"), setting("disable_overriding_approvers_per_merge_request"))
    else {
        return Rule::unseen(
            source,
            "GitLab did not say whether authors may approve or change the approval rules of their own merge \
             requests (merge_requests_author_approval, disable_overriding_approvers_per_merge_request)",
        );
    };
    let mut weakened = Vec::new();
    if author_approves {
        weakened.push("the author may approve their own merge request (merge_requests_author_approval)");
    }
    if !no_overrides {
        weakened.push(
            "the author may change the approval rules of their merge request (overriding approvers per merge \
             request is allowed)",
        );
    }
    Rule {
        source,
        visible: true,
        required_approvals: Some(required.clamp(0, i32::MAX as i64) as i32),
        dismiss_stale_reviews: setting("reset_approvals_on_push"),
        require_last_push_approval: setting("merge_requests_disable_committers_approval"),
        review_weakened_by: (!weakened.is_empty()).then(|| weakened.join("; ")),
        ..Rule::default()
    }
}

/// The project's push rule (`/projects/:id/push_rule`: `null` when it has none).
pub fn push_rule(body: &Value) -> Rule {
    Rule {
        source: "gitlab.push_rule",
        visible: true,
        required_signatures: Some(body.get("reject_unsigned_commits").and_then(Value::as_bool) == Some(true)),
        ..Rule::default()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample(name: &str) -> Value {
        super::super::recorded_sample(name)
    }

    #[test]
    fn the_recorded_protected_branch_lets_maintainers_a_user_push() {
        let rule = protected_branches("develop", &[sample("gitlab4j-protected-branch.json")]);
        assert_eq!(rule.protected, Some(true));
        assert_eq!(rule.pull_request_required, Some(true));
        assert_eq!(rule.enforce_admins, Some(false));
        assert_eq!(rule.bypass_actors, Some(vec!["Maintainers may push".into(), "user 1 may push".into()]));
        assert_eq!(rule.allow_force_pushes, Some(false));
        let elsewhere = protected_branches("main", &[sample("gitlab4j-protected-branch.json")]);
        assert_eq!(elsewhere.protected, Some(false));
    }

    #[test]
    fn nobody_pushing_requires_merge_requests_and_developers_pushing_does_not() {
        let rule = |levels: Value| {
            protected_branches(
                "main",
                &[json!({"id": 1, "name": "ma*", "push_access_levels": levels, "allow_force_push": false})],
            )
        };
        let closed = rule(json!([{"access_level": 0}]));
        assert_eq!((closed.pull_request_required, closed.enforce_admins), (Some(true), Some(true)));
        let open = rule(json!([{"access_level": 30}]));
        assert_eq!(open.pull_request_required, Some(false));
        let unsaid = protected_branches("main", &[json!({"id": 1, "name": "main", "allow_force_push": false})]);
        assert_eq!((unsaid.pull_request_required, unsaid.enforce_admins), (None, None));
    }

    #[test]
    fn the_most_permissive_matching_rule_counts() {
        let rule = protected_branches(
            "main",
            &[
                json!({"id": 1, "name": "main", "push_access_levels": [{"access_level": 0}], "allow_force_push": false}),
                json!({"id": 2, "name": "*", "push_access_levels": [{"access_level": 40}], "allow_force_push": true}),
            ],
        );
        assert_eq!(rule.allow_force_pushes, Some(true));
        assert_eq!(rule.bypass_actors, Some(vec!["Maintainers may push".into()]));
    }

    #[test]
    fn approval_rules_apply_by_protected_branch_and_settings_keep_their_polarity() {
        let protected = [json!({"id": 1, "name": "main"})];
        let settings = sample("gitlab4j-project-approvals-config.json");
        let recorded = sample("gitlab4j-approval-rule.json");
        let rule = approvals("main", &protected, &settings, std::slice::from_ref(&recorded));
        assert_eq!(rule.required_approvals, Some(1));
        assert_eq!(rule.dismiss_stale_reviews, Some(true));
        assert_eq!(rule.require_last_push_approval, Some(false));
        assert!(rule.review_weakened_by.unwrap().contains("overriding approvers"));
        let elsewhere = approvals("develop", &[json!({"id": 9, "name": "develop"})], &settings, &[recorded]);
        assert_eq!(elsewhere.required_approvals, Some(0));
        let strict =
            json!({"merge_requests_author_approval": false, "disable_overriding_approvers_per_merge_request": true});
        assert_eq!(approvals("main", &protected, &strict, &[]).review_weakened_by, None);
        let lax =
            json!({"merge_requests_author_approval": true, "disable_overriding_approvers_per_merge_request": true});
        assert!(approvals("main", &protected, &lax, &[]).review_weakened_by.unwrap().contains("approve their own"));
        assert!(!approvals("main", &protected, &json!({}), &[]).visible);
    }

    #[test]
    fn the_recorded_project_and_push_rule_read() {
        let settings = merge_settings(&sample("gitlab4j-project.json"));
        assert!(settings.visible);
        assert_eq!(settings.required_status_checks, Some(Vec::new()));
        assert_eq!(settings.strict_status_checks, Some(false));
        let hidden = merge_settings(&json!({"id": 1, "default_branch": "main"}));
        assert!(!hidden.visible && hidden.not_visible_reason.unwrap().contains("Maintainer"));
        assert_eq!(push_rule(&sample("gitlab4j-push-rule.json")).required_signatures, Some(false));
        assert_eq!(push_rule(&Value::Null).required_signatures, Some(false));
    }
}
