//! The frameworks each audit expects beyond a percentage: OSPS Baseline and SLSA source levels per repository,
//! the CISA attestation package, FedRAMP KSI validations, the EU CRA per release, signed SLSA verification
//! summaries in the bundle, and reports limited to chosen frameworks.

use crate::common;

use common::{pipeproof, report_demo, run_demo};

fn framework<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["frameworks"].as_array().unwrap().iter().find(|f| f["id"] == id).unwrap_or_else(|| panic!("{id}"))
}

#[test]
fn each_new_framework_reads_as_its_audit_expects_in_the_demo_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_demo(dir.path(), None);

    let osps = &framework(&report, "osps_baseline")["levels"];
    let payments =
        osps["repositories"].as_array().unwrap().iter().find(|r| r["repository"] == "acme-demo/payments-api");
    let payments = payments.unwrap();
    assert_eq!(payments["level"], 0, "manual level-1 requirements are not attested in the demo");
    assert_eq!(payments["blockers"], serde_json::json!([]), "no automated level-1 requirement fails for it");
    let web = osps["repositories"].as_array().unwrap().iter().find(|r| r["repository"] == "acme-demo/web-app").unwrap();
    let blockers: Vec<&str> =
        web["blockers"].as_array().unwrap().iter().map(|b| b["requirement"].as_str().unwrap()).collect();
    assert!(blockers.contains(&"OSPS-AC-02.01"), "SRC-03 fails on web-app: {blockers:?}");
    assert!(!osps["manual"][0]["requirements"].as_array().unwrap().is_empty());
    assert!(
        !osps["repositories"].as_array().unwrap().iter().any(|r| r["repository"] == "acme-demo/legacy-tools"),
        "archived repositories are left out"
    );

    let slsa = &framework(&report, "slsa")["levels"];
    assert!(slsa["repositories"].as_array().unwrap().iter().all(|r| r["level_name"] == "Source L1"), "{slsa}");

    let cisa = framework(&report, "cisa_ssdf_attestation");
    let sections = cisa["sections"].as_array().unwrap();
    let signature = sections.iter().find(|s| s["section"] == "Section III signature").unwrap();
    assert_eq!(signature["state"], "confirm", "the signature is always the signer's");
    let item_1c = sections.iter().flat_map(|s| s["items"].as_array().unwrap()).find(|i| i["requirement"] == "1c");
    assert_eq!(item_1c.unwrap()["status"], "pass", "SRC-01 passes in the demo");

    let ksi = framework(&report, "fedramp_20x_ksi")["indicators"].as_array().unwrap();
    let machine = ksi.iter().find(|i| i["method"] == "machine").unwrap();
    assert!(machine["validations_in_period"].as_u64().unwrap() >= 1);
    assert!(machine["longest_gap_days"].is_u64() && machine["next_due"].is_string());
    assert!(ksi.iter().any(|i| i["method"] == "none" && i["cadence_met"].is_null()));
    let attested = ksi.iter().find(|i| i["indicator"] == "KSI-CED-DET").unwrap();
    assert_eq!(attested["method"], "non-machine", "the demo attests it");
    assert_eq!(attested["validated_at"], "2026-05-02T00:00:00Z");
    assert_eq!(attested["cadence_met"], false, "reviewed in May: more than three months before the demo's moment");

    let cra = &framework(&report, "eu_cra")["releases"];
    let row = |release: &str| {
        cra["releases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["release"] == release)
            .unwrap_or_else(|| panic!("{release}"))
    };
    let sbom = |release: &str| {
        row(release)["cells"].as_array().unwrap().iter().find(|c| c["requirement"] == "II.1").unwrap()["status"].clone()
    };
    assert_eq!(sbom("acme-demo/web-app v1.4.2"), "pass", "web-app ships an SPDX asset");
    assert_eq!(sbom("acme-demo/payments-api v2.3.0"), "fail", "payments-api ships no SBOM");
}

#[test]
fn a_report_limited_to_a_framework_opens_with_its_summary_and_refuses_an_unknown_one() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let out = dir.path().join("osps");
    report_demo(dir.path(), &["--framework", "osps_baseline", "--format", "json,html,csv"], &out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let ids: Vec<&str> = report["frameworks"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["osps_baseline"]);
    assert!(report["controls"].as_array().unwrap().iter().all(|c| c["id"] != "DEP-04"), "DEP-04 maps to no OSPS item");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let lead = html.find("Levels met per repository").expect("the levels summary");
    assert!(lead < html.find("Executive summary").unwrap(), "the framework's own summary comes first");
    let requirements = std::fs::read_to_string(out.join("requirements.csv")).unwrap();
    assert!(
        requirements.lines().skip(1).all(|line| line.contains("osps_baseline") || line.contains("OSPS")),
        "{requirements}"
    );

    let refused = pipeproof()
        .arg("--store")
        .arg(dir.path().join("pipeproof-demo.duckdb"))
        .args(["report", "--framework", "pci", "--output"])
        .arg(dir.path().join("none"))
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--framework pci") && stderr.contains("pci_dss"), "{stderr}");
}

#[test]
fn the_bundle_carries_signed_source_summaries_and_the_attestation_package() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let bundle = dir.path().join("bundle.zip");
    let mut archive = zip::ZipArchive::new(std::fs::File::open(&bundle).unwrap()).unwrap();
    let read = |archive: &mut zip::ZipArchive<std::fs::File>, name: &str| {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut archive.by_name(name).unwrap(), &mut text).unwrap();
        text
    };
    let index: serde_json::Value = serde_json::from_str(&read(&mut archive, "vsa/index.json")).unwrap();
    let signed: Vec<&serde_json::Value> =
        index["repositories"].as_array().unwrap().iter().filter(|r| r["attestation"].is_string()).collect();
    assert!(!signed.is_empty());
    let envelope: serde_json::Value =
        serde_json::from_str(&read(&mut archive, signed[0]["attestation"].as_str().unwrap())).unwrap();
    use base64::Engine;
    let payload = base64::engine::general_purpose::STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
    let statement: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(statement["predicateType"], "https://slsa.dev/verification_summary/v1");
    assert_eq!(statement["predicate"]["verificationResult"], "PASSED");
    assert_eq!(statement["predicate"]["verifiedLevels"], serde_json::json!(["SLSA_SOURCE_LEVEL_1"]));
    assert!(statement["subject"][0]["digest"]["gitCommit"].as_str().unwrap().len() == 40);
    assert!(index["repositories"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["attestation"].is_null() && r["why"].is_string()));

    let checklist = read(&mut archive, "frameworks/cisa_ssdf_attestation/signer-checklist.md");
    assert!(checklist.contains("does not sign the form") && checklist.contains("*missing*"), "{checklist}");
    let package: serde_json::Value =
        serde_json::from_str(&read(&mut archive, "frameworks/cisa_ssdf_attestation/summary.json")).unwrap();
    let item = &package["summary"]["sections"][0]["items"][0];
    assert!(item["evidence_files"].as_array().unwrap().iter().all(|f| f.as_str().unwrap().starts_with("evidence/")));

    let verified = pipeproof()
        .args(["verify"])
        .arg(&bundle)
        .arg("--pubkey")
        .arg(dir.path().join("demo-signing.key.pub"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&verified.stdout);
    assert!(verified.status.success() && stdout.contains("SLSA source verification summaries checked"), "{stdout}");
}

/// Every mapping to the frameworks built from `../shared/reference/data` is the one the reviewed reference gives
/// (its `pipeproof_controls`: the controls that decide the requirement), no more and no fewer; supporting controls
/// are never mappings.
#[test]
fn the_new_frameworks_map_exactly_the_controls_the_reference_says_decide() {
    let data = common::samples().join("../reference/data");
    let catalogue = pipeproof::controls::Catalogue::load(&[] as &[&std::path::Path]).unwrap();
    let sources = [
        ("osps_baseline", "osps_baseline_v2026_02_19.json", "requirements"),
        ("nist_sp800_53r5", "nist_sp800_53r5_rel5_2_0_cicd.json", "controls"),
        ("pci_dss", "pci_dss_v4_0_1_req6_cicd.json", "requirements"),
        ("cisa_ssdf_attestation", "cisa_ssdf_attestation_form_2024.json", "items"),
        ("fedramp_20x_ksi", "fedramp_20x_ksi.json", "indicators"),
        ("eu_cra", "eu_cra_2024_2847_annex_i_vii.json", "requirements"),
        ("slsa", "slsa_v1_1_build_v1_2_source.json", "requirements"),
    ];
    let mut compared = 0;
    for (framework_id, file, list) in sources {
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(data.join(file)).unwrap()).unwrap();
        let framework = catalogue.framework(framework_id).unwrap();
        for row in reference[list].as_array().unwrap() {
            let id = row["id"].as_str().unwrap();
            let Some(requirement) = framework.requirements.iter().find(|r| r.id == id) else {
                let skipped = row["retired"] == true
                    || row["judged_by"].as_str().is_some_and(|j| j.starts_with("see ") || j.starts_with("n/a"))
                    || row["track"] == "build";
                assert!(skipped, "{framework_id} {id} is missing from the framework file");
                continue;
            };
            let mut expected: Vec<&str> =
                row["pipeproof_controls"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect();
            expected.sort_unstable();
            let mapped: Vec<&str> = catalogue.controls_for(framework_id, id).iter().map(|c| c.id.as_str()).collect();
            assert_eq!(mapped, expected, "{framework_id} {id}");
            for supporting in &requirement.supported_by {
                assert!(!mapped.contains(&supporting.as_str()), "{framework_id} {id}: {supporting} is support only");
            }
            compared += 1;
        }
    }
    assert!(compared > 350, "{compared} requirements compared");
}

/// The worked example of docs/controls.md, taken from the document itself: a framework of one's own, mapped from its
/// side to built-in controls, validates, evaluates and reports its levels.
#[test]
fn the_documented_user_framework_validates_evaluates_and_reports() {
    let doc =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/controls.md")).unwrap();
    let mine = tempfile::tempdir().unwrap();
    for block in doc.split("```yaml\n").skip(1).map(|rest| rest.split("```").next().unwrap()) {
        let Some(path) = block.lines().next().and_then(|l| l.strip_prefix("# my-controls/")) else { continue };
        let path = mine.path().join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, block).unwrap();
    }
    assert!(mine.path().join("frameworks/acme_sdlc.yaml").exists(), "the example is in docs/controls.md");
    pipeproof().args(["controls", "validate"]).arg(mine.path()).assert().success();

    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let evaluated = pipeproof().arg("--store").arg(&store).args(["evaluate", "--controls"]).arg(mine.path()).output();
    let code = evaluated.unwrap().status.code();
    assert!(matches!(code, Some(0 | 1)), "evaluated, failures or not: {code:?}");
    let out = dir.path().join("acme");
    report_demo(dir.path(), &["--framework", "acme_sdlc", "--format", "json"], &out);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let acme = framework(&report, "acme_sdlc");
    let sdlc1 = acme["requirements"].as_array().unwrap().iter().find(|r| r["id"] == "SDLC-1").unwrap();
    assert_eq!(sdlc1["controls"], serde_json::json!(["SRC-01"]));
    assert_eq!(sdlc1["status"], "pass");
    let levels = acme["levels"]["repositories"].as_array().unwrap();
    let payments = levels.iter().find(|r| r["repository"] == "acme-demo/payments-api").unwrap();
    assert_eq!(payments["level_name"], "Baseline", "{payments}");
    assert_eq!(payments["manual_blockers"], 1, "SDLC-4 waits for an attestation");

    std::fs::write(
        mine.path().join("frameworks/acme_sdlc.yaml"),
        std::fs::read_to_string(mine.path().join("frameworks/acme_sdlc.yaml")).unwrap().replace("SRC-01]", "SRC-99]"),
    )
    .unwrap();
    let refused = pipeproof().args(["controls", "validate"]).arg(mine.path()).output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("SRC-99"));
}
