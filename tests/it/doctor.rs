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
