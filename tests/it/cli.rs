//! Command-line behaviour: help, exit codes, clear errors.

use crate::common;

use common::pipeproof;

#[test]
fn help_lists_every_command() {
    let output = pipeproof().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    for command in ["collect", "ingest", "evaluate", "report", "demo", "controls"] {
        assert!(text.contains(command), "help lacks {command}");
    }
    assert!(text.contains("Exit codes"));
}

#[test]
fn usage_errors_exit_2() {
    pipeproof().arg("no-such-command").assert().code(2);
    pipeproof().args(["ingest"]).assert().code(2);
}

#[test]
fn reporting_without_a_store_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let output = pipeproof().arg("--store").arg(dir.path().join("none.duckdb")).arg("report").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
}

#[test]
fn collect_without_a_token_names_the_variable() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(&config, "github:\n  org: acme\n  token_env: PIPEPROOF_TEST_TOKEN\n").unwrap();
    let output = pipeproof()
        .env_remove("PIPEPROOF_TEST_TOKEN")
        .arg("--store")
        .arg(dir.path().join("s.duckdb"))
        .arg("--config")
        .arg(&config)
        .arg("collect")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("PIPEPROOF_TEST_TOKEN"));
}

#[test]
fn a_bad_config_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(&config, "githubb: {}\n").unwrap();
    let output = pipeproof().arg("--config").arg(&config).arg("collect").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("pipeproof.yaml"));

    // An API URL that is not http(s) is refused at load, before any request or retry.
    std::fs::write(&config, "github:\n  org: acme\n  api_url: file:///etc/passwd\n").unwrap();
    let output = pipeproof().env("GITHUB_TOKEN", "x").arg("--config").arg(&config).arg("collect").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pipeproof.yaml") && stderr.contains("is not http or https"), "{stderr}");
}

#[test]
fn controls_list_shows_the_catalogue() {
    let output = pipeproof().args(["controls", "list"]).output().unwrap();
    assert!(output.status.success());
    let text = String::from_utf8_lossy(&output.stdout);
    for id in ["SRC-01", "SRC-05", "SRC-06", "SRC-10", "SRC-11", "TST-03"] {
        assert!(text.contains(id), "{id} missing from {text}");
    }
    assert!(text.contains("soc2") && text.contains("iso27001_2022"));
}

#[test]
fn evaluate_fail_on_gates_with_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    pipeproof().arg("--store").arg(&store).args(["evaluate", "--fail-on", "fail"]).assert().code(1);
    pipeproof().arg("--store").arg(&store).args(["evaluate", "--as-of", "2001-01-01"]).assert().code(0);
}

#[test]
fn a_period_sets_the_as_of_moment_and_shows_on_the_report() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let before = pipeproof().arg("--store").arg(&store).args(["evaluate", "--period", "2026-Q2"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&before.stdout);
    assert!(before.status.success(), "{stdout}");
    assert!(
        stdout.contains("for 2026-Q2 (2026-04-01 to 2026-06-30, UTC), evidence as of 2026-06-30 23:59:59 UTC"),
        "{stdout}"
    );
    assert!(stdout.contains("no evidence"), "the demo evidence was collected later: {stdout}");

    let report = common::report_json(&store, None, &dir.path().join("q2"));
    assert_eq!(report["period"], "2026-Q2 (2026-04-01 to 2026-06-30, UTC)");
    assert_eq!(report["organisation"], "Unnamed organisation", "no organisation's evidence existed as of Q2");
    assert_eq!(common::control_status(&report, "SRC-05"), "unknown");

    pipeproof().arg("--store").arg(&store).args(["evaluate", "--period", "2026-Q5"]).assert().code(2);
}

#[test]
fn stale_evidence_makes_verdicts_unknown_until_the_limit_is_raised() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let later = (chrono::Utc::now() + chrono::Duration::days(10)).format("%Y-%m-%d").to_string();
    let report_for = |config: &std::path::Path, name: &str| {
        pipeproof()
            .arg("--store")
            .arg(&store)
            .arg("--config")
            .arg(config)
            .args(["evaluate", "--as-of", &later])
            .assert()
            .success();
        common::report_json(&store, Some(config), &dir.path().join(name))
    };
    let defaults = dir.path().join("defaults.yaml");
    std::fs::write(&defaults, "organisation: Acme\n").unwrap();
    let report = report_for(&defaults, "stale");
    assert_eq!(common::verdict(&report, "SRC-05", "acme-demo/payments-api"), "unknown");
    let reason = report["unobserved"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["control"] == "SRC-05" && u["resource"] == "acme-demo/payments-api")
        .unwrap()["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.starts_with("stale since") && reason.contains("it showed: Pass"), "{reason}");
    assert_eq!(common::verdict(&report, "TST-03", "acme-demo/web-app"), "fail", "SARIF is trusted for 30 days");

    let relaxed = dir.path().join("relaxed.yaml");
    std::fs::write(
        &relaxed,
        "organisation: Acme\nmax_evidence_age_days:\n  github.branch_protection: 30\n  github.repos: 30\n",
    )
    .unwrap();
    let report = report_for(&relaxed, "fresh");
    assert_eq!(common::verdict(&report, "SRC-05", "acme-demo/payments-api"), "pass");
}

#[test]
fn without_a_config_the_report_names_the_organisations_the_evaluation_judged() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let report = common::report_json(&store, None, &dir.path().join("plain"));
    assert_eq!(report["organisation"], "acme-demo, gitlab:acme-demo", "the GitHub organisation and the GitLab group");
}
