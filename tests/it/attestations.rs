//! Manual attestations: they cover requirements no control reaches, only while valid and untampered.

use crate::common;

use common::pipeproof;

fn day(offset_days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(offset_days)).format("%Y-%m-%d").to_string()
}

#[test]
fn valid_attestations_cover_manual_requirements_and_others_do_not() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    std::fs::write(dir.path().join("review.md"), "access review").unwrap();
    std::fs::write(dir.path().join("policy.md"), "policy, edited after signing").unwrap();
    let review_hash = pipeproof::store::sha256_hex(b"access review");
    let entry = |requirement: &str, from: i64, until: i64, document: &str, hash: &str| {
        format!(
            "- {{ framework: iso27001_2022, requirement: \"{requirement}\", statement: \"Reviewed {requirement}\", attested_by: CISO, \
             attested_at: {}, valid_until: {}, document: {document}, document_sha256: \"{hash}\" }}\n",
            day(from),
            day(until)
        )
    };
    let text = [
        entry("5.4", -5, 60, "review.md", &review_hash),
        entry("5.5", -400, -30, "review.md", &review_hash),
        entry("5.2", -5, 60, "policy.md", &pipeproof::store::sha256_hex(b"policy as signed")),
    ]
    .concat();
    std::fs::write(dir.path().join("attestations.yaml"), text).unwrap();
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(&config, "organisation: Acme\n").unwrap();

    let output = pipeproof().arg("--store").arg(&store).arg("--config").arg(&config).arg("evaluate").output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("attestation 2 does not count: expired"), "{stderr}");
    assert!(
        stderr.contains("attestation 3 does not count") && stderr.contains("does not match its sha256"),
        "{stderr}"
    );

    let report = common::report_json(&store, Some(&config), &dir.path().join("report"));
    let iso = report["frameworks"].as_array().unwrap().iter().find(|f| f["id"] == "iso27001_2022").unwrap();
    let requirement =
        |id: &str| iso["requirements"].as_array().unwrap().iter().find(|r| r["id"] == id).unwrap().clone();
    assert_eq!(requirement("5.4")["status"], "attested");
    assert!(requirement("5.4")["attestation"].as_str().unwrap().contains("Reviewed 5.4"));
    assert_eq!(requirement("5.5")["status"], "manual", "expired attestations do not count");
    assert_eq!(requirement("5.2")["status"], "manual", "a changed document invalidates its attestation");
    assert_eq!(iso["attested"], 1);
    let states: Vec<&str> =
        report["attestations"].as_array().unwrap().iter().map(|a| a["state"].as_str().unwrap()).collect();
    assert_eq!(states, ["valid", "expired", "invalid"]);
}

#[test]
fn an_attestation_must_name_a_known_requirement_or_a_control_decided_by_sign_off() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let config = dir.path().join("pipeproof.yaml");
    std::fs::write(&config, "organisation: Acme\n").unwrap();
    let attempt = |target: &str| {
        std::fs::write(
            dir.path().join("attestations.yaml"),
            format!(
                "- {{ {target}, statement: s, attested_by: a, attested_at: 2026-01-01, valid_until: 2099-01-01, \
                 document: d.md, document_sha256: \"00\" }}\n"
            ),
        )
        .unwrap();
        let output = pipeproof()
            .arg("--store")
            .arg(dir.path().join("pipeproof-demo.duckdb"))
            .arg("--config")
            .arg(&config)
            .arg("evaluate")
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{target}");
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(attempt("framework: soc2, requirement: CC99.1").contains("soc2 CC99.1 is not a requirement"));
    let automated = attempt("control: SRC-01");
    assert!(
        automated.contains("SRC-01 is decided by evidence, not by sign-off") && automated.contains("waiver"),
        "{automated}"
    );
    assert!(attempt("control: MON-99").contains("MON-99 is not a control in the catalogue"));
}
