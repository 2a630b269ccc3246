//! Releases and the artifact attestations of their assets, collected from the replay server: each attestation bundle
//! is checked against the configured Sigstore trust, and ART-03, ART-05 and BLD-12 judge the releases of the period.

use crate::common;

use std::path::{Path, PathBuf};

use chrono::Duration;
use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::ReplayServer;
use pipeproof::config::Config;
use pipeproof::controls::Catalogue;
use pipeproof::evaluate::{evaluate, Evaluation, Scope};
use pipeproof::ingest::TrustPolicy;
use pipeproof::period::Period;
use pipeproof::store::Store;

/// The digest the demo's web-app tarball is recorded with.
const DEMO_TARBALL: &str = "sha256:5d1f0b2c7a9e4f6b8c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b";
/// The demo's web-app SBOM asset.
const DEMO_SBOM: &str = "sha256:9c4e2a7f1b3d5e6f8a0b2c4d6e8f0a1b3c5d7e9f1a2b4c6d8e0f2a4b6c8d0e2f";
/// The subject of a real, signed Sigstore bundle among the samples (bazel-contrib's publish-to-bcr provenance).
const SIGNED: &str = "sha256:06ce330900a7d6403bc8d88e5dfad6aeeb8ae40179f66bb89e69c8bf6f6b1a0b";

fn signed_bundle() -> serde_json::Value {
    let text =
        std::fs::read_to_string(common::samples().join("in-toto/slsa-verifier-bcr-MODULE.bazel.intoto.jsonl")).unwrap();
    serde_json::from_str(text.lines().next().unwrap()).unwrap()
}

/// The demo organisation, its web-app tarball re-recorded with the digest of a real signed bundle that GitHub
/// answers for it, and its SBOM's attestation answered without an inline bundle.
fn collect(dir: &Path, trust: &TrustPolicy, runs: usize) -> (PathBuf, Vec<pipeproof::collect::github::CollectSummary>) {
    let bundle = signed_bundle();
    let cassette = common::demo_cassette(move |path, interaction| {
        if path == "/repos/acme-demo/web-app/releases?per_page=4" {
            interaction["body"][0]["assets"][0]["digest"] = SIGNED.into();
        } else if path == format!("/repos/acme-demo/web-app/attestations/{DEMO_TARBALL}?per_page=4") {
            interaction["path"] = format!("/repos/acme-demo/web-app/attestations/{SIGNED}?per_page=4").into();
            interaction["status"] = 200.into();
            interaction["body"] = serde_json::json!({"attestations": [{"bundle": bundle, "repository_id": 90210002}]});
        } else if path == format!("/repos/acme-demo/web-app/attestations/{DEMO_SBOM}?per_page=4") {
            interaction["status"] = 200.into();
            interaction["body"] = serde_json::json!({"attestations": [
                {"bundle_url": "https://example.invalid/bundles/1", "repository_id": 90210002}]});
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let path = dir.join("s.duckdb");
    let store = Store::open(&path).unwrap();
    let config = GithubConfig { per_page: 4, ..GithubConfig::for_org("acme-demo", &server.base_url()) };
    let summaries = (0..runs)
        .map(|_| pipeproof::collect::github::collect(&store, &config, Token::new("ghs_demo".into()), trust).unwrap())
        .collect();
    (path, summaries)
}

fn trusted() -> TrustPolicy {
    let root = common::samples().join("sigstore/gh-cli-trusted_root.json");
    TrustPolicy::load(Some(&root), &["https://github.com/bazel-contrib/*".to_string()]).unwrap()
}

fn last_month_evaluation(store: &Path) -> Evaluation {
    let now = pipeproof::time::now_utc();
    let period = format!("{}..{}", (now - Duration::days(30)).format("%Y-%m-%d"), now.format("%Y-%m-%d"));
    let scope = Scope::for_period(Period::parse(&period).unwrap(), None, now).unwrap();
    let catalogue = Catalogue::load(&[] as &[&Path]).unwrap();
    evaluate(store, &catalogue, &Config::default(), &scope).unwrap()
}

fn verdicts(evaluation: &Evaluation, control: &str) -> Vec<(String, String, String)> {
    let outcome = evaluation.outcomes.iter().find(|o| o.control_id == control).expect("the control ran");
    assert!(outcome.error.is_none(), "{control}: {:?}", outcome.error);
    outcome.results.iter().map(|r| (r.resource.clone(), r.status.as_str().to_string(), r.reason.clone())).collect()
}

fn query<T: duckdb::types::FromSql>(store: &Path, sql: &str) -> T {
    let conn = Store::open_read_only(store).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn release_assets_are_judged_by_the_attestations_github_holds_for_their_digests() {
    let dir = tempfile::tempdir().unwrap();
    let (store, summaries) = collect(dir.path(), &trusted(), 1);
    let summary = &summaries[0];
    // payments-api v2.3.0 and web-app v1.4.2 and its draft; legacy-tools' release is older than the window.
    assert_eq!((summary.releases, summary.attestations), (3, 1), "{summary:?}");
    assert_eq!(query::<i64>(&store, "SELECT count(*) FROM releases WHERE repo = 'acme-demo/legacy-tools'"), 0);
    assert_eq!(query::<i64>(&store, "SELECT count(*) FROM release_assets"), 3);

    let (verified, identity): (bool, String) = {
        let conn = Store::open_read_only(&store).unwrap();
        conn.query_row(
            &format!(
                "SELECT verified, signer_identity FROM attestations WHERE 'sha256:' || artifact_sha256 = '{SIGNED}'"
            ),
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
    };
    assert!(verified);
    assert!(identity.starts_with("https://github.com/bazel-contrib/"), "{identity}");

    // A 404 for a digest means GitHub holds none: seen, with nothing stored. A 403 on releases is not visible.
    let payments: String = query(
        &store,
        "SELECT state FROM api_coverage WHERE kind = 'github.attestations' AND subject LIKE 'acme-demo/payments-api@%'",
    );
    assert_eq!(payments, "visible");
    let hidden: String = query(
        &store,
        "SELECT reason FROM api_coverage WHERE kind = 'github.releases' AND subject = 'acme-demo/ml-pipeline'",
    );
    assert!(hidden.contains("HTTP 403") && hidden.contains("Contents: read"), "{hidden}");
    let watermarked: i64 = query(
        &store,
        "SELECT count(DISTINCT subject) FROM collection_watermarks WHERE kind = 'github.operating'
         AND subject IN ('acme-demo/web-app', 'acme-demo/payments-api', 'acme-demo/ml-pipeline')",
    );
    assert_eq!(watermarked, 2, "an absent attestation does not hold the window back; an unreadable listing does");

    let evaluation = last_month_evaluation(&store);
    let signed = verdicts(&evaluation, "ART-03");
    let find = |resource: &str| signed.iter().find(|(r, _, _)| r == resource).cloned().expect(resource);
    let (_, status, reason) = find("acme-demo/web-app v1.4.2 web-app-1.4.2.tar.gz");
    assert_eq!(status, "pass", "{reason}");
    assert!(reason.contains("https://slsa.dev/provenance/v1"), "{reason}");
    let (_, status, reason) = find("acme-demo/web-app v1.4.2 web-app-1.4.2.spdx.json");
    assert_eq!(status, "fail", "an entry without an inline bundle is never counted: {reason}");
    let (_, status, reason) = find("acme-demo/payments-api v2.3.0 payments-api-2.3.0.jar");
    assert_eq!((status.as_str(), reason.contains("No attestation")), ("fail", true), "{reason}");
    assert_eq!(signed.len(), 3, "draft releases are not judged: {signed:#?}");

    let immutable = verdicts(&evaluation, "ART-05");
    assert_eq!(immutable.len(), 2, "{immutable:#?}");
    assert!(immutable.iter().any(|(r, s, _)| r == "acme-demo/payments-api v2.3.0" && s == "pass"), "{immutable:#?}");
    assert!(immutable.iter().any(|(r, s, _)| r == "acme-demo/web-app v1.4.2" && s == "fail"), "{immutable:#?}");
    let sboms = verdicts(&evaluation, "BLD-12");
    assert!(sboms.iter().any(|(r, s, _)| r == "acme-demo/web-app v1.4.2" && s == "pass"), "{sboms:#?}");
    assert!(sboms.iter().any(|(r, s, _)| r == "acme-demo/payments-api v2.3.0" && s == "fail"), "{sboms:#?}");
}

#[test]
fn without_a_trusted_root_an_attestation_is_unknown_and_a_second_run_stores_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    let (store, summaries) = collect(dir.path(), &TrustPolicy::default(), 2);
    assert_eq!(summaries[1].releases, 0, "the second window starts after these releases: {:?}", summaries[1]);
    assert_eq!(query::<i64>(&store, "SELECT count(*) FROM releases_history"), 3);
    assert_eq!(query::<i64>(&store, "SELECT count(*) FROM attestations_history"), 1);

    let evaluation = last_month_evaluation(&store);
    let signed = verdicts(&evaluation, "ART-03");
    let (_, status, reason) =
        signed.iter().find(|(r, _, _)| r.ends_with("web-app-1.4.2.tar.gz")).cloned().expect("the tarball is judged");
    assert_eq!(status, "unknown", "{reason}");
    assert!(reason.contains("could not be verified offline"), "{reason}");
}
