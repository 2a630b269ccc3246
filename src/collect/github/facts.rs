//! Turns a GitHub snapshot into evidence rows and typed facts, in one transaction.

use anyhow::{anyhow, Result};
use duckdb::{params, Appender, Connection};
use serde_json::Value;

use super::fetch::{BranchProtectionResponse, GithubSnapshot};
use crate::collect::http::ApiResponse;
use crate::store::{add_evidence_batch, NewEvidence};

/// Counts of what a collection stored.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CollectSummary {
    /// Evidence items (API responses) stored.
    pub evidence: usize,
    /// Repositories observed.
    pub repositories: usize,
    /// Default and release branches whose protection could be read.
    pub branches_visible: usize,
    /// Default and release branches whose protection the token could not read.
    pub branches_not_visible: usize,
    /// Answers that were `304 Not Modified` (free against the primary rate limit) and reused stored evidence.
    pub not_modified: usize,
    /// Listed repositories the config's scope left out.
    pub out_of_scope: usize,
    /// Fact rows stored from the other endpoints (people, rulesets, Actions, environments, workflows, alerts, ...).
    pub facts: usize,
    /// Endpoint answers (per organisation or repository) the token could not see.
    pub not_visible: usize,
    /// Endpoint answers saying the feature is off (e.g. secret scanning disabled).
    pub feature_off: usize,
    /// Answers that could not be read completely (server failures, rate limits past what the run waits, listings
    /// cut short or looping, redirects off the API origin): recorded as `incomplete` coverage, never as a verdict.
    pub incomplete: usize,
    /// Pull requests merged into default branches in the window read.
    pub pull_requests: usize,
    /// Workflow runs in the window read.
    pub workflow_runs: usize,
    /// Deployment events (creations and statuses) new to the store.
    pub deploy_events: usize,
    /// Organisation audit-log events new to the store.
    pub audit_events: usize,
    /// Releases created or published in the window read.
    pub releases: usize,
    /// Attestations of those releases' assets, checked against the configured Sigstore trust.
    pub attestations: usize,
}

impl CollectSummary {
    /// One paragraph saying what a collection of `org` stored and what it could not see.
    pub fn describe(&self, org: &str) -> String {
        format!(
            "organisation {org}: {} repositories in scope ({} left out), {} evidence items ({} unchanged since the last \
             run), {} facts; branch protection visible on {}, not visible on {}; {} answers not visible to the token, {} \
             saying a feature is off, {} not read completely; since the last run: {} merged pull requests, {} workflow runs, {} deployment events, \
             {} audit-log events, {} releases with {} asset attestations",
            self.repositories,
            self.out_of_scope,
            self.evidence,
            self.not_modified,
            self.facts,
            self.branches_visible,
            self.branches_not_visible,
            self.not_visible,
            self.feature_off,
            self.incomplete,
            self.pull_requests,
            self.workflow_runs,
            self.deploy_events,
            self.audit_events,
            self.releases,
            self.attestations
        )
    }
}

fn evidence_of<'a>(
    kind: &'a str,
    subject: &'a str,
    response: &'a ApiResponse,
    complete: Option<bool>,
) -> NewEvidence<'a> {
    response.evidence("github", kind, subject, complete)
}

/// Stores the snapshot's responses as evidence and its facts, referencing that evidence (in bulk, via the Appender).
pub fn store_snapshot(conn: &Connection, run_id: i64, snapshot: &GithubSnapshot) -> Result<CollectSummary> {
    let org = snapshot.org.as_str();
    let subjects: Vec<String> = snapshot.protections.iter().map(|p| format!("{}@{}", p.repo, p.branch)).collect();
    let last_page = snapshot.repo_pages.len();
    let mut items = vec![evidence_of("github.org", org, &snapshot.org_response, None)];
    let listed = crate::collect::http::listing_complete(&snapshot.repo_pages);
    items.extend(snapshot.repo_pages.iter().map(|page| evidence_of("github.repos", org, page, listed)));
    items.extend(
        snapshot
            .protections
            .iter()
            .zip(&subjects)
            .map(|(p, subject)| evidence_of("github.branch_protection", subject, &p.response, None)),
    );
    let ids = add_evidence_batch(conn, run_id, &items)?;
    let mut summary = CollectSummary {
        evidence: ids.len(),
        not_modified: snapshot.responses().iter().filter(|r| r.not_modified).count(),
        out_of_scope: snapshot.out_of_scope,
        ..CollectSummary::default()
    };

    insert_org_settings(conn, run_id, ids[0], org, &snapshot.org_response)?;

    let mut repositories = conn.appender("repositories_history")?;
    for (page, evidence_id) in snapshot.repo_pages.iter().zip(&ids[1..]) {
        summary.repositories +=
            append_repositories(&mut repositories, run_id, *evidence_id, org, page, &snapshot.in_scope)?;
    }
    repositories.flush()?;

    let mut rules = conn.appender("branch_rules_history")?;
    for (protection, evidence_id) in snapshot.protections.iter().zip(&ids[1 + last_page..]) {
        if append_branch_rule(&mut rules, run_id, *evidence_id, org, protection)? {
            summary.branches_visible += 1;
        } else {
            summary.branches_not_visible += 1;
        }
    }
    rules.flush()?;
    drop(rules);
    let stored = super::endpoint_facts::store(conn, run_id, org, &snapshot.fetched)?;
    summary.evidence += stored.evidence;
    summary.facts = stored.facts;
    summary.not_visible = stored.not_visible;
    summary.feature_off = stored.feature_off;
    summary.incomplete = stored.incomplete;
    summary.incomplete +=
        snapshot.protections.iter().filter(|p| p.response.status == crate::collect::http::UNANSWERED).count();
    Ok(summary)
}

fn insert_org_settings(
    conn: &Connection,
    run_id: i64,
    evidence_id: i64,
    org: &str,
    response: &ApiResponse,
) -> Result<()> {
    let body = response.json()?;
    let two_factor = body.get("two_factor_requirement_enabled").and_then(Value::as_bool);
    let reason = two_factor
        .is_none()
        .then_some("two_factor_requirement_enabled was not returned: GitHub shows it only to organisation owners");
    conn.prepare_cached("INSERT INTO org_settings_history VALUES (?, ?, ?, ?, true, ?, ?, ?, ?, ?, ?, ?)")?.execute(
        params![
            run_id,
            evidence_id,
            response.received_at,
            org,
            reason,
            two_factor,
            body.get("default_repository_permission").and_then(Value::as_str),
            body.get("members_can_create_repositories").and_then(Value::as_bool),
            body.get("members_can_create_public_repositories").and_then(Value::as_bool),
            body.get("members_can_fork_private_repositories").and_then(Value::as_bool),
            body.get("web_commit_signoff_required").and_then(Value::as_bool),
        ],
    )?;
    Ok(())
}

fn append_repositories(
    appender: &mut Appender<'_>,
    run_id: i64,
    evidence_id: i64,
    org: &str,
    page: &ApiResponse,
    in_scope: &std::collections::BTreeSet<String>,
) -> Result<usize> {
    let listing = page.json()?;
    let repos = listing.as_array().ok_or_else(|| anyhow!("{}: expected a JSON array of repositories", page.url))?;
    let mut stored = 0;
    for repo in repos {
        let name = repo
            .get("full_name")
            .and_then(Value::as_str)
            .ok_or_else(|| anyhow!("{}: a repository without full_name", page.url))?;
        if !in_scope.contains(name) {
            continue;
        }
        stored += 1;
        let visibility = super::cells::visibility_of(repo);
        let security = repo.get("security_and_analysis").filter(|value| value.is_object());
        let status = |feature: &str| security.and_then(|s| s.get(feature)?.get("status")?.as_str().map(str::to_string));
        appender.append_row(params![
            run_id,
            evidence_id,
            page.received_at,
            org,
            name,
            visibility,
            repo.get("archived").and_then(Value::as_bool),
            repo.get("fork").and_then(Value::as_bool),
            repo.get("default_branch").and_then(Value::as_str),
            repo.get("pushed_at").and_then(Value::as_str).and_then(crate::time::parse_api_time),
            security.is_some(),
            status("advanced_security"),
            status("secret_scanning"),
            status("secret_scanning_push_protection"),
            status("dependabot_security_updates"),
            repo.get("allow_forking").and_then(Value::as_bool),
        ])?;
    }
    Ok(stored)
}

/// What a protection response says, as one `branch_rules` row.
#[derive(Debug, Default, PartialEq)]
struct BranchRule {
    visible: bool,
    not_visible_reason: Option<String>,
    protected: Option<bool>,
    pull_request_required: Option<bool>,
    required_approvals: Option<i32>,
    dismiss_stale_reviews: Option<bool>,
    require_code_owner_reviews: Option<bool>,
    require_last_push_approval: Option<bool>,
    required_status_checks: Option<Vec<String>>,
    strict_status_checks: Option<bool>,
    enforce_admins: Option<bool>,
    allow_force_pushes: Option<bool>,
    allow_deletions: Option<bool>,
    required_linear_history: Option<bool>,
    required_signatures: Option<bool>,
    required_conversation_resolution: Option<bool>,
    bypass_actors: Option<Vec<String>>,
}

fn enabled(body: &Value, key: &str) -> bool {
    body.get(key).and_then(|setting| setting.get("enabled")).and_then(Value::as_bool).unwrap_or(false)
}

fn parse_branch_rule(response: &ApiResponse) -> Result<BranchRule> {
    match response.status {
        200 => {
            let body = response.json()?;
            let reviews = body.get("required_pull_request_reviews").filter(|value| value.is_object());
            let review_flag = |key: &str| reviews.map(|r| r.get(key).and_then(Value::as_bool).unwrap_or(false));
            let checks = body.get("required_status_checks").filter(|value| value.is_object());
            let contexts = checks.map(|checks| {
                let mut names: Vec<String> = checks
                    .get("checks")
                    .and_then(Value::as_array)
                    .map(|list| list.iter().filter_map(|c| c.get("context")?.as_str().map(str::to_string)).collect())
                    .unwrap_or_default();
                if names.is_empty() {
                    names = checks
                        .get("contexts")
                        .and_then(Value::as_array)
                        .map(|list| list.iter().filter_map(|c| c.as_str().map(str::to_string)).collect())
                        .unwrap_or_default();
                }
                names
            });
            Ok(BranchRule {
                visible: true,
                protected: Some(true),
                pull_request_required: Some(reviews.is_some()),
                required_approvals: Some(
                    reviews.and_then(|r| r.get("required_approving_review_count")).and_then(Value::as_i64).unwrap_or(0)
                        as i32,
                ),
                dismiss_stale_reviews: Some(review_flag("dismiss_stale_reviews").unwrap_or(false)),
                require_code_owner_reviews: Some(review_flag("require_code_owner_reviews").unwrap_or(false)),
                require_last_push_approval: Some(review_flag("require_last_push_approval").unwrap_or(false)),
                strict_status_checks: Some(
                    checks.and_then(|c| c.get("strict")).and_then(Value::as_bool).unwrap_or(false),
                ),
                required_status_checks: Some(contexts.unwrap_or_default()),
                enforce_admins: Some(enabled(&body, "enforce_admins")),
                allow_force_pushes: Some(enabled(&body, "allow_force_pushes")),
                allow_deletions: Some(enabled(&body, "allow_deletions")),
                required_linear_history: Some(enabled(&body, "required_linear_history")),
                required_signatures: Some(enabled(&body, "required_signatures")),
                required_conversation_resolution: Some(enabled(&body, "required_conversation_resolution")),
                bypass_actors: Some(classic_bypass(&body)),
                ..BranchRule::default()
            })
        }
        404 if response.error_message().as_deref() == Some("Branch not protected") => Ok(BranchRule {
            visible: true,
            protected: Some(false),
            pull_request_required: Some(false),
            required_approvals: Some(0),
            dismiss_stale_reviews: Some(false),
            require_code_owner_reviews: Some(false),
            require_last_push_approval: Some(false),
            required_status_checks: Some(Vec::new()),
            strict_status_checks: Some(false),
            enforce_admins: Some(false),
            allow_force_pushes: Some(true),
            allow_deletions: Some(true),
            required_linear_history: Some(false),
            required_signatures: Some(false),
            required_conversation_resolution: Some(false),
            ..BranchRule::default()
        }),
        crate::collect::http::UNANSWERED => Ok(BranchRule {
            visible: false,
            not_visible_reason: Some(format!(
                "branch protection was not read: {}",
                response.error_message().unwrap_or_else(|| "no usable answer".to_string())
            )),
            ..BranchRule::default()
        }),
        status => Ok(BranchRule {
            visible: false,
            not_visible_reason: Some(format!(
                "GitHub answered HTTP {status}{} when asked for branch protection: the token needs admin access \
                 (or the Administration: read permission) on this repository",
                response.error_message().map(|m| format!(" \"{m}\"")).unwrap_or_default()
            )),
            ..BranchRule::default()
        }),
    }
}

/// Who can get past classic protection: administrators unless it is enforced for them, and the users, teams and
/// apps allowed to bypass the pull-request requirement.
fn classic_bypass(body: &Value) -> Vec<String> {
    let mut actors = Vec::new();
    if !enabled(body, "enforce_admins") {
        actors.push("repository administrators (enforce_admins off)".to_string());
    }
    let allowances = body.pointer("/required_pull_request_reviews/bypass_pull_request_allowances");
    for (key, label, name) in [("users", "user", "login"), ("teams", "team", "slug"), ("apps", "app", "slug")] {
        for entry in allowances.and_then(|a| a.get(key)).and_then(Value::as_array).into_iter().flatten() {
            if let Some(who) = entry.get(name).and_then(Value::as_str) {
                actors.push(format!("{label} {who} (pull requests)"));
            }
        }
    }
    actors
}

fn append_branch_rule(
    appender: &mut Appender<'_>,
    run_id: i64,
    evidence_id: i64,
    org: &str,
    protection: &BranchProtectionResponse,
) -> Result<bool> {
    let rule = parse_branch_rule(&protection.response)?;
    let checks = rule.required_status_checks.as_ref().map(crate::store::list_text::text_list);
    appender.append_row(params![
        run_id,
        evidence_id,
        protection.response.received_at,
        org,
        protection.repo,
        protection.branch,
        protection.default_branch,
        "classic",
        rule.visible,
        rule.not_visible_reason,
        rule.protected,
        rule.pull_request_required,
        rule.required_approvals,
        rule.dismiss_stale_reviews,
        rule.require_code_owner_reviews,
        rule.require_last_push_approval,
        checks,
        rule.strict_status_checks,
        rule.enforce_admins,
        rule.allow_force_pushes,
        rule.allow_deletions,
        rule.required_linear_history,
        rule.required_signatures,
        rule.required_conversation_resolution,
        rule.bypass_actors.map(crate::store::list_text::text_list),
        None::<String>,
        None::<String>,
    ])?;
    Ok(rule.visible)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> ApiResponse {
        ApiResponse {
            url: "http://127.0.0.1/repos/o/r/branches/main/protection".into(),
            status,
            body: body.as_bytes().to_vec(),
            etag: None,
            api_version: crate::collect::http::GITHUB_API_VERSION,
            api_version_selected: None,
            next: None,
            page: 1,
            received_at: crate::time::now_utc(),
            token_kind: "test token",
            scopes: None,
            rate_limit_remaining: None,
            not_modified: false,
            graphql: None,
            redacted: Vec::new(),
        }
    }

    #[test]
    fn branch_not_protected_is_a_fact_not_an_error() {
        let rule = parse_branch_rule(&response(404, r#"{"message":"Branch not protected"}"#)).unwrap();
        assert!(rule.visible);
        assert_eq!(rule.protected, Some(false));
    }

    #[test]
    fn a_forbidden_answer_is_not_visible_with_the_reason() {
        let rule =
            parse_branch_rule(&response(403, r#"{"message":"Resource not accessible by integration"}"#)).unwrap();
        assert!(!rule.visible);
        assert_eq!(rule.protected, None);
        assert!(rule.not_visible_reason.unwrap().contains("HTTP 403"));
    }

    #[test]
    fn the_recorded_octocrab_protection_parses() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/samples/github-api/octocrab/octocrab-repo_branch_protection.json"
        );
        let text = std::fs::read_to_string(path).expect("shared samples beside the checkout");
        let rule = parse_branch_rule(&response(200, &text)).unwrap();
        assert_eq!(rule.protected, Some(true));
        assert!(rule.required_approvals.is_some());
        assert!(rule.enforce_admins.is_some());
    }
}
