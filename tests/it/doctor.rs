//! `pipeproof doctor` against the replay server: what is visible, what is not and why, and the budget.

use crate::common;

use common::pipeproof;
use pipeproof::collect::replay::ReplayServer;

fn run_doctor(owner_token: bool) -> (Option<i32>, String) {
    let cassette = common::demo_cassette(|path, interaction| {
        if !owner_token && path == "/orgs/acme-demo" {
            interaction["body"].as_object_mut().unwrap().remove("two_factor_requirement_enabled");
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(
        &config,
        format!(
            "github:\n  org: acme-demo\n  api_url: {}\n  token_env: PIPEPROOF_DOCTOR_TOKEN\n  per_page: 4\n  \
             release_branches: [\"release/*\"]\n",
            server.base_url()
        ),
    )
    .unwrap();
    let output = pipeproof()
        .env("PIPEPROOF_DOCTOR_TOKEN", "ghp_doctorSECRET")
        .arg("--config")
        .arg(&config)
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    assert!(!text.contains("ghp_doctorSECRET"), "{text}");
    (output.status.code(), text)
}

#[test]
fn an_owner_token_sees_everything_and_the_budget_suffices() {
    let (code, text) = run_doctor(true);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("token: classic personal access token"), "{text}");
    assert!(text.contains("visible      two-factor requirement (SRC-01)"), "{text}");
    assert!(text.contains("readable on acme-demo/payments-api@main"), "{text}");
    assert!(text.contains("4997 of 5000 requests left") && text.contains("(enough)"), "{text}");
    assert!(text.contains("the organisation reports 6 repositories"), "{text}");
    for operating in ["github.pull_requests", "github.workflow_runs", "github.deployments", "github.releases"] {
        assert!(
            text.contains(&format!("visible      {operating:<40} readable (probed on acme-demo/payments-api)")),
            "{operating}: {text}"
        );
    }
    assert!(text.contains("visible      github.audit_log"), "{text}");
    assert!(
        text.contains(&format!(
            "visible      {:<40} readable (probed on acme-demo/web-app)",
            "github.vulnerability_reporting"
        )),
        "probed on the first public repository: {text}"
    );
    assert!(
        text.contains("readable (probed on acme-demo/payments-api); 2 branch(es) there match release/*"),
        "the release branches are listed as the collector lists them: {text}"
    );
}

#[test]
fn a_token_that_is_not_an_owner_is_told_what_would_fix_it() {
    let (code, text) = run_doctor(false);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("NOT VISIBLE  two-factor requirement (SRC-01)"), "{text}");
    assert!(text.contains("needs an organisation owner's token"), "{text}");
}

/// `doctor` on the demo GitLab group, with `edit` applied to its recording.
fn run_gitlab_doctor(edit: impl Fn(&str, &mut serde_json::Value)) -> (Option<i32>, String) {
    let path = common::demo_fixtures().join("gitlab/cassette.json");
    let mut value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for interaction in value["interactions"].as_array_mut().unwrap() {
        let path = interaction["path"].as_str().unwrap().to_string();
        edit(&path, interaction);
    }
    let cassette = pipeproof::collect::replay::Cassette::parse(&value.to_string(), "GitLab demo").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeproof.yaml");
    let yaml = format!(
        "gitlab:\n  group: acme-demo\n  api_url: {}\n  token_env: PIPEPROOF_DOCTOR_TOKEN\n  per_page: 2\n",
        server.base_url()
    );
    std::fs::write(&config, yaml).unwrap();
    let output = pipeproof()
        .env("PIPEPROOF_DOCTOR_TOKEN", "glpat-doctorSECRET")
        .arg("--config")
        .arg(&config)
        .arg("doctor")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).to_string() + &String::from_utf8_lossy(&output.stderr);
    assert!(!text.contains("glpat-doctorSECRET"), "{text}");
    (output.status.code(), text)
}

#[test]
fn a_gitlab_group_owner_token_sees_the_protection_and_the_budget_is_counted() {
    let (code, text) = run_gitlab_doctor(|_, _| {});
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("GitLab group acme-demo (GitLab premium)"), "{text}");
    assert!(
        text.contains(
            "token: GitLab personal, project or group access token \"pipeproof collector\" (scopes: read_api"
        ),
        "{text}"
    );
    assert!(text.contains("role in the group                        Owner"), "{text}");
    let kinds = ["gitlab.merge_requests", "gitlab.protected_branches", "gitlab.approvals", "gitlab.approval_rules"];
    let delivery =
        ["gitlab.variables", "gitlab.ci_config", "gitlab.ci_lint", "gitlab.environments", "gitlab.codeowners"];
    let more = ["gitlab.protected_environments", "gitlab.deployments", "gitlab.push_events", "gitlab.branch_pipelines"];
    for kind in kinds
        .into_iter()
        .chain(["gitlab.push_rule", "gitlab.deploy_keys", "gitlab.webhooks"])
        .chain(delivery)
        .chain(more)
    {
        let line = format!("visible      {kind:<40} readable (probed on acme-demo/platform/api-gateway)");
        assert!(text.contains(&line), "{kind}: {text}");
    }
    for kind in ["gitlab.group_variables", "gitlab.group_protected_environments", "gitlab.member_activity"] {
        let line = format!("visible      {kind:<40} readable (probed on acme-demo)");
        assert!(text.contains(&line), "{kind}: {text}");
    }
    assert!(text.contains("5 in scope, 4 unarchived with a default branch"), "{text}");
    assert!(
        text.contains("a full run needs about 104 ("),
        "six group requests (members and billable members counted as one page each), the group's CI/CD variables and protected \
         environments, three listing pages, seventeen per project (CODEOWNERS counted at its three places; the \
         default branch's pipelines and the newest one's jobs) and its merge-request and deployment listings; \
         the token's user and role, then three 30-day windows of audit events for the group and each project: {text}"
    );
}

#[test]
fn a_gitlab_reporter_token_is_told_the_role_it_needs() {
    let (code, text) = run_gitlab_doctor(|path, interaction| {
        if path == "/groups/4242/members/all/9001" {
            interaction["body"]["access_level"] = 20.into();
        }
        if path == "/projects/501/protected_branches?per_page=2" {
            *interaction = serde_json::json!({"path": path, "status": 403, "body": {"message": "403 Forbidden"}});
        }
    });
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains(
            "NOT VISIBLE  role in the group                        Reporter: protection and settings need Maintainer"
        ),
        "{text}"
    );
    assert!(text.contains("NOT VISIBLE  gitlab.protected_branches"), "{text}");
    assert!(text.contains("needs the Maintainer role"), "{text}");
}
