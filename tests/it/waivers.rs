//! Waivers: applied while in force, reported and never applied when expired or malformed.

use crate::common;

use common::{pipeproof, verdict};

fn day(offset_days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(offset_days)).format("%Y-%m-%d").to_string()
}

fn waivers_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("waivers.yaml");
    std::fs::write(
        &path,
        format!(
            "- {{ control: SRC-11, resource: \"acme-demo/web-*\", wildcard: true, justification: Admin bypass needed for the release train, approver: Dana Okafor (CISO), ticket: SEC-7, created: {}, expires: {} }}\n\
             - {{ control: SRC-05, resource: acme-demo/docs-site, justification: static documentation only, approver: dana@acme.example, created: {}, expires: {} }}\n\
             - {{ control: SRC-06, resource: acme-demo/infra-terraform, justification: no expiry was set here, approver: dana@acme.example, created: {} }}\n",
            day(-10),
            day(10),
            day(-100),
            day(-30),
            day(-10)
        ),
    )
    .unwrap();
    path
}

#[test]
fn active_waivers_apply_and_others_are_reported_never_applied() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let waivers = waivers_file(dir.path());
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(&config, format!("organisation: Acme\nwaivers: {}\n", waivers.display())).unwrap();

    let output = pipeproof().arg("--store").arg(&store).arg("--config").arg(&config).arg("evaluate").output().unwrap();
    assert!(output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("waiver 2 not applied: expired"), "{stderr}");
    assert!(stderr.contains("waiver 3 not applied"), "{stderr}");

    let out = dir.path().join("report");
    pipeproof()
        .arg("--store")
        .arg(&store)
        .arg("--config")
        .arg(&config)
        .args(["report", "--format", "json", "--format", "html", "--output"])
        .arg(&out)
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(verdict(&report, "SRC-11", "acme-demo/web-app"), "waived");
    assert_eq!(verdict(&report, "SRC-11", "acme-demo/infra-terraform"), "fail", "the pattern does not match it");
    assert_eq!(verdict(&report, "SRC-05", "acme-demo/docs-site"), "fail", "an expired waiver never applies");
    assert_eq!(verdict(&report, "SRC-06", "acme-demo/infra-terraform"), "fail", "a malformed waiver never applies");

    let src11 = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == "SRC-11").unwrap();
    let web = src11["findings"].as_array().unwrap().iter().find(|f| f["resource"] == "acme-demo/web-app").unwrap();
    assert_eq!(web["underlying_status"], "Fail");
    assert!(web["waiver"].as_str().unwrap().contains("SEC-7"), "{web}");
    assert_eq!(src11["status"], "fail", "other resources still fail");

    let states: Vec<&str> =
        report["waivers"].as_array().unwrap().iter().map(|w| w["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["active", "expired", "malformed"]);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("was Fail") && html.contains("SEC-7"));
}

#[test]
fn waivers_check_lists_states_and_fails_on_expired_or_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let waivers = waivers_file(dir.path());
    let output = pipeproof().args(["waivers", "check", "--file"]).arg(&waivers).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("expiring in 9 day(s)") || stdout.contains("expiring in 10 day(s)"), "{stdout}");
    assert!(stdout.contains("EXPIRED") && stdout.contains("MALFORMED"), "{stdout}");
    assert!(stdout.contains("missing field `expires`"), "{stdout}");

    let good = dir.path().join("good.yaml");
    let text = std::fs::read_to_string(&waivers).unwrap();
    std::fs::write(&good, text.lines().next().unwrap()).unwrap();
    pipeproof().args(["waivers", "check", "--file"]).arg(&good).assert().code(0);
}

#[test]
fn a_wholesale_waiver_is_refused_and_waivers_check_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("waivers.yaml");
    std::fs::write(
        &path,
        format!(
            "- {{ control: SRC-06, resource: \"*\", justification: everything is fine here, approver: \".\", created: {}, expires: 9999-12-31 }}\n\
             - {{ control: NOPE-01, resource: acme/a, justification: a control that does not exist, approver: dana@acme.example, created: {}, expires: {} }}\n\
             - {{ control: SRC-06, resource: \"*\", justification: every repository for one quarter, approver: dana@acme.example, created: {}, expires: {} }}\n",
            day(-1),
            day(-1),
            day(30),
            day(-1),
            day(30)
        ),
    )
    .unwrap();
    let output = pipeproof().args(["waivers", "check", "--file"]).arg(&path).output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("approver \".\" names nobody"), "{stdout}");
    assert!(stdout.contains("control \"NOPE-01\" is not in the catalogue"), "{stdout}");
    assert!(stdout.contains("add `wildcard: true`"), "{stdout}");
    assert!(stdout.contains("3 waiver(s)") && stdout.contains("3 expired or malformed"), "{stdout}");
}

#[test]
fn a_wildcard_waiver_is_listed_in_the_executive_summary() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let waivers = dir.path().join("waivers.yaml");
    std::fs::write(
        &waivers,
        format!(
            "- {{ control: SRC-06, resource: \"*\", wildcard: true, justification: every repository for one quarter, approver: dana@acme.example, ticket: SEC-9, created: {}, expires: {} }}\n",
            day(-1),
            day(30)
        ),
    )
    .unwrap();
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(&config, format!("organisation: Acme\nwaivers: {}\n", waivers.display())).unwrap();
    pipeproof().arg("--store").arg(&store).arg("--config").arg(&config).arg("evaluate").assert().success();
    let out = dir.path().join("report");
    pipeproof()
        .arg("--store")
        .arg(&store)
        .arg("--config")
        .arg(&config)
        .args(["report", "--format", "json", "--format", "html", "--output"])
        .arg(&out)
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let wildcards = report["wildcard_waivers"].as_array().unwrap();
    assert_eq!(wildcards.len(), 1, "{wildcards:?}");
    assert!(wildcards[0]["waived"].as_u64().unwrap() >= 1, "{wildcards:?}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let summary = &html[html.find("id=\"summary\"").unwrap()..html.find("id=\"trend\"").unwrap()];
    assert!(summary.contains("Wildcard waiver") && summary.contains("SEC-9"), "{summary}");
}
