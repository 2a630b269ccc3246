//! `pipeproof doctor`: before a long run, what the token can see, what it cannot (and what would fix that),
//! and whether the rate-limit budget covers a full collection: state evidence, and the listings operating evidence
//! starts from (pull requests, workflow runs, deployments, releases, the audit log) and the release branches.

use anyhow::{anyhow, Result};
use serde_json::Value;

use super::coverage::{judge, Seen};
use super::endpoints::{Endpoint, Scope, ORG_ENDPOINTS, PUBLIC_REPO_ENDPOINTS, RELEASE_REFS, REPO_ENDPOINTS};
use super::fetch::Fetched;
use super::GithubConfig;
use super::{audit_log_api, operating, release_branches, releases};
use crate::collect::http::ApiClient;

/// One kind of evidence and whether the token can read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    /// The evidence kind, in words.
    pub evidence: String,
    /// Whether it is visible.
    pub visible: bool,
    /// What was seen, or what permission would make it visible.
    pub detail: String,
}

/// The preflight's findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnosis {
    /// The token's kind (never the token).
    pub token_kind: String,
    /// The OAuth scopes GitHub reports, for classic tokens.
    pub scopes: Option<String>,
    /// Primary rate limit: (remaining, limit, reset epoch seconds).
    pub rate_limit: Option<(i64, i64, i64)>,
    /// Requests a full collection of this organisation would make.
    pub requests_needed: i64,
    /// Per evidence kind.
    pub checks: Vec<Check>,
}

/// The operating listings probed per repository (the audit log is one more per organisation).
const OPERATING_LISTINGS_PER_REPO: i64 = 4;

/// Asks GitHub, with the configured token, what a collection of the configured organisation would be able to see;
/// with `operating_days` above 0, operating evidence too, read that far back; with `release_branches`, the listing
/// of release branches.
pub async fn diagnose(client: &ApiClient, config: &GithubConfig) -> Result<Diagnosis> {
    let (org, per_page, operating_days) = (config.org.as_str(), config.per_page, config.operating_days);
    let prefixes = release_branches::prefixes(&config.release_branches);
    let rate = client.get(&client.url("/rate_limit"), 1).await?;
    let rate_limit = rate.json().ok().and_then(|body| {
        let core = body.pointer("/resources/core")?;
        Some((core.get("remaining")?.as_i64()?, core.get("limit")?.as_i64()?, core.get("reset")?.as_i64()?))
    });
    let org_response = client.get(&client.url(&format!("/orgs/{org}")), 1).await?;
    if org_response.status == 401 {
        return Err(anyhow!("GitHub rejected the token (HTTP 401): check the token named by github.token_env"));
    }
    let mut checks = Vec::new();
    let org_body = org_response.json().unwrap_or(Value::Null);
    checks.push(Check {
        evidence: "organisation settings".into(),
        visible: org_response.status == 200,
        detail: if org_response.status == 200 {
            "readable".into()
        } else {
            format!("HTTP {}: the organisation is not visible to this token", org_response.status)
        },
    });
    let two_factor = org_body.get("two_factor_requirement_enabled").filter(|v| !v.is_null());
    checks.push(Check {
        evidence: "two-factor requirement (SRC-01)".into(),
        visible: two_factor.is_some(),
        detail: match two_factor {
            Some(value) => format!("visible (currently {value})"),
            None => {
                "not returned: needs an organisation owner's token (admin:org read, or Members: read for an App)".into()
            }
        },
    });
    let repo_count =
        ["public_repos", "total_private_repos"].iter().filter_map(|k| org_body.get(*k)?.as_i64()).sum::<i64>();
    let listing = client.get(&client.url(&format!("/orgs/{org}/repos?type=all&per_page=1")), 1).await?;
    let first = listing.json().ok().and_then(|v| v.as_array()?.first().cloned());
    let empty = Default::default();
    let mut follow_ups = 0;
    for endpoint in ORG_ENDPOINTS {
        let scope = Scope { org, repo: None, branch: None, bypass: &empty };
        let (check, items) = probe(client, endpoint, &scope, per_page).await?;
        follow_ups += items;
        checks.push(check);
    }
    let mut follow_ups_per_repo = 0;
    let mut release_per_repo = prefixes.len() as i64;
    checks.push(Check {
        evidence: "repository inventory".into(),
        visible: listing.status == 200,
        detail: if listing.status == 200 {
            format!("readable; the organisation reports {repo_count} repositories")
        } else {
            format!("HTTP {}: needs the repo scope (Metadata: read for an App)", listing.status)
        },
    });
    if let Some(repo) = first {
        let name = repo.get("full_name").and_then(Value::as_str).unwrap_or_default();
        let branch = repo.get("default_branch").and_then(Value::as_str).unwrap_or("main");
        let protection = client.get(&client.url(&format!("/repos/{name}/branches/{branch}/protection")), 1).await?;
        let unprotected =
            protection.status == 404 && protection.error_message().as_deref() == Some("Branch not protected");
        let visible = protection.status == 200 || unprotected;
        checks.push(Check {
            evidence: "branch protection (SRC-05 to SRC-12)".into(),
            visible,
            detail: if visible {
                format!("readable on {name}@{branch}")
            } else {
                format!(
                    "HTTP {} on {name}@{branch}: needs admin on the repositories (Administration: read for an App)",
                    protection.status
                )
            },
        });
        let scope = Scope { org, repo: Some(name), branch: Some(branch), bypass: &empty };
        for endpoint in REPO_ENDPOINTS {
            let (check, items) = probe(client, endpoint, &scope, per_page).await?;
            follow_ups_per_repo += items;
            checks.push(check);
        }
        if !prefixes.is_empty() {
            let (check, found) = probe_release_branches(client, config, name, branch, &prefixes).await?;
            release_per_repo += 2 * found;
            checks.push(check);
        }
        if operating_days > 0 {
            let since = crate::collect::watermarks::floor(operating_days, crate::time::now_utc());
            checks.extend(probe_operating(client, org, name, branch, per_page.clamp(1, 100), since).await?);
        }
    }
    let public_count = org_body.get("public_repos").and_then(Value::as_i64).unwrap_or(0);
    if public_count > 0 {
        checks.extend(probe_public(client, org, per_page).await?);
    }
    let operating = if operating_days > 0 { 1 + repo_count * OPERATING_LISTINGS_PER_REPO } else { 0 };
    let pages = (repo_count + i64::from(per_page) - 1) / i64::from(per_page.max(1));
    Ok(Diagnosis {
        token_kind: org_response.token_kind.to_string(),
        scopes: org_response.scopes.clone(),
        rate_limit,
        requests_needed: 1
            + pages.max(1)
            + ORG_ENDPOINTS.len() as i64
            + follow_ups
            + repo_count * (1 + REPO_ENDPOINTS.len() as i64 + follow_ups_per_repo + release_per_repo)
            + public_count * PUBLIC_REPO_ENDPOINTS.len() as i64
            + operating,
        checks,
    })
}

/// Probes the endpoints read only for public repositories on the organisation's first public repository.
async fn probe_public(client: &ApiClient, org: &str, per_page: u32) -> Result<Vec<Check>> {
    let listing = client.get(&client.url(&format!("/orgs/{org}/repos?type=public&per_page=1")), 1).await?;
    let first = listing.json().ok().and_then(|v| v.as_array()?.first().cloned());
    let Some(name) = first.as_ref().and_then(|repo| repo.get("full_name")?.as_str()) else {
        return Ok(Vec::new());
    };
    let empty = Default::default();
    let scope = Scope { org, repo: Some(name), branch: None, bypass: &empty };
    let mut checks = Vec::new();
    for endpoint in PUBLIC_REPO_ENDPOINTS {
        checks.push(probe(client, endpoint, &scope, per_page).await?.0);
    }
    Ok(checks)
}

/// Asks one endpoint for one page and says whether its evidence is visible; also how many follow-up requests its
/// items would cause (one per ruleset, one per workflow file), to estimate the budget.
async fn probe(client: &ApiClient, endpoint: &Endpoint, scope: &Scope<'_>, per_page: u32) -> Result<(Check, i64)> {
    let path = endpoint.path_for(scope);
    let path = if endpoint.paginated() {
        format!("{path}{}per_page={}", if path.contains('?') { '&' } else { '?' }, per_page.clamp(1, 100))
    } else {
        path
    };
    let response = endpoint.ask_once(client, &path, scope.org).await?;
    let seen = judge(endpoint.kind, endpoint.needs, endpoint.absent.is_some(), std::slice::from_ref(&response));
    let follow_ups = match (&seen, response.json()) {
        (Seen::Visible, Ok(body)) => endpoint
            .follows
            .iter()
            .map(|follow| {
                follow.items(endpoint, &body).into_iter().filter(|item| (follow.path)(scope, item).is_some()).count()
            })
            .sum::<usize>() as i64,
        _ => 0,
    };
    Ok((check(endpoint.kind, seen, scope.repo), follow_ups))
}

/// Lists `repo`'s release branches as the collector does and says whether they are visible; also how many it has
/// (each costs two requests: classic protection and the rules on it), to estimate the budget from.
async fn probe_release_branches(
    client: &ApiClient,
    config: &GithubConfig,
    repo: &str,
    branch: &str,
    prefixes: &[String],
) -> Result<(Check, i64)> {
    let mut pages = Vec::new();
    for prefix in prefixes {
        let path =
            format!("{}?per_page={}", release_branches::listing_path(repo, prefix), config.per_page.clamp(1, 100));
        pages.push(client.get(&client.url(&path), 1).await?);
    }
    let seen = judge(RELEASE_REFS.kind, RELEASE_REFS.needs, false, &pages);
    let listing = Fetched {
        endpoint: &RELEASE_REFS,
        repo: Some(repo.to_string()),
        branch: Some(branch.to_string()),
        parent: None,
        pages,
    };
    let found = release_branches::found(std::slice::from_ref(&listing), &config.release_branches)?.len() as i64;
    let mut check = check(RELEASE_REFS.kind, seen, Some(repo));
    if check.visible {
        check.detail =
            format!("{}; {found} branch(es) there match {}", check.detail, config.release_branches.join(", "));
    }
    Ok((check, found))
}

/// A check from what GitHub answered about `kind`, naming the repository it was probed on.
fn check(kind: &str, seen: Seen, repo: Option<&str>) -> Check {
    let on = repo.map(|repo| format!(" (probed on {repo})")).unwrap_or_default();
    let (visible, detail) = match seen {
        Seen::Visible => (true, format!("readable{on}")),
        Seen::Absent => (true, format!("readable{on}: GitHub says there is none")),
        Seen::FeatureOff(reason) => (true, format!("{reason}{on}")),
        Seen::NotVisible(reason) | Seen::Incomplete(reason) => (false, format!("{reason}{on}")),
    };
    Check { evidence: kind.to_string(), visible, detail }
}

/// Asks for the first page of each listing operating evidence starts from, as the collector asks for it: pull
/// requests, workflow runs, deployments and releases of `repo`, and the organisation's audit log.
async fn probe_operating(
    client: &ApiClient,
    org: &str,
    repo: &str,
    branch: &str,
    per_page: u32,
    since: chrono::NaiveDateTime,
) -> Result<Vec<Check>> {
    let listings = [
        ("github.pull_requests", operating::NEEDS, operating::pulls_path(repo, branch, per_page), Some(repo)),
        (
            "github.workflow_runs",
            operating::NEEDS,
            operating::runs_path(repo, per_page, &operating::created_since(since)),
            Some(repo),
        ),
        ("github.deployments", operating::NEEDS, operating::deployments_path(repo, per_page), Some(repo)),
        (releases::RELEASES_KIND, releases::RELEASES_NEEDS, releases::releases_path(repo, per_page), Some(repo)),
        (audit_log_api::KIND, audit_log_api::NEEDS, audit_log_api::path(org, per_page, since), None),
    ];
    let mut checks = Vec::new();
    for (kind, needs, path, on) in listings {
        let response = client.get(&client.url(&path), 1).await?;
        checks.push(check(kind, judge(kind, needs, false, std::slice::from_ref(&response)), on));
    }
    Ok(checks)
}
