//! Benchmark: collect a synthetic GitLab group of 1,000 projects (GitLab Premium) from the local replay server,
//! twice, at concurrency 8, state evidence and a 90-day window of merge requests and deployments. Prints requests per project, the share answered 304 or skipped on the unchanged second
//! run, and wall time. Run with `./x bench gitlab`.

use std::time::Instant;

use base64::Engine;

use pipeproof::collect::gitlab::GitlabConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::store::Store;

const PROJECTS: usize = 1_000;
const PER_PAGE: usize = 100;
const GROUP_ID: usize = 77;
/// What a project with a default branch is asked for its state on Premium: protected branches, approvals, approval
/// rules, push rule, deploy keys, webhooks, CI/CD variables, the CI configuration and its expansion, CODEOWNERS (found
/// at the root), the newest push, environments, protected environments, the default branch's newest pipelines and
/// the newest one's jobs.
const STATE_PER_PROJECT: usize = 15;

/// A `200` carrying a weak ETag as GitLab's Rack stack computes one, and the `304` it earns on a conditional
/// request (GitLab does not document 304s for its REST API; Rack's conditional GET gives them).
fn ok(
    path: String,
    body: serde_json::Value,
    mut headers: serde_json::Map<String, serde_json::Value>,
) -> [serde_json::Value; 2] {
    let etag = format!("W/\"{:x}\"", path.len() * 7919 + path.bytes().map(usize::from).sum::<usize>());
    headers.insert("etag".into(), etag.clone().into());
    [
        serde_json::json!({ "path": path, "status": 304, "if_none_match": etag, "headers": { "etag": etag } }),
        serde_json::json!({ "path": path, "status": 200, "headers": headers, "body": body }),
    ]
}

fn project(i: usize) -> serde_json::Value {
    let team = i % 20;
    serde_json::json!({
        "id": 10_000 + i, "path_with_namespace": format!("bench/team-{team:02}/project-{i:04}"),
        "default_branch": if i % 20 == 19 { serde_json::Value::Null } else { "main".into() },
        "empty_repo": i % 20 == 19, "archived": i % 20 == 18, "visibility": "private",
        "only_allow_merge_if_pipeline_succeeds": i.is_multiple_of(2), "allow_merge_on_skipped_pipeline": false,
        "only_allow_merge_if_all_discussions_are_resolved": true, "merge_method": if i.is_multiple_of(3) { "ff" } else { "merge" },
        "runners_token": "GR1348941benchsecret",
    })
}

fn synthetic_group() -> Cassette {
    let none = serde_json::Map::new;
    let mut interactions = Vec::new();
    interactions.extend(ok(
        "/groups/bench?with_projects=false".into(),
        serde_json::json!({ "id": GROUP_ID, "full_path": "bench", "require_two_factor_authentication": true }),
        none(),
    ));
    interactions.extend(ok(
        "/metadata".into(),
        serde_json::json!({ "version": "17.6.1-ee", "enterprise": true }),
        none(),
    ));
    interactions.extend(ok(
        "/namespaces/bench".into(),
        serde_json::json!({ "id": GROUP_ID, "plan": "premium" }),
        none(),
    ));
    interactions.extend(ok(format!("/groups/{GROUP_ID}/hooks?per_page={PER_PAGE}"), serde_json::json!([]), none()));
    // Who the token's user is (an Owner of the group: it may read the group's audit events whole).
    interactions.extend(ok("/user".into(), serde_json::json!({ "id": 1, "username": "bench-bot" }), none()));
    interactions.extend(ok(
        format!("/groups/{GROUP_ID}/members/all/1"),
        serde_json::json!({ "id": 1, "username": "bench-bot", "access_level": 50 }),
        none(),
    ));
    interactions.push(serde_json::json!({
        "path": format!("/groups/{GROUP_ID}/audit_events?created_after=*"), "status": 200, "body": []
    }));
    interactions.extend(ok(
        format!("/groups/{GROUP_ID}/variables?per_page={PER_PAGE}"),
        serde_json::json!([{ "key": "NPM_TOKEN", "value": "bench-secret", "protected": true, "masked": true,
                             "environment_scope": "*" }]),
        none(),
    ));
    interactions.extend(ok(
        format!("/groups/{GROUP_ID}/protected_environments?per_page={PER_PAGE}"),
        serde_json::json!([{ "name": "production", "deploy_access_levels": [{ "access_level": 40 }],
                             "required_approval_count": 1 }]),
        none(),
    ));
    let members: Vec<serde_json::Value> = (0..80)
        .map(|i| serde_json::json!({ "id": i, "username": format!("user-{i}"), "access_level": if i < 3 { 50 } else { 30 } }))
        .collect();
    interactions.extend(ok(format!("/groups/{GROUP_ID}/members/all?per_page={PER_PAGE}"), members.into(), none()));
    let billable: Vec<serde_json::Value> = (0..80)
        .map(|i| serde_json::json!({ "id": i, "username": format!("user-{i}"), "last_activity_on": "2026-11-30" }))
        .collect();
    interactions.extend(ok(
        format!("/groups/{GROUP_ID}/billable_members?per_page={PER_PAGE}"),
        billable.into(),
        none(),
    ));
    let pages = PROJECTS / PER_PAGE;
    let listing = format!("/groups/{GROUP_ID}/projects?include_subgroups=true&with_shared=false&order_by=id&sort=asc");
    for page in 1..=pages {
        let projects: Vec<serde_json::Value> = ((page - 1) * PER_PAGE..page * PER_PAGE).map(project).collect();
        let path = if page == 1 {
            format!("{listing}&per_page={PER_PAGE}")
        } else {
            format!("{listing}&per_page={PER_PAGE}&page={page}")
        };
        let mut headers = none();
        if page < pages {
            headers.insert(
                "link".into(),
                format!("<{{base}}{listing}&per_page={PER_PAGE}&page={}>; rel=\"next\"", page + 1).into(),
            );
        }
        interactions.extend(ok(path, serde_json::Value::Array(projects), headers));
    }
    for i in 0..PROJECTS {
        let id = 10_000 + i;
        let protected = match i % 10 {
            0..=5 => serde_json::json!([{ "id": id, "name": "main", "push_access_levels": [{ "access_level": 0 }],
                                          "merge_access_levels": [{ "access_level": 40 }], "allow_force_push": false }]),
            6..=8 => {
                serde_json::json!([{ "id": id, "name": "release/*", "push_access_levels": [{ "access_level": 40 }],
                                          "merge_access_levels": [{ "access_level": 40 }], "allow_force_push": false }])
            }
            _ => serde_json::json!([]),
        };
        interactions.extend(ok(format!("/projects/{id}/protected_branches?per_page={PER_PAGE}"), protected, none()));
        interactions.extend(ok(
            format!("/projects/{id}/approvals"),
            serde_json::json!({ "reset_approvals_on_push": true, "merge_requests_author_approval": i.is_multiple_of(7),
                                "merge_requests_disable_committers_approval": true,
                                "disable_overriding_approvers_per_merge_request": true }),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/approval_rules?per_page={PER_PAGE}"),
            serde_json::json!([{ "id": id, "name": "Any", "rule_type": "any_approver", "approvals_required": 1 + i % 2,
                                 "applies_to_all_protected_branches": true, "protected_branches": [] }]),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/deploy_keys?per_page={PER_PAGE}"),
            serde_json::json!([{ "id": id, "title": "ci", "can_push": i % 25 == 0, "created_at": "2026-01-05T10:00:00Z" }]),
            none(),
        ));
        interactions.extend(ok(format!("/projects/{id}/hooks?per_page={PER_PAGE}"), serde_json::json!([]), none()));
        // No merges and no deployments in the window: one listing of each per project.
        interactions.push(serde_json::json!({
            "path": format!("/projects/{id}/merge_requests?state=merged&target_branch=main&updated_after=*"),
            "status": 200, "body": []
        }));
        interactions.push(serde_json::json!({
            "path": format!("/projects/{id}/deployments?updated_after=*"), "status": 200, "body": []
        }));
        interactions.push(serde_json::json!({
            "path": format!("/projects/{id}/audit_events?created_after=*"), "status": 200, "body": []
        }));
        interactions.extend(ok(
            format!("/projects/{id}/environments?per_page={PER_PAGE}"),
            serde_json::json!([{ "id": id, "name": "production", "tier": "production", "state": "available" }]),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/protected_environments?per_page={PER_PAGE}"),
            serde_json::json!([]),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/variables?per_page={PER_PAGE}"),
            serde_json::json!([{ "key": "DEPLOY_TOKEN", "value": "bench-secret", "protected": i % 3 != 0,
                                 "masked": true, "environment_scope": "production" }]),
            none(),
        ));
        let ci = "include:\n  - template: Jobs/SAST.gitlab-ci.yml\nbuild:\n  image: golang:1.23\n  script: make\n";
        interactions.extend(ok(
            format!("/projects/{id}/repository/files/.gitlab-ci.yml?ref=main"),
            serde_json::json!({ "file_path": ".gitlab-ci.yml", "encoding": "base64",
                                "content": base64::engine::general_purpose::STANDARD.encode(ci) }),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/events?action=pushed&sort=desc&per_page=1"),
            serde_json::json!([{ "id": id, "action_name": "pushed to", "created_at": "2026-11-30T10:00:00Z" }]),
            none(),
        ));
        let owners = "* @bench/maintainers\n[Pipeline] @bench/release\n.gitlab-ci.yml\n";
        interactions.extend(ok(
            format!("/projects/{id}/repository/files/CODEOWNERS?ref=main"),
            serde_json::json!({ "file_path": "CODEOWNERS", "encoding": "base64",
                                "content": base64::engine::general_purpose::STANDARD.encode(owners) }),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/ci/lint?content_ref=main&dry_run=false"),
            serde_json::json!({ "valid": true, "errors": [], "warnings": [],
                                "merged_yaml": "---\n:build:\n  :image: golang:1.23\n  :script: make\n\
                                                :semgrep-sast:\n  :script: /analyzer run\n  :artifacts:\n    \
                                                :reports:\n      :sast: gl-sast-report.json\n",
                                "includes": [{ "type": "template", "location": "Jobs/SAST.gitlab-ci.yml", "extra": {} }] }),
            none(),
        ));
        // The default branch's newest finished pipeline ran SAST: its listing and its jobs.
        interactions.extend(ok(
            format!("/projects/{id}/pipelines?ref=main&scope=finished&order_by=id&sort=desc&per_page=5"),
            serde_json::json!([{ "id": id * 10, "ref": "main", "status": "success", "source": "push" }]),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/pipelines/{}/jobs?per_page={PER_PAGE}", id * 10),
            serde_json::json!([{ "id": id * 100, "name": "semgrep-sast", "status": "success", "ref": "main",
                                 "finished_at": "2026-11-30T10:05:00Z",
                                 "artifacts": [{ "file_type": "sast", "size": 2048, "filename": "gl-sast-report.json" }] }]),
            none(),
        ));
        interactions.extend(ok(
            format!("/projects/{id}/push_rule"),
            serde_json::json!({ "id": id, "reject_unsigned_commits": i.is_multiple_of(4) }),
            none(),
        ));
    }
    Cassette::parse(&serde_json::json!({ "interactions": interactions }).to_string(), "synthetic GitLab group")
        .expect("valid cassette")
}

pub fn run() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(ReplayServer::start(synthetic_group()))?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.duckdb"))?;
    let config = GitlabConfig { per_page: PER_PAGE as u32, ..GitlabConfig::for_group("bench", &server.base_url()) };
    println!(
        "synthetic GitLab group: {PROJECTS} projects in 20 subgroups, Premium (60 % with main protected, 30 % only \
         release/*, 10 % none; 5 % archived, 5 % empty; no merges or deployments in the window); concurrency {}",
        config.concurrency
    );
    let token = || Token::new("glpat-bench".into());
    let started = Instant::now();
    let first = pipeproof::collect::gitlab::collect(&store, &config, token())?;
    let first_time = started.elapsed();
    let first_requests = server.received().len();
    let operating = server
        .received()
        .iter()
        .filter(|r| {
            ["/merge_requests?", "/deployments?", "/audit_events?"].iter().any(|listing| r.path.contains(listing))
        })
        .count();
    let asked = PROJECTS - PROJECTS / 10;
    println!(
        "first run:  {first_requests} requests, {:.2} per project for state evidence (group and listing included; \
         {asked} projects asked {STATE_PER_PROJECT} each, archived and empty ones none) and {:.2} for a 90-day \
         operating window without merges or deployments (a listing of each per project, and three 30-day windows of \
         audit events for the group and each project); {:.2} s; {} projects, {} branches judged whole",
        (first_requests - operating) as f64 / PROJECTS as f64,
        operating as f64 / PROJECTS as f64,
        first_time.as_secs_f64(),
        first.repositories,
        first.branches_visible
    );
    let started = Instant::now();
    let second = pipeproof::collect::gitlab::collect(&store, &config, token())?;
    let second_time = started.elapsed();
    let second_requests = server.received().len() - first_requests;
    let skipped = PROJECTS / 10 * (STATE_PER_PROJECT + 2);
    println!(
        "second run: {second_requests} requests, {} answered 304 ({:.1} %; GitLab documents no 304s and counts them \
         against the rate limit as any request), {skipped} requests skipped for archived and empty projects ({:.1} % \
         of {} per project); {:.2} s",
        second.not_modified,
        second.not_modified as f64 * 100.0 / second_requests as f64,
        skipped as f64 * 100.0 / (PROJECTS * (STATE_PER_PROJECT + 2)) as f64,
        STATE_PER_PROJECT + 2,
        second_time.as_secs_f64()
    );
    println!("peak requests in flight: {}", server.most_in_flight());
    Ok(())
}
