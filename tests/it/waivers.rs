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
            "- {{ control: SRC-11, resource: \"acme-demo/web-*\", justification: Admin bypass needed for the release train, approver: CISO, ticket: SEC-7, created: {}, expires: {} }}\n\
             - {{ control: SRC-05, resource: acme-demo/docs-site, justification: old, approver: CISO, created: {}, expires: {} }}\n\
             - {{ control: SRC-06, resource: acme-demo/infra-terraform, justification: no expiry, approver: CISO, created: {} }}\n",
            day(-10),
            day(10),
            day(-400),
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
