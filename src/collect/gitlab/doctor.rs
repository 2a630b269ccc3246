//! `pipeproof doctor` for a GitLab group: before a run, the token (its scopes, its expiry, its user's role in the
//! group), the group's tier, what each kind of evidence answers on the first project a collection would read, and
//! the requests a full collection makes.

use anyhow::{anyhow, Result};
use serde_json::Value;

use super::fetch::segment;
use super::tier::{judge, Tier};
use super::GitlabConfig;
use crate::collect::coverage::Seen;
use crate::collect::github::doctor::Check;
use crate::collect::http::ApiClient;

/// The role a collection needs to see settings: Maintainer on projects (Owner on the group sees the most).
const MAINTAINER: i64 = 40;

/// The GitLab preflight's findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The token's kind, name, scopes and expiry, as GitLab describes it (never the token).
    pub token: String,
    /// The tier, as far as it is known.
    pub tier: String,
    /// `RateLimit-Remaining` of the last answer, where GitLab sends it.
    pub rate_limit_remaining: Option<i64>,
    /// Requests a full collection of the group would make.
    pub requests_needed: i64,
    /// Per evidence kind (and the token's scope, expiry and role).
    pub checks: Vec<Check>,
}

fn check(evidence: &str, visible: bool, detail: impl Into<String>) -> Check {
    Check { evidence: evidence.to_string(), visible, detail: detail.into() }
}

/// A judged answer about the `probed` project as a check; a feature the tier lacks is no finding.
fn seen_check(evidence: &str, seen: &Seen, probed: &str) -> Check {
    match seen {
        Seen::Visible | Seen::Absent => check(evidence, true, format!("readable (probed on {probed})")),
        Seen::FeatureOff(why) => check(evidence, true, format!("not in this tier: {why}")),
        Seen::NotVisible(why) | Seen::Incomplete(why) => check(evidence, false, why.clone()),
    }
}

/// The name of an access level.
fn role(level: i64) -> &'static str {
    match level {
        50.. => "Owner",
        40..=49 => "Maintainer",
        30..=39 => "Developer",
        20..=29 => "Reporter",
        10..=19 => "Guest",
        _ => "no role",
    }
}

/// Asks GitLab, with the configured token, what a collection of the configured group would see.
pub async fn diagnose(client: &ApiClient, config: &GitlabConfig) -> Result<Diagnosis> {
    let per_page = config.per_page.clamp(1, 100);
    let wanted = config.group.trim_matches('/');
    let mut checks = Vec::new();
    let token = client.get(&client.url("/personal_access_tokens/self"), 1).await?;
    if token.status == 401 {
        return Err(anyhow!("GitLab rejected the token (HTTP 401): check the token named by gitlab.token_env"));
    }
    let token_body = token.json().ok().filter(|_| token.status == 200);
    let scopes: Vec<String> = token_body
        .as_ref()
        .and_then(|t| t.get("scopes")?.as_array().cloned())
        .map(|list| list.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let expires = token_body.as_ref().and_then(|t| t.get("expires_at")?.as_str().map(str::to_string));
    let described = match &token_body {
        Some(body) => format!(
            "{} {:?} (scopes: {}; expires {})",
            token.token_kind,
            body.get("name").and_then(Value::as_str).unwrap_or("unnamed"),
            if scopes.is_empty() { "none shown".to_string() } else { scopes.join(", ") },
            expires.as_deref().unwrap_or("never")
        ),
        None => format!("{} (GitLab did not describe it: HTTP {})", token.token_kind, token.status),
    };
    if token_body.is_some() {
        let reads = scopes.iter().any(|s| s == "read_api" || s == "api");
        checks.push(check("token scope", reads, if reads { "read_api" } else { "needs the read_api scope" }));
    }
    if let Some(date) = expires.as_deref().and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()) {
        let days = (date - crate::time::now_utc().date()).num_days();
        checks.push(check(
            "token expiry",
            days > 14,
            format!("expires in {days} day(s){}", if days > 14 { "" } else { ": renew it before the next run" }),
        ));
    }

    let group = client.get(&client.url(&format!("/groups/{}?with_projects=false", segment(wanted))), 1).await?;
    if group.status != 200 {
        return Err(anyhow!(
            "cannot read group {wanted:?}: HTTP {} {}",
            group.status,
            group.error_message().unwrap_or_default()
        ));
    }
    let group_body = group.json()?;
    let group_id = group_body.get("id").and_then(Value::as_i64).ok_or_else(|| anyhow!("a group without id"))?;
    let root = wanted.split('/').next().unwrap_or(wanted);
    let metadata = client.get(&client.url("/metadata"), 1).await?;
    let namespace = client.get(&client.url(&format!("/namespaces/{}", segment(root))), 1).await?;
    let tier = Tier::judge(&metadata, &namespace);
    let user = client.get(&client.url("/user"), 1).await?;
    let user_id = user.json().ok().and_then(|u| u.get("id")?.as_i64());
    if let Some(user_id) = user_id {
        let member = client.get(&client.url(&format!("/groups/{group_id}/members/all/{user_id}")), 1).await?;
        let level = member.json().ok().filter(|_| member.status == 200).and_then(|m| m.get("access_level")?.as_i64());
        checks.push(match level {
            Some(level) => check(
                "role in the group",
                level >= MAINTAINER,
                format!(
                    "{}{}",
                    role(level),
                    if level >= MAINTAINER {
                        ""
                    } else {
                        ": protection and settings need Maintainer (Owner sees most)"
                    }
                ),
            ),
            None => check(
                "role in the group",
                false,
                format!("not a member (HTTP {}): needs Maintainer or Owner", member.status),
            ),
        });
    }

    let listing = client
        .get_all_pages(&format!(
            "/groups/{group_id}/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc&per_page={per_page}"
        ))
        .await?;
    let listed_fully = listing.iter().all(|page| page.status == 200);
    let listed_detail = |projects: usize, asked: usize| {
        if listed_fully {
            format!("{projects} in scope, {asked} unarchived with a default branch whose protection is read")
        } else {
            "the project listing could not be read whole: a collection would stop".to_string()
        }
    };
    let projects: Vec<Value> = listing
        .iter()
        .filter(|page| page.status == 200)
        .filter_map(|page| page.json().ok()?.as_array().cloned())
        .flatten()
        .filter(|p| {
            let path = p.get("path_with_namespace").and_then(Value::as_str).unwrap_or_default();
            config.in_scope(path, p.get("archived").and_then(Value::as_bool).unwrap_or(false))
        })
        .collect();
    let asked: Vec<&Value> = projects
        .iter()
        .filter(|p| p.get("archived").and_then(Value::as_bool) != Some(true))
        .filter(|p| p.get("default_branch").and_then(Value::as_str).is_some_and(|b| !b.is_empty()))
        .collect();
    let premium = !matches!(tier, Tier::Free(_));
    let per_project = super::fetch::project_requests(0, per_page)
        .iter()
        .filter(|(_, feature, _)| premium || feature.is_none())
        .count() as i64;
    // Besides: CI/CD variables, the CI configuration file and its expansion, environments, the newest push,
    // CODEOWNERS (up to three places); protected environments on Premium; the default branch's newest pipelines and
    // the newest one's jobs (more when it ran no SAST job, none when the configuration has none).
    let per_project = per_project + 5 + super::codeowners::LOCATIONS.len() as i64 + i64::from(premium) + 2;
    let group_hooks = i64::from(premium);
    let ancestors = wanted.matches('/').count() as i64;
    // Each group up the tree: its CI/CD variables, and its protected environments on Premium.
    let per_group = (1 + ancestors) * (1 + i64::from(premium));
    // A merge-request and a deployment listing per project.
    let operating = 2 * i64::from(config.operating_days > 0);
    // Audit events (Premium): who the token's user is and its role, then a request per 30-day window for the group
    // and each project (a first run reads the whole operating window).
    let windows = i64::from(config.operating_days.div_ceil(30));
    let audit = if premium && config.operating_days > 0 { 2 + windows * (1 + asked.len() as i64) } else { 0 };
    // The members listing and the top-level group's billable members are counted as one page each.
    let requests_needed = audit
        + 4
        + ancestors
        + 1
        + group_hooks
        + per_group
        + listing.len() as i64
        + (per_project + operating) * asked.len() as i64;
    checks.push(check("projects", listed_fully, listed_detail(projects.len(), asked.len())));
    let mut remaining = listing.iter().rev().find_map(|page| page.rate_limit_remaining);
    if let Some(first) = asked.first() {
        let id = first.get("id").and_then(Value::as_i64).unwrap_or_default();
        let probed = first.get("path_with_namespace").and_then(Value::as_str).unwrap_or_default();
        let settings = super::protection::merge_settings(first);
        checks.push(check(
            "gitlab.merge_settings",
            settings.visible,
            settings.not_visible_reason.unwrap_or_else(|| format!("readable (probed on {probed})")),
        ));
        let probes = super::fetch::project_requests(id, per_page)
            .into_iter()
            .filter(|(_, feature, _)| premium || feature.is_none());
        if config.operating_days > 0 {
            let branch = first.get("default_branch").and_then(Value::as_str).unwrap_or_default();
            let floor = crate::collect::watermarks::floor(config.operating_days, crate::time::now_utc());
            let path = super::merge_requests::listing_path(id, branch, floor, per_page);
            let answer = client.get(&client.url(&path), 1).await?;
            let kind = super::merge_requests::KIND;
            let seen = judge(kind, "Reporter", None, &tier, std::slice::from_ref(&answer));
            checks.push(seen_check(kind, &seen, probed));
        }
        for (kind, feature, path) in probes {
            let answer = client.get(&client.url(&path), 1).await?;
            let seen = judge(kind, "Maintainer", feature, &tier, std::slice::from_ref(&answer));
            checks.push(seen_check(kind, &seen, probed));
            remaining = answer.rate_limit_remaining.or(remaining);
        }
        let branch = first.get("default_branch").and_then(Value::as_str).unwrap_or_default();
        let config_path = first
            .get("ci_config_path")
            .and_then(Value::as_str)
            .filter(|p| !p.is_empty() && !p.contains('@') && !p.contains("://"))
            .unwrap_or(".gitlab-ci.yml");
        let [environments, protected] = super::deployments::environment_paths(id, per_page);
        let mut more: Vec<(&str, &str, Option<&str>, String)> = vec![
            ("gitlab.variables", "Maintainer", None, super::variables::project_path(id, per_page)),
            ("gitlab.ci_config", "Reporter", None, super::ci_config::file_path(id, config_path, branch)),
            ("gitlab.ci_lint", "Developer", None, super::ci_config::lint_path(id, branch)),
            ("gitlab.environments", "Reporter", None, environments),
            (
                "gitlab.codeowners",
                "Reporter",
                None,
                super::ci_config::file_path(id, super::codeowners::LOCATIONS[0], branch),
            ),
            ("gitlab.push_events", "Reporter", None, super::activity::path(id)),
            ("gitlab.branch_pipelines", "Reporter", None, super::sast_runs::pipelines_path(id, branch)),
        ];
        if premium {
            more.push(("gitlab.protected_environments", "Maintainer", Some("protected environments"), protected));
        }
        if config.operating_days > 0 {
            let floor = crate::collect::watermarks::floor(config.operating_days, crate::time::now_utc());
            let path = super::deployments::listing_path(id, floor, per_page);
            more.push((super::deployments::KIND, "Reporter", None, path));
        }
        for (kind, role, feature, path) in more {
            let answer = client.get(&client.url(&path), 1).await?;
            // A project without a CI configuration file answers 404 "File Not Found": readable, and absent.
            let absent =
                matches!(kind, "gitlab.ci_config" | "gitlab.codeowners") && super::fetch::file_not_found(&answer);
            let seen =
                if absent { Seen::Absent } else { judge(kind, role, feature, &tier, std::slice::from_ref(&answer)) };
            checks.push(seen_check(kind, &seen, probed));
            remaining = answer.rate_limit_remaining.or(remaining);
        }
    }
    let groups = super::group_paths(wanted);
    // Activity dates: the top-level group's billable members (its Owners only).
    let root = groups.last().map(String::as_str).unwrap_or(wanted);
    let root_ref = if root == wanted { group_id.to_string() } else { segment(root) };
    let answer = client.get(&client.url(&super::member_activity::path(&root_ref, per_page)), 1).await?;
    let kind = super::member_activity::KIND;
    let seen = judge(
        kind,
        "Owner of the top-level group",
        Some("list of billable members"),
        &tier,
        std::slice::from_ref(&answer),
    );
    checks.push(seen_check(kind, &seen, root));
    remaining = answer.rate_limit_remaining.or(remaining);
    for (kind, role, premium_only, suffix) in [
        ("gitlab.group_variables", "Owner", false, "variables"),
        ("gitlab.group_protected_environments", "Maintainer", true, "protected_environments"),
    ] {
        if premium_only && !premium {
            continue;
        }
        let answer = client.get(&client.url(&format!("/groups/{group_id}/{suffix}?per_page={per_page}")), 1).await?;
        let feature = premium_only.then_some("protected environments");
        let seen = judge(kind, role, feature, &tier, std::slice::from_ref(&answer));
        checks.push(seen_check(kind, &seen, &groups[0]));
        remaining = answer.rate_limit_remaining.or(remaining);
    }
    Ok(Diagnosis { token: described, tier: tier.describe(), rate_limit_remaining: remaining, requests_needed, checks })
}
