//! The control author's tools: `controls test|validate|show` and `schema`.

use crate::common;

use common::pipeproof;

const USER_CONTROL: &str = r#"id: ACME-01
title: Default branch is main
domain: source
kind: state
severity: low
statement: Default branches are called main.
rationale: Consistency.
remediation: Rename the branch.
requires: [repositories]
query: |
  SELECT repo AS resource, CASE WHEN default_branch = 'main' THEN 'pass' ELSE 'fail' END AS status,
         default_branch AS reason, evidence_id
  FROM repositories
mappings:
  soc2: [CC8.1]
"#;

const FACTS: &str = r#"    facts:
      repositories:
        - { org: o, repo: o/a, default_branch: master }
        - { org: o, repo: o/b, default_branch: main }
"#;

fn user_dir(test_file: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ACME-01.yaml"), USER_CONTROL).unwrap();
    if let Some(text) = test_file {
        std::fs::write(dir.path().join("ACME-01.test.yaml"), text).unwrap();
    }
    dir
}

#[test]
fn every_shipped_control_passes_its_test_cases() {
    let output = pipeproof().args(["controls", "test"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");
}

#[test]
fn a_wrong_expectation_fails_with_what_differed() {
    let test = format!(
        "control: ACME-01\ncases:\n  - name: wrong on purpose\n{FACTS}    expect:\n      - {{ resource: o/a, status: pass }}\n      - {{ resource: o/b, status: pass }}\n"
    );
    let dir = user_dir(Some(&test));
    let output = pipeproof().args(["controls", "test"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  ACME-01 wrong on purpose"), "{stdout}");
    assert!(stdout.contains("o/a: expected pass, got fail (master)"), "{stdout}");
    assert!(stdout.contains("no case expects fail"), "{stdout}");
    assert!(!stdout.contains("SRC-06"), "only the folder's controls are tested: {stdout}");
}

#[test]
fn a_user_control_with_a_correct_test_passes() {
    let test = format!(
        "control: ACME-01\ncases:\n  - name: main and master\n{FACTS}    expect:\n      - {{ resource: o/a, status: fail }}\n      - {{ resource: o/b, status: pass }}\n"
    );
    let dir = user_dir(Some(&test));
    let output = pipeproof().args(["controls", "test"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("1 passed, 0 failed"), "{stdout}");
}

#[test]
fn a_control_without_tests_fails_the_test_run_and_warns_on_validate() {
    let dir = user_dir(None);
    let output = pipeproof().args(["controls", "test"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stdout).contains("no test file"));
    let output = pipeproof().args(["controls", "validate"]).arg(dir.path()).output().unwrap();
    assert!(output.status.success());
    assert!(String::from_utf8_lossy(&output.stdout).contains("warning: no test cases for ACME-01"));
}

#[test]
fn validate_names_the_bad_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("BAD-01.yaml"), USER_CONTROL.replace("severity: low", "severity: catastrophic"))
        .unwrap();
    let output = pipeproof().args(["controls", "validate"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("BAD-01.yaml") && stderr.contains("catastrophic"), "{stderr}");

    std::fs::write(dir.path().join("BAD-01.yaml"), USER_CONTROL.replace("[repositories]", "[pull_requests]")).unwrap();
    let output = pipeproof().args(["controls", "validate"]).arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("\"pull_requests\", which is not a fact table"));
}

#[test]
fn validate_accepts_the_builtin_catalogue() {
    let output = pipeproof().args(["controls", "validate"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("valid: "), "{stdout}");
    assert!(!stdout.contains("warning"), "every shipped control has tests: {stdout}");
}

#[test]
fn show_prints_the_whole_control() {
    let output = pipeproof().args(["controls", "show", "SRC-06"]).output().unwrap();
    assert!(output.status.success());
    let stdout = String::from_utf8_lossy(&output.stdout);
    for expected in [
        "Peer review required before merge",
        "min_approvals = 1",
        "CC8.1",
        "getvariable('min_approvals')",
        "SRC-06.test.yaml",
    ] {
        assert!(stdout.contains(expected), "{expected:?} missing from {stdout}");
    }
    pipeproof().args(["controls", "show", "NOPE-99"]).assert().code(2);
}

#[test]
fn schemas_are_printed_as_json() {
    for kind in ["control", "control-test", "framework", "crosswalk", "config", "report"] {
        let output = pipeproof().args(["schema", kind]).output().unwrap();
        assert!(output.status.success(), "{kind}");
        let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(schema["properties"].is_object(), "{kind}: {schema}");
    }
    for kind in ["waivers", "attestations"] {
        let output = pipeproof().args(["schema", kind]).output().unwrap();
        let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        assert_eq!(schema["type"], "array", "{kind}: {schema}");
    }
    let output = pipeproof().args(["schema", "control"]).output().unwrap();
    let schema: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(schema["properties"]["query"].is_object());
    assert!(!schema["required"].as_array().unwrap().iter().any(|r| r == "mappings"), "mappings are optional");
}

#[test]
fn the_worked_example_in_the_authoring_guide_passes() {
    let guide = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/controls.md")).unwrap();
    let blocks: Vec<&str> = guide.split("```yaml\n").skip(1).map(|rest| rest.split("```").next().unwrap()).collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ACME-01.yaml"), blocks[0]).unwrap();
    std::fs::write(dir.path().join("ACME-01.test.yaml"), blocks[1]).unwrap();
    let output = pipeproof().args(["controls", "test"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    assert!(stdout.contains("2 passed, 0 failed"), "{stdout}");
}

#[test]
fn every_shipped_control_fails_closed() {
    // Every fact a passing test case gives, taken away in turn, must end the pass, unless the control says why.
    let catalogue = pipeproof::controls::Catalogue::load(&[] as &[&std::path::Path]).unwrap();
    let results = pipeproof::evaluate::run_control_tests(&catalogue, None, true).unwrap();
    let checked = results.iter().filter(|result| result.case.starts_with("(fail-closed")).count();
    assert!(checked >= 55, "the fail-closed check ran for {checked} controls");
    let failures: Vec<String> = results
        .iter()
        .filter(|result| !result.passed())
        .map(|result| format!("{} {}: {}", result.control_id, result.case, result.failures.join("; ")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_fail_closed_check_catches_a_pass_that_outlives_its_evidence() {
    // Passes unless the default branch is named `master`: a repository whose default branch is not known passes.
    let lenient = USER_CONTROL.replace(
        "CASE WHEN default_branch = 'main' THEN 'pass' ELSE 'fail' END",
        "CASE WHEN default_branch = 'master' THEN 'fail' ELSE 'pass' END",
    );
    let test = format!(
        "control: ACME-01\ncases:\n  - name: main and master\n{FACTS}    expect:\n      - {{ resource: o/a, status: fail }}\n      - {{ resource: o/b, status: pass }}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ACME-01.yaml"), &lenient).unwrap();
    std::fs::write(dir.path().join("ACME-01.test.yaml"), &test).unwrap();
    let output = pipeproof().args(["controls", "test", "--fail-closed"]).arg(dir.path()).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL  ACME-01 (fail-closed"), "{stdout}");
    assert!(stdout.contains("repositories.default_branch NULL in row 2 still passes o/b"), "{stdout}");

    // Said to be safe, with why, it passes; the shipped query (NULL is not 'main') needs nothing said.
    std::fs::write(
        dir.path().join("ACME-01.yaml"),
        format!("{lenient}absence_safe:\n  repositories.default_branch: \"only master fails\"\n"),
    )
    .unwrap();
    let output = pipeproof().args(["controls", "test", "--fail-closed"]).arg(dir.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
    let strict = user_dir(Some(&test));
    let output = pipeproof().args(["controls", "test", "--fail-closed"]).arg(strict.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stdout));
}
