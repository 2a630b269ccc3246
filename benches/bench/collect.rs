//! Benchmark: collect a synthetic 1,000-repository organisation from the local replay server, twice.
//! Prints requests per repository, the share answered 304 on the unchanged second run, and wall time.
//! Run with `./x bench collect`.

use std::time::Instant;

use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::ingest::TrustPolicy;
use pipeproof::store::Store;

const REPOS: usize = 1_000;
const PER_PAGE: usize = 100;

fn interaction(
    path: String,
    status: u16,
    body: serde_json::Value,
    etag: Option<String>,
    link: Option<String>,
) -> Vec<serde_json::Value> {
    let mut headers = serde_json::Map::new();
    if let Some(link) = link {
        headers.insert("link".into(), link.into());
    }
    let mut answers = Vec::new();
    if let Some(etag) = etag {
        headers.insert("etag".into(), etag.clone().into());
        answers.push(
            serde_json::json!({ "path": path, "status": 304, "if_none_match": etag, "headers": { "etag": etag } }),
        );
    }
    answers.push(serde_json::json!({ "path": path, "status": status, "headers": headers, "body": body }));
    answers
}

fn synthetic_org() -> Cassette {
    let mut interactions = Vec::new();
    interactions.extend(interaction(
        "/orgs/bench".into(),
        200,
        serde_json::json!({ "login": "bench", "two_factor_requirement_enabled": true, "default_repository_permission": "read",
                            "members_can_create_repositories": false, "public_repos": REPOS / 10,
                            "total_private_repos": REPOS - REPOS / 10 }),
        Some("W/\"org\"".into()),
        None,
    ));
    let pages = REPOS / PER_PAGE;
    for page in 1..=pages {
        let repos: Vec<serde_json::Value> = ((page - 1) * PER_PAGE..page * PER_PAGE)
            .map(|i| serde_json::json!({ "full_name": format!("bench/repo-{i:04}"), "default_branch": "main", "archived": false,
                                         "visibility": if is_public(i) { "public" } else { "private" }, "fork": false,
                                         "pushed_at": "2026-11-01T10:00:00Z" }))
            .collect();
        let path = if page == 1 {
            format!("/orgs/bench/repos?type=all&per_page={PER_PAGE}")
        } else {
            format!("/organizations/1/repos?type=all&per_page={PER_PAGE}&page={page}")
        };
        let link = (page < pages).then(|| {
            format!("<{{base}}/organizations/1/repos?type=all&per_page={PER_PAGE}&page={}>; rel=\"next\"", page + 1)
        });
        interactions.extend(interaction(
            path,
            200,
            serde_json::Value::Array(repos),
            Some(format!("W/\"page-{page}\"")),
            link,
        ));
    }
    for i in 0..REPOS {
        let path = format!("/repos/bench/repo-{i:04}/branches/main/protection");
        match i % 10 {
            0..=5 => interactions.extend(interaction(
                path,
                200,
                serde_json::json!({ "required_pull_request_reviews": { "required_approving_review_count": 1 },
                                    "enforce_admins": { "enabled": i % 2 == 0 }, "allow_force_pushes": { "enabled": false } }),
                Some(format!("W/\"p-{i}\"")),
                None,
            )),
            6..=8 => interactions.extend(interaction(path, 404, serde_json::json!({ "message": "Branch not protected" }), None, None)),
            _ => interactions.extend(interaction(path, 403, serde_json::json!({ "message": "Resource not accessible by integration" }), None, None)),
        }
    }
    for page in 1..=pages {
        let values: Vec<serde_json::Value> = ((page - 1) * PER_PAGE..page * PER_PAGE)
            .map(|i| serde_json::json!({ "repository_full_name": format!("bench/repo-{i:04}"),
                                         "properties": [{ "property_name": "owner", "value": format!("team-{}", i % 40) },
                                                        { "property_name": "tier", "value": format!("tier-{}", i % 3 + 1) }] }))
            .collect();
        let path = if page == 1 {
            format!("/orgs/bench/properties/values?per_page={PER_PAGE}")
        } else {
            format!("/organizations/1/properties/values?per_page={PER_PAGE}&page={page}")
        };
        let link = (page < pages).then(|| {
            format!("<{{base}}/organizations/1/properties/values?per_page={PER_PAGE}&page={}>; rel=\"next\"", page + 1)
        });
        interactions.extend(interaction(
            path,
            200,
            serde_json::Value::Array(values),
            Some(format!("W/\"values-{page}\"")),
            link,
        ));
    }
    interactions.extend(org_endpoints());
    for i in 0..REPOS {
        interactions.extend(repo_endpoints(&format!("bench/repo-{i:04}"), i));
    }
    Cassette::parse(&serde_json::json!({ "interactions": interactions }).to_string(), "synthetic")
        .expect("valid cassette")
}

/// A `200` with an ETag (and the `304` it earns on a conditional request).
fn ok(path: String, body: serde_json::Value) -> Vec<serde_json::Value> {
    let etag = format!("W/\"{:x}\"", path.len() * 7919 + path.bytes().map(usize::from).sum::<usize>());
    interaction(path, 200, body, Some(etag), None)
}

/// The organisation-wide endpoints, answered as an organisation owner would see them (GraphQL answers never carry an
/// ETag, so the identity query is asked afresh each run).
fn org_endpoints() -> Vec<serde_json::Value> {
    let people = |n: usize| {
        serde_json::json!((0..n)
            .map(|i| serde_json::json!({"login": format!("user-{i}"), "type": "User"}))
            .collect::<Vec<_>>())
    };
    let mut all = Vec::new();
    for (path, body) in [
        ("/orgs/bench/members?role=all&per_page=100", people(80)),
        ("/orgs/bench/members?role=admin&per_page=100", people(3)),
        ("/orgs/bench/members?filter=2fa_disabled&per_page=100", people(0)),
        ("/orgs/bench/outside_collaborators?filter=all&per_page=100", people(5)),
        ("/orgs/bench/outside_collaborators?filter=2fa_disabled&per_page=100", people(0)),
        (
            "/orgs/bench/actions/permissions",
            serde_json::json!({"enabled_repositories": "all", "allowed_actions": "selected"}),
        ),
        (
            "/orgs/bench/actions/permissions/workflow",
            serde_json::json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false}),
        ),
        (
            "/orgs/bench/actions/permissions/artifact-and-log-retention",
            serde_json::json!({"days": 90, "maximum_allowed_days": 400}),
        ),
        (
            "/orgs/bench/rulesets?per_page=100",
            serde_json::json!([{"id": 1, "name": "default", "enforcement": "active"}]),
        ),
        (
            "/orgs/bench/rulesets/1",
            serde_json::json!({"id": 1, "name": "default", "enforcement": "active", "bypass_actors": [],
            "rules": [{"type": "pull_request", "parameters": {"required_approving_review_count": 1}}]}),
        ),
        ("/orgs/bench/hooks?per_page=100", serde_json::json!([])),
        ("/orgs/bench/teams?per_page=100", serde_json::json!([])),
        (
            "/orgs/bench/actions/permissions/fork-pr-contributor-approval",
            serde_json::json!({"approval_policy": "all_external_contributors"}),
        ),
        ("/orgs/bench/audit-log?include=all&order=asc&per_page=100&phrase=*", serde_json::json!([])),
        ("/orgs/bench/installations?per_page=100", serde_json::json!({"total_count": 0, "installations": []})),
        ("/orgs/bench/actions/secrets?per_page=100", serde_json::json!({"total_count": 0, "secrets": []})),
        ("/orgs/bench/actions/runners?per_page=100", serde_json::json!({"total_count": 0, "runners": []})),
        ("/orgs/bench/dependabot/alerts?per_page=100", serde_json::json!([])),
        ("/orgs/bench/code-scanning/alerts?per_page=100", serde_json::json!([])),
        ("/orgs/bench/secret-scanning/alerts?hide_secret=true&per_page=100", serde_json::json!([])),
        ("/orgs/bench/packages?package_type=container&per_page=100", serde_json::json!([])),
        ("/orgs/bench/packages?package_type=npm&per_page=100", serde_json::json!([])),
        ("/orgs/bench/packages?package_type=maven&per_page=100", serde_json::json!([])),
        ("/orgs/bench/packages?package_type=rubygems&per_page=100", serde_json::json!([])),
        ("/orgs/bench/packages?package_type=nuget&per_page=100", serde_json::json!([])),
    ] {
        all.extend(ok(path.to_string(), body));
    }
    all.push(serde_json::json!({ "method": "POST", "path": "/graphql", "status": 200, "body": {"data": {"organization": {
        "samlIdentityProvider": null, "ipAllowListEnabledSetting": "DISABLED", "ipAllowListForInstalledAppsEnabledSetting": "DISABLED",
        "ipAllowListEntries": {"totalCount": 0, "nodes": []}}}} }));
    all
}

/// Every per-repository endpoint for one repository: a Rust crate with its lock file and one workflow file, no keys, hooks or rulesets of its own; every
/// tenth repository ran its workflow in the window, so its artifact and log retention is read too, and every tenth is
/// public, so its private vulnerability reporting is read.
fn repo_endpoints(repo: &str, i: usize) -> Vec<serde_json::Value> {
    let runs: Vec<serde_json::Value> = i
        .is_multiple_of(10)
        .then(|| {
            serde_json::json!({"id": i, "run_attempt": 1, "name": "ci", "event": "push", "status": "completed",
                                    "conclusion": "success", "created_at": "2026-11-20T10:00:00Z"})
        })
        .into_iter()
        .collect();
    let workflow = "name: ci\non: [push]\npermissions: read-all\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n";
    let content = base64_encode(workflow.as_bytes());
    let mut all = Vec::new();
    for (path, body) in [
        (
            format!("/repos/{repo}/rules/branches/main?per_page=100"),
            serde_json::json!([
            {"type": "pull_request", "parameters": {"required_approving_review_count": 1}, "ruleset_source_type": "Organization", "ruleset_source": "bench", "ruleset_id": 1}]),
        ),
        (format!("/repos/{repo}/rulesets?includes_parents=false&per_page=100"), serde_json::json!([])),
        (
            format!("/repos/{repo}/collaborators?affiliation=all&per_page=100"),
            serde_json::json!([{"login": "user-1", "role_name": "admin", "permissions": {"admin": true}}]),
        ),
        (format!("/repos/{repo}/keys?per_page=100"), serde_json::json!([])),
        (format!("/repos/{repo}/hooks?per_page=100"), serde_json::json!([])),
        (
            format!("/repos/{repo}/actions/permissions"),
            serde_json::json!({"enabled": true, "allowed_actions": "selected"}),
        ),
        (
            format!("/repos/{repo}/actions/permissions/workflow"),
            serde_json::json!({"default_workflow_permissions": "read", "can_approve_pull_request_reviews": false}),
        ),
        (format!("/repos/{repo}/environments?per_page=100"), serde_json::json!({"total_count": 0, "environments": []})),
        (
            format!("/repos/{repo}/actions/workflows?per_page=100"),
            serde_json::json!({"total_count": 1, "workflows": [{"id": i, "name": "ci", "path": ".github/workflows/ci.yml", "state": "active"}]}),
        ),
        (
            format!("/repos/{repo}/contents/.github/workflows/ci.yml?ref=main"),
            serde_json::json!({"encoding": "base64", "content": content, "path": ".github/workflows/ci.yml"}),
        ),
        (
            format!("/repos/{repo}/git/trees/main?recursive=1"),
            serde_json::json!({"truncated": false, "tree": [
                {"path": "README.md", "type": "blob"}, {"path": ".github/workflows/ci.yml", "type": "blob"},
                {"path": "Cargo.toml", "type": "blob"}, {"path": "Cargo.lock", "type": "blob"}]}),
        ),
        (format!("/repos/{repo}/codeowners/errors"), serde_json::json!({"errors": []})),
        (
            format!("/repos/{repo}/actions/permissions/fork-pr-contributor-approval"),
            serde_json::json!({"approval_policy": "all_external_contributors"}),
        ),
        (format!("/repos/{repo}/code-scanning/analyses?ref=refs/heads/main&per_page=100"), serde_json::json!([])),
        (
            format!("/repos/{repo}/pulls?state=closed&base=main&sort=updated&direction=desc&per_page=100"),
            serde_json::json!([]),
        ),
        (
            format!("/repos/{repo}/actions/runs?per_page=100&created=*"),
            serde_json::json!({"total_count": runs.len(), "workflow_runs": runs}),
        ),
        (
            format!("/repos/{repo}/actions/permissions/artifact-and-log-retention"),
            serde_json::json!({"days": 90, "maximum_allowed_days": 90}),
        ),
        (format!("/repos/{repo}/deployments?per_page=100"), serde_json::json!([])),
        (format!("/repos/{repo}/releases?per_page=100"), serde_json::json!([])),
    ] {
        all.extend(ok(path, body));
    }
    if is_public(i) {
        let path = format!("/repos/{repo}/private-vulnerability-reporting");
        all.extend(ok(path, serde_json::json!({"enabled": i % 20 == 3})));
    }
    all
}

/// Every tenth repository is public, so private vulnerability reporting is read for it.
fn is_public(i: usize) -> bool {
    i % 10 == 3
}

/// Standard base64 (the bench keeps to the crate's own dependencies).
fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Collects the synthetic organisation twice and prints requests, 304s and times.
pub fn run() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(ReplayServer::start(synthetic_org()))?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.duckdb"))?;
    let config = GithubConfig { per_page: PER_PAGE as u32, ..GithubConfig::for_org("bench", &server.base_url()) };
    println!("synthetic organisation: {REPOS} repositories (60 % protected, 30 % unprotected, 10 % not visible); concurrency {}", config.concurrency);

    let started = Instant::now();
    let first =
        pipeproof::collect::github::collect(&store, &config, Token::new("ghs_bench".into()), &TrustPolicy::default())?;
    let first_time = started.elapsed();
    let first_requests = server.received().len();
    let operating = |path: &str| {
        path.contains("/pulls")
            || path.contains("/actions/runs")
            || path.contains("/deployments")
            || path.contains("/releases")
            || path.contains("/attestations/")
            || path.contains("/audit-log")
            || (path.starts_with("/repos/") && path.ends_with("/artifact-and-log-retention"))
    };
    let state_requests = server.received().iter().filter(|r| !operating(&r.path)).count();
    println!(
        "first run:  {first_requests} requests, {:.2} per repository for state evidence (organisation-wide ones included) \
         and {:.2} for operating evidence; {:.2} s; {} repositories, {} facts stored",
        state_requests as f64 / REPOS as f64,
        (first_requests - state_requests) as f64 / REPOS as f64,
        first_time.as_secs_f64(),
        first.repositories,
        first.facts
    );

    let started = Instant::now();
    let second =
        pipeproof::collect::github::collect(&store, &config, Token::new("ghs_bench".into()), &TrustPolicy::default())?;
    let second_time = started.elapsed();
    let second_requests = server.received().len() - first_requests;
    println!(
        "second run: {second_requests} requests, {} answered 304 ({:.1} %: every answer that carried an ETag; GitHub sends none with a 404 or 403), {:.2} s",
        second.not_modified,
        second.not_modified as f64 * 100.0 / second_requests as f64,
        second_time.as_secs_f64()
    );
    println!("peak requests in flight: {}", server.most_in_flight());
    Ok(())
}
