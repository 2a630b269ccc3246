//! The demo end to end: real collector over HTTP to the replay server, SARIF ingest, evaluation, reports.

use crate::common;

use std::process::Command as StdCommand;

use common::{control_status, copy_tree, demo_fixtures, pipeproof, run_demo, verdict, verdict_starting};

#[test]
fn demo_verdicts_follow_the_recorded_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_demo(dir.path(), None);

    assert_eq!(verdict(&report, "SRC-01", "acme-demo"), "pass");
    assert_eq!(verdict(&report, "SRC-05", "acme-demo/payments-api"), "pass");
    assert_eq!(verdict(&report, "SRC-05", "acme-demo/docs-site"), "fail");
    assert_eq!(verdict(&report, "SRC-05", "acme-demo/ml-pipeline"), "unknown");
    assert_eq!(verdict(&report, "SRC-05", "acme-demo/legacy-tools"), "not_applicable");
    assert_eq!(verdict(&report, "SRC-05", "acme-demo/web-app"), "fail", "release/1.4 is not protected");
    assert_eq!(verdict(&report, "GOV-02", "acme-demo/payments-api"), "pass", "owner and tier set");
    assert_eq!(verdict(&report, "GOV-02", "acme-demo/infra-terraform"), "fail", "no tier");
    assert_eq!(verdict(&report, "GOV-02", "acme-demo/legacy-tools"), "not_applicable");
    assert_eq!(verdict(&report, "GOV-01", "acme-demo"), "pass", "collected just now, with no period");
    assert_eq!(
        verdict(&report, "MON-05", "acme-demo/web-app .github/workflows/deploy.yml deploy"),
        "fail",
        "a self-hosted job with neither a time limit nor a runtime monitor"
    );
    assert_eq!(verdict(&report, "SRC-06", "acme-demo/web-app"), "pass");
    assert_eq!(verdict(&report, "SRC-06", "acme-demo/infra-terraform"), "fail");
    assert_eq!(verdict(&report, "SRC-10", "acme-demo/infra-terraform"), "fail");
    assert_eq!(verdict(&report, "SRC-11", "acme-demo/web-app"), "fail");
    assert_eq!(verdict(&report, "SRC-11", "acme-demo/payments-api"), "pass");
    assert_eq!(verdict(&report, "SRC-12", "acme-demo/payments-api"), "pass");
    assert_eq!(verdict(&report, "TST-03", "acme-demo/web-app"), "fail");
    assert_eq!(verdict(&report, "TST-03", "acme-demo/payments-api"), "fail", "an open critical code scanning alert");
    assert_eq!(verdict(&report, "SRC-06", "acme-demo/docs-site"), "fail");
    assert_eq!(verdict(&report, "SRC-03", "acme-demo/web-app"), "fail", "an outside collaborator is admin");
    assert_eq!(verdict(&report, "SRC-08", "acme-demo/web-app"), "fail", "CODEOWNERS names an unknown team");
    assert_eq!(verdict(&report, "SRC-14", "acme-demo/web-app"), "fail", "push protection is off");
    assert_eq!(verdict(&report, "SRC-15", "acme-demo/payments-api deploy key release-automation"), "fail");
    assert_eq!(verdict(&report, "SRC-15", "acme-demo/ml-pipeline (deploy_keys)"), "unknown");
    assert_eq!(verdict(&report, "BLD-02", "acme-demo/web-app"), "fail", "write-all and write defaults");
    assert_eq!(verdict(&report, "BLD-03", "acme-demo/payments-api"), "pass");
    assert_eq!(verdict(&report, "BLD-03", "acme-demo/web-app"), "fail");
    assert_eq!(verdict(&report, "BLD-06", "acme-demo runner build-01"), "fail");
    assert_eq!(verdict(&report, "DEP-02", "acme-demo/payments-api environment production"), "pass");
    assert_eq!(verdict(&report, "DEP-02", "acme-demo/web-app environment production"), "fail");
    assert_eq!(verdict(&report, "TST-03", "acme-demo/infra-terraform"), "unknown");
    assert_eq!(
        verdict(&report, "BLD-11", "acme-demo/web-app"),
        "fail",
        "Trivy's critical, seen today, is within its SLA, but a high Dependabot alert has been open since May"
    );
    let bld_11 = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == "BLD-11").unwrap();
    let reason = bld_11["findings"].as_array().unwrap().iter().find(|f| f["resource"] == "acme-demo/web-app").unwrap()
        ["reason"]
        .as_str()
        .unwrap();
    assert!(reason.contains("CVE-2021-23337 in npm/lodash (high") && !reason.contains("critical"), "{reason}");
    assert_eq!(verdict(&report, "ART-01", "web-app-1.4.2.tar.gz sha256:5d1f0b2c7a9e"), "fail", "unsigned provenance");
    assert_eq!(verdict(&report, "ART-03", "acme-demo/web-app v1.4.2 web-app-1.4.2.tar.gz"), "fail", "only unsigned");
    assert_eq!(verdict(&report, "ART-05", "acme-demo/payments-api v2.3.0"), "pass");
    assert_eq!(verdict(&report, "ART-05", "acme-demo/web-app v1.4.2"), "fail", "a mutable release");
    assert_eq!(verdict(&report, "BLD-12", "acme-demo/web-app v1.4.2"), "pass", "ships an SPDX asset");
    assert_eq!(verdict(&report, "BLD-12", "acme-demo/payments-api v2.3.0"), "fail");
    assert_eq!(verdict(&report, "TST-06", "acme-demo/web-app"), "fail", "Trivy may fail without failing the run");
    assert_eq!(verdict(&report, "TST-06", "acme-demo/payments-api"), "pass");
    let dep01 = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == "DEP-01").unwrap();
    let github: Vec<&serde_json::Value> = dep01["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"].as_str().is_some_and(|r| r.starts_with("acme-demo/")))
        .collect();
    assert!(github.len() == 2 && github.iter().all(|f| f["status"] == "pass"), "both made by runs: {github:?}");
    assert_eq!(control_status(&report, "DEP-01"), "fail", "GitLab billing's deployment was made through the API");
    assert_eq!(verdict(&report, "ART-06", "acme-demo"), "fail", "NPM_TOKEN is an organisation secret");
    assert_eq!(verdict(&report, "BLD-04", "acme-demo/web-app"), "fail", "no pipeline scanner");
    assert_eq!(verdict(&report, "GOV-03", "acme-demo/payments-api"), "pass", "an organisation ruleset");
    assert_eq!(verdict(&report, "GOV-03", "acme-demo/infra-terraform"), "fail", "classic protection only");
    assert_eq!(verdict(&report, "GOV-06", "acme-demo"), "pass", "selected actions");
    assert_eq!(verdict(&report, "GOV-06", "acme-demo/web-app"), "fail", "all actions allowed");
    assert_eq!(control_status(&report, "TST-04"), "fail", "no dynamic scan before either production deployment");
    assert_eq!(verdict(&report, "TST-05", "acme-demo/web-app"), "pass", "its image scanned by Trivy");
    assert_eq!(verdict(&report, "TST-05", "acme-demo/payments-api"), "fail", "deploys, and nothing scans its images");
    assert_eq!(verdict(&report, "TST-05", "acme-demo/docs-site"), "not_applicable", "no production environment");
    assert_eq!(verdict(&report, "ART-02", "web-app-1.4.2.tar.gz sha256:5d1f0b2c7a9e"), "fail", "unsigned provenance");
    assert_eq!(verdict(&report, "BLD-08", "acme-demo"), "fail", "self-hosted runners, no runner image scanned");
    assert_eq!(verdict(&report, "GOV-05", "acme-demo/web-app"), "pass", "private vulnerability reporting on");
    assert_eq!(verdict(&report, "GOV-05", "acme-demo/docs-site"), "fail", "public, reporting off");
    assert_eq!(verdict(&report, "GOV-05", "acme-demo/payments-api"), "not_applicable", "private");
    assert_eq!(
        verdict(&report, "ART-04", "acme-demo container package payments-api"),
        "fail",
        "a public image of a private repository"
    );
    assert_eq!(verdict(&report, "ART-04", "acme-demo container package ml-trainer"), "pass");
    let review = common::finding(&report, "MON-04", "acme-demo");
    let reason = review["reason"].as_str().unwrap();
    assert!(reason.contains("signed off by Dana Okafor (CISO) on 2026-09-28"), "the demo's access review: {reason}");
    assert!(reason.contains("sha256 checked") && reason.contains("2 owners"), "{reason}");
    let attested = report["attestations"].as_array().unwrap();
    assert!(attested.iter().any(|a| a["covers"] == "control MON-04 for acme-demo"), "{attested:?}");
    assert_eq!(verdict(&report, "GOV-07", "evidence bundles"), "unknown", "the demo bundles after evaluating");
    assert_eq!(
        verdict(&report, "DEP-04", "kyverno ClusterPolicy/verify-release-images rule signed-by-release-workflow"),
        "pass"
    );
    assert_eq!(verdict(&report, "DEP-04", "namespace web-prod"), "fail", "no image rule selects it");
    assert_eq!(verdict(&report, "DEP-05", "Rollout payments-prod/payments-api"), "pass", "an analysed canary");
    assert_eq!(verdict(&report, "DEP-05", "Deployment web-prod/web-app"), "fail", "a plain rolling update");
    assert_eq!(verdict(&report, "DEP-07", "cluster-wide"), "fail", "three people hold standing cluster-admin");
    assert_eq!(verdict(&report, "DEP-07", "namespace payments-prod"), "pass");
    assert_eq!(verdict(&report, "BLD-09", "acme-demo/payments-api"), "pass", "go.sum and digest-pinned bases");
    assert_eq!(verdict(&report, "BLD-09", "acme-demo/web-app"), "fail", "node:20-alpine by tag only");
    assert_eq!(verdict(&report, "BLD-09", "acme-demo/ml-pipeline"), "fail", "pyproject.toml without a lock file");
    assert_eq!(verdict(&report, "BLD-09", "acme-demo/infra-terraform"), "not_applicable");
    assert_eq!(verdict(&report, "ART-07", "acme-demo/web-app"), "pass", "@acme-demo from GitHub Packages");
    assert_eq!(verdict(&report, "ART-07", "acme-demo/ml-pipeline"), "fail", "an extra index beside PyPI");
    assert_eq!(verdict(&report, "ART-07", "acme-demo/payments-api"), "not_applicable", "Go only");
    assert_eq!(
        verdict(&report, "SRC-02", "acme-demo"),
        "pass",
        "SAML SSO through Okta, 7 identities for 5 human members"
    );
    assert_eq!(verdict(&report, "MON-03", "acme-demo"), "fail", "the IP allow list is disabled");
    assert_eq!(verdict(&report, "SRC-01", "acme-demo"), "pass");
    assert_eq!(verdict(&report, "SRC-01", "gitlab:acme-demo"), "pass", "required, and every member has 2FA");
    assert_eq!(control_status(&report, "SRC-01"), "pass");
    // The GitLab group beside the GitHub organisation.
    assert_eq!(verdict(&report, "SRC-06", "gitlab:acme-demo/platform/api-gateway"), "pass");
    assert_eq!(verdict(&report, "SRC-06", "gitlab:acme-demo/platform/billing"), "fail", "authors approve their own");
    assert_eq!(verdict(&report, "SRC-05", "gitlab:acme-demo/web/storefront"), "fail", "only release/* protected");
    assert_eq!(verdict(&report, "SRC-05", "gitlab:acme-demo/web/docs-site"), "unknown", "a Reporter token");
    assert_eq!(verdict(&report, "SRC-13", "gitlab:acme-demo/platform/api-gateway!11"), "pass");
    assert_eq!(verdict(&report, "SRC-13", "gitlab:acme-demo/platform/billing!7"), "fail", "approved by its author");
    assert_eq!(verdict(&report, "SRC-15", "gitlab:acme-demo/platform/billing deploy key release-bot"), "fail");
    assert_eq!(verdict(&report, "BLD-09", "gitlab:acme-demo/platform/api-gateway"), "unknown", "not judged on GitLab");
    assert_eq!(verdict(&report, "BLD-03", "gitlab:acme-demo/platform/api-gateway"), "pass", "SHA and digests");
    assert_eq!(verdict(&report, "BLD-03", "gitlab:acme-demo/platform/billing"), "fail", "a component at ~latest");
    assert_eq!(verdict(&report, "BLD-03", "gitlab:acme-demo/web/docs-site"), "unknown", "its include not expanded");
    assert_eq!(verdict(&report, "BLD-01", "gitlab:acme-demo/web/storefront"), "fail", "no .gitlab-ci.yml");
    let gateway = "gitlab:acme-demo/platform/api-gateway";
    assert_eq!(verdict(&report, "SRC-08", gateway), "pass", "CODEOWNERS, and code owner approval on main");
    assert_eq!(verdict(&report, "SRC-16", gateway), "pass", "pushed to two days ago");
    assert_eq!(verdict(&report, "ART-06", "gitlab:acme-demo"), "fail", "NPM_TOKEN is a group CI/CD variable");
    assert_eq!(verdict(&report, "BLD-10", gateway), "pass", "GitLab's Dependency Scanning template");
    assert_eq!(verdict(&report, "TST-06", gateway), "fail", "the template's dependency scanning job may fail");
    assert_eq!(verdict(&report, "BLD-10", "gitlab:acme-demo/platform/billing"), "fail", "no dependency scanning");
    assert_eq!(verdict(&report, "SRC-16", "gitlab:acme-demo/web/docs-site"), "fail", "last push ten months ago");
    assert_eq!(verdict(&report, "TST-01", gateway), "pass", "semgrep-sast succeeded two days ago");
    assert_eq!(verdict(&report, "SRC-04", "gitlab:acme-demo owner alice"), "pass", "active two days ago");
    assert_eq!(verdict(&report, "MON-03", "gitlab:acme-demo"), "pass", "office and VPN ranges; events with addresses");
    assert_eq!(verdict(&report, "SRC-14", "gitlab:acme-demo/platform/billing"), "fail", "no secret detection at all");
    assert_eq!(verdict(&report, "SRC-14", gateway), "unknown", "push protection on; findings not given by the API");
    let registry = "gitlab:acme-demo/platform/billing package registry";
    assert_eq!(verdict(&report, "ART-04", registry), "fail", "anyone may pull a private project's packages");
    assert_eq!(verdict(&report, "ART-04", "gitlab:acme-demo/platform/api-gateway package registry"), "pass");
    assert_eq!(verdict(&report, "SRC-04", "gitlab:acme-demo member dave"), "fail", "last active seven months ago");
    assert_eq!(verdict(&report, "TST-01", "gitlab:acme-demo/platform/billing"), "fail", "no SAST job configured");
    assert_eq!(verdict(&report, "TST-01", "gitlab:acme-demo/web/storefront"), "fail", "never had a pipeline");
    assert_eq!(verdict(&report, "TST-01", "gitlab:acme-demo/web/docs-site"), "unknown", "five pipelines, no SAST");
    assert_eq!(verdict(&report, "SRC-08", "gitlab:acme-demo/platform/billing"), "fail", "an entry without owners");
    assert_eq!(verdict(&report, "SRC-03", "gitlab:acme-demo"), "pass", "Maintainers create projects; two owners");
    assert_eq!(
        verdict_starting(&report, "MON-02", "acme-demo/platform/billing change prevent merge request approval"),
        "fail",
        "authors were let approve their own merge requests: no review recorded"
    );
    assert_eq!(verdict(&report, "MON-02", "gitlab:acme-demo"), "unknown", "docs-site's events hidden from a Reporter");
    assert_eq!(
        verdict(
            &report,
            "BLD-07",
            "gitlab:acme-demo/platform/billing variable STRIPE_API_KEY (environment production)"
        ),
        "fail",
        "neither masked nor protected"
    );
    assert_eq!(verdict(&report, "DEP-02", &format!("{gateway} environment production")), "pass");
    assert_eq!(verdict(&report, "DEP-02", "gitlab:acme-demo/platform/billing environment prod"), "fail", "unprotected");
    assert_eq!(verdict(&report, "DEP-02", "gitlab:acme-demo/web/docs-site"), "unknown", "hidden from a Reporter");
    assert_eq!(verdict_starting(&report, "DEP-01", "gitlab:acme-demo/platform/billing deployment 5201"), "fail");
    assert_eq!(verdict_starting(&report, "DEP-03", &format!("{gateway} deployment 5101")), "pass", "bob approved");
    assert_eq!(
        verdict_starting(&report, "DEP-03", "gitlab:acme-demo/web/storefront deployment 5301"),
        "fail",
        "dave approved his own pipeline's deployment"
    );
    assert_eq!(control_status(&report, "SRC-05"), "fail");

    let unobserved = report["unobserved"].as_array().unwrap();
    let ml = unobserved.iter().find(|u| u["resource"] == "acme-demo/ml-pipeline").expect("ml-pipeline unobserved");
    assert!(ml["reason"].as_str().unwrap().contains("HTTP 403"), "{ml}");

    let web_app = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == "TST-03").unwrap()["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == "acme-demo/web-app")
        .unwrap()
        .clone();
    let reason = web_app["reason"].as_str().unwrap();
    assert!(reason.contains("js/sql-injection"), "{reason}");
    assert!(!reason.contains("js/hardcoded-credentials"), "suppressed findings do not count: {reason}");
    assert!(!reason.contains("js/reflected-xss"), "security-severity 6.1 is below the 7.0 threshold: {reason}");

    let soc2 = report["frameworks"].as_array().unwrap().iter().find(|f| f["id"] == "soc2").unwrap();
    assert_eq!(soc2["requirements"].as_array().unwrap().iter().find(|r| r["id"] == "CC8.1").unwrap()["status"], "fail");
    assert_eq!(
        soc2["requirements"].as_array().unwrap().iter().find(|r| r["id"] == "CC1.1").unwrap()["status"],
        "manual"
    );
    let soc2_gaps = report["gaps"].as_array().unwrap().iter().find(|g| g["framework_id"] == "soc2").unwrap();
    let cc81 =
        soc2_gaps["gaps"].as_array().unwrap().iter().find(|g| g["requirement"] == "CC8.1").expect("CC8.1 is a gap");
    assert_eq!(cc81["severity"], "high");
    assert!(cc81["actions"].as_array().unwrap().iter().any(|a| a["control"] == "SRC-05"));
    for evidence in report["evidence"].as_array().unwrap() {
        assert_eq!(evidence["sha256"].as_str().unwrap().len(), 64);
    }
}

#[test]
fn changing_a_fixture_changes_the_verdict() {
    let fixtures = common::demo_fixtures_edited(|path, interaction| {
        if path == "/orgs/acme-demo" {
            interaction["body"]["two_factor_requirement_enabled"] = serde_json::json!(false);
        }
        if path == "/repos/acme-demo/web-app/branches/main/protection" {
            interaction["body"]["enforce_admins"]["enabled"] = serde_json::json!(true);
        }
    });

    let out = tempfile::tempdir().unwrap();
    let report = run_demo(out.path(), Some(fixtures.path()));
    assert_eq!(verdict(&report, "SRC-01", "acme-demo"), "fail");
    assert_eq!(verdict(&report, "SRC-11", "acme-demo/web-app"), "pass");
}

#[test]
fn the_pdf_reads_like_a_report() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let pdf = dir.path().join("report.pdf");
    let bytes = std::fs::read(&pdf).unwrap();
    assert!(bytes.starts_with(b"%PDF-"));
    // The two DejaVu fonts alone are 1.4 MB: a report that embedded them whole would be far larger.
    assert!(bytes.len() < 600_000, "fonts are subset: {} bytes", bytes.len());
    let output = StdCommand::new("pdftotext")
        .arg("-raw")
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) installed");
    assert!(output.status.success());
    let raw = String::from_utf8(output.stdout).unwrap();
    let pages = raw.matches('\u{c}').count();
    let text = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    for expected in [
        "CI/CD pipeline security assessment: Acme Demo Ltd",
        "Executive summary",
        "Gap analysis",
        "Findings",
        "Evidence appendix",
        "acme-demo/infra-terraform",
        "May bypass the protection of main",
        "Page 1 of",
    ] {
        assert!(text.contains(expected), "PDF text lacks {expected:?}");
    }
    assert!(pages >= 3, "expected several pages, got {pages}");
    assert!(text.contains(&format!("Page {pages} of {pages}")), "last page footer");
    let info = StdCommand::new("pdfinfo").arg(&pdf).output().unwrap();
    let info = String::from_utf8(info.stdout).unwrap();
    assert!(info.contains("Title:") && info.contains("Acme Demo Ltd"), "{info}");
    let created = info.lines().find(|line| line.starts_with("CreationDate:")).unwrap_or_default();
    assert!(created.contains("20") && !created.contains("1970"), "creation date is the evaluation time: {info}");
}

#[test]
fn the_html_loads_nothing_from_outside() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("Content-Security-Policy"));
    assert!(html.contains("default-src 'none'"));
    let lower = html.to_ascii_lowercase();
    for forbidden in ["<link", "<iframe", "<img", "@import", "url(", "src=", "fetch(", "xmlhttprequest", "unsafe-eval"]
    {
        assert!(!lower.contains(forbidden), "HTML contains {forbidden:?}");
    }
    assert!(html.contains("acme-demo/web-app"));

    // One inline script, allowed by its hash alone: no 'unsafe-inline' for scripts.
    assert_eq!(lower.matches("<script").count(), 1);
    let script = html.split("<script>").nth(1).and_then(|rest| rest.split("</script>").next()).unwrap();
    let policy = html.split("script-src '").nth(1).and_then(|rest| rest.split('\'').next()).unwrap();
    use base64::Engine;
    use sha2::Digest;
    let digest = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script.as_bytes()));
    assert_eq!(policy, format!("sha256-{digest}"), "the CSP allows exactly this script");
}

#[test]
fn evidence_text_is_escaped_in_html() {
    let fixtures = tempfile::tempdir().unwrap();
    copy_tree(&demo_fixtures(), fixtures.path());
    let sarif_path = fixtures.path().join("sarif/web-app.codeql.sarif");
    let sarif = std::fs::read_to_string(&sarif_path).unwrap().replace("js/sql-injection", "<script>alert(1)</script>");
    std::fs::write(&sarif_path, sarif).unwrap();
    let out = tempfile::tempdir().unwrap();
    run_demo(out.path(), Some(fixtures.path()));
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
}

#[test]
fn reports_from_the_same_evaluation_are_byte_identical() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let render = |name: &str| {
        let out = dir.path().join(name);
        pipeproof()
            .arg("--store")
            .arg(&store)
            .arg("--config")
            .arg(dir.path().join("fixtures/pipeproof.yaml"))
            .args(["report", "--output"])
            .arg(&out)
            .assert()
            .success();
        out
    };
    let first = render("first");
    let second = render("second");
    for file in ["report.html", "report.pdf", "report.json", "findings.csv", "requirements.csv"] {
        let a = std::fs::read(first.join(file)).unwrap();
        let b = std::fs::read(second.join(file)).unwrap();
        assert!(a == b, "{file} differs between two renders of the same evaluation");
    }
    assert_eq!(
        std::fs::read(first.join("report.json")).unwrap(),
        std::fs::read(dir.path().join("report.json")).unwrap()
    );
}

#[test]
fn a_token_that_is_not_an_owner_makes_2fa_unknown_with_the_reason() {
    let fixtures = common::demo_fixtures_edited(|path, interaction| {
        if path == "/orgs/acme-demo" {
            interaction["body"].as_object_mut().unwrap().remove("two_factor_requirement_enabled");
        }
    });
    let out = tempfile::tempdir().unwrap();
    let report = run_demo(out.path(), Some(fixtures.path()));
    assert_eq!(verdict(&report, "SRC-01", "acme-demo"), "unknown");
    let unobserved = report["unobserved"].as_array().unwrap();
    assert!(unobserved
        .iter()
        .any(|u| u["control"] == "SRC-01" && u["reason"].as_str().unwrap().contains("organisation owners")));
}

#[test]
fn the_table_of_contents_points_at_the_right_pages() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let pdf = dir.path().join("report.pdf");
    let page_text = |page: usize| {
        let output = StdCommand::new("pdftotext")
            .args(["-raw", "-f", &page.to_string(), "-l", &page.to_string()])
            .arg(&pdf)
            .arg("-")
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    let contents = page_text(2);
    assert!(contents.contains("Contents"), "{contents}");
    let mut checked = 0;
    for line in contents.lines() {
        let Some((title, page)) = line.rsplit_once(' ') else { continue };
        let (Ok(page), Some(title)) = (page.trim().parse::<usize>(), title.split(" ..").next()) else { continue };
        if title.starts_with("Page") || title.trim().is_empty() {
            continue;
        }
        let on_page = page_text(page).split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(on_page.contains(title.trim()), "{title:?} is not on page {page}");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} contents lines found in {contents}");
}

#[test]
fn letter_paper_is_available() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let out = dir.path().join("letter");
    common::report_demo(dir.path(), &["--format", "pdf", "--paper", "letter"], &out);
    let info = StdCommand::new("pdfinfo").arg(out.join("report.pdf")).output().unwrap();
    let info = String::from_utf8(info.stdout).unwrap();
    assert!(info.contains("pts (letter)"), "{info}");
}

#[test]
fn credentials_inside_evidence_reach_no_store_report_or_bundle() {
    use base64::Engine;
    let encode = |text: &str| base64::engine::general_purpose::STANDARD.encode(text);
    let fixtures = common::demo_fixtures_edited(|path, interaction| {
        if path.starts_with("/orgs/acme-demo/hooks") {
            interaction["body"][0]["config"]["url"] =
                serde_json::json!("https://bot:CANARY-hook-pass@siem.acme.example/ingest/github");
        }
        if path.starts_with("/orgs/acme-demo/secret-scanning/alerts") {
            interaction["body"][0]["secret"] = serde_json::json!("CANARY-secret-value");
        }
        if path.starts_with("/repos/acme-demo/web-app/contents/.npmrc") {
            interaction["body"]["content"] = serde_json::json!(encode(
                "@acme-demo:registry=https://npm.pkg.github.com\n//npm.pkg.github.com/:_authToken=CANARY-npm-token\n"
            ));
        }
        if path.starts_with("/repos/acme-demo/ml-pipeline/contents/pip.conf") {
            interaction["body"]["content"] = serde_json::json!(encode(
                "[global]\nextra-index-url = https://u:CANARY-pip-pass@pypi.acme-demo.internal/simple\n"
            ));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let report = common::run_demo_fresh(dir.path(), Some(fixtures.path()));
    assert_eq!(verdict(&report, "ART-07", "acme-demo/web-app"), "pass", "facts are read as before");

    let store = pipeproof::store::Store::open_read_only(&dir.path().join("pipeproof-demo.duckdb")).unwrap();
    let mut statement = store.prepare("SELECT body FROM blobs").unwrap();
    let bodies: Vec<Vec<u8>> = statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
    let leaks = |bytes: &[u8]| bytes.windows(7).any(|w| w == b"CANARY-");
    assert!(!bodies.iter().any(|b| leaks(b)), "a stored body keeps a credential");
    // The GitLab recording's CI/CD variables carry their values (as GitLab's REST listing does), each `pp-canary-…`.
    let variable_value = |bytes: &[u8]| bytes.windows(10).any(|w| w == b"pp-canary-");
    assert!(!bodies.iter().any(|b| variable_value(b)), "a stored body keeps a CI/CD variable's value");
    let decoded_leak = bodies.iter().filter_map(|b| serde_json::from_slice::<serde_json::Value>(b).ok()).any(|v| {
        v["content"].as_str().is_some_and(|c| {
            let c: String = c.chars().filter(|c| !c.is_whitespace()).collect();
            base64::engine::general_purpose::STANDARD.decode(c).is_ok_and(|d| leaks(&d))
        })
    });
    assert!(!decoded_leak, "a stored file's base64 content keeps a credential");
    let notes: Vec<String> = store
        .prepare("SELECT kind || ' ' || (provenance::JSON->>'$.redacted.cut') FROM evidence WHERE (provenance::JSON->'redacted') IS NOT NULL ORDER BY 1")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(notes.len(), 4, "{notes:#?}");
    assert!(
        notes.iter().any(|n| n.starts_with("github.org_webhooks") && n.contains("credentials in URLs")),
        "{notes:#?}"
    );
    assert!(notes.iter().any(|n| n.starts_with("github.registry_config") && n.contains("registry credentials")));

    for entry in walk(dir.path()) {
        let name = entry.display().to_string();
        if name.ends_with(".duckdb") || name.ends_with(".wal") || name.ends_with(".key") {
            continue;
        }
        let bytes = std::fs::read(&entry).unwrap();
        assert!(!leaks(&bytes), "{name} keeps a credential");
        if !name.contains("fixtures") {
            assert!(!variable_value(&bytes), "{name} keeps a CI/CD variable's value");
        }
        if name.ends_with(".zip") {
            let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
            for i in 0..archive.len() {
                let mut file = archive.by_index(i).unwrap();
                let mut inner = Vec::new();
                std::io::Read::read_to_end(&mut file, &mut inner).unwrap();
                assert!(!leaks(&inner), "{name}: {} keeps a credential", file.name());
                assert!(!variable_value(&inner), "{name}: {} keeps a CI/CD variable's value", file.name());
            }
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(walk(&path));
        } else {
            found.push(path);
        }
    }
    found
}
