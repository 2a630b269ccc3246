//! Release branches collected from the replay server: the branches matching `github.release_branches` are listed
//! per repository, their classic protection and rules read into `branch_rules` beside the default branch's, and
//! SRC-05, SRC-10 and SRC-12 judge them with it.

use crate::common;

use common::{evaluate_now, evaluated_verdict, store_texts};

use std::path::{Path, PathBuf};

use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{ReceivedRequest, ReplayServer};
use pipeproof::ingest::TrustPolicy;
use pipeproof::store::Store;

const TOKEN: &str = "ghs_release0123456789SECRET";

/// Collects the demo organisation `runs` times with release branches `release/*`, the cassette edited by `edit`;
/// returns the store's path, each run's summary and every request path the server received.
fn collect(
    dir: &Path,
    runs: usize,
    edit: impl Fn(&str, &mut serde_json::Value),
) -> (PathBuf, Vec<pipeproof::collect::github::CollectSummary>, Vec<ReceivedRequest>) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(edit))).unwrap();
    let path = dir.join("s.duckdb");
    let store = Store::open(&path).unwrap();
    let config = GithubConfig {
        per_page: 4,
        release_branches: vec!["release/*".into()],
        ..GithubConfig::for_org("acme-demo", &server.base_url())
    };
    let summaries = (0..runs)
        .map(|_| {
            pipeproof::collect::github::collect(&store, &config, Token::new(TOKEN.into()), &TrustPolicy::default())
                .unwrap()
        })
        .collect();
    (path, summaries, server.received())
}

#[test]
fn release_branches_are_protected_like_default_branches_and_judged_with_them() {
    let dir = tempfile::tempdir().unwrap();
    let (store, summaries, received) = collect(dir.path(), 2, |_, _| {});
    let paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();

    assert_eq!(
        store_texts(
            &store,
            "SELECT format('{} {} protected={} signatures={} force={}', repo, branch, protected, required_signatures, \
             allow_force_pushes) FROM branch_rules WHERE NOT is_default_branch ORDER BY repo, branch"
        ),
        [
            "acme-demo/payments-api release/2.2 protected=true signatures=true force=false",
            "acme-demo/payments-api release/2.3 protected=true signatures=true force=false",
            "acme-demo/web-app release/1.4 protected=false signatures=false force=true",
        ]
    );
    assert_eq!(
        store_texts(&store, "SELECT rule_source FROM branch_rules WHERE branch = 'release/2.3'"),
        ["classic + rulesets"],
        "classic protection and the rules on the branch merge into one effective row"
    );
    assert_eq!(
        store_texts(
            &store,
            "SELECT count(*)::VARCHAR FROM api_coverage WHERE kind = 'github.release_branches' AND state = 'visible'"
        ),
        ["6"]
    );
    assert_eq!(summaries[0].branches_visible, 5 + 3, "five default branches and three release branches readable");

    let listings = paths.iter().filter(|p| p.contains("/git/matching-refs/heads/release/")).count();
    assert_eq!(listings, 2 * 6, "one listing per repository per run");
    let protections = paths.iter().filter(|p| p.contains("/branches/release/") && p.ends_with("/protection"));
    assert_eq!(protections.count(), 2 * 3);
    assert_eq!(paths.iter().filter(|p| p.contains("/rules/branches/release/")).count(), 2 * 3);
    assert!(!paths.iter().any(|p| p.contains("base=release")), "pull requests are read for default branches only");
    let conditional = received
        .iter()
        .filter(|r| r.path.contains("/git/matching-refs/") && r.headers.contains_key("if-none-match"))
        .count();
    assert_eq!(conditional, 6, "the second run asks for each listing with its ETag");
    assert_eq!(
        store_texts(&store, "SELECT count(*)::VARCHAR FROM branch_rules WHERE NOT is_default_branch"),
        ["3"],
        "a second run stores nothing twice"
    );

    let evaluation = evaluate_now(&store);
    let (status, reason) = evaluated_verdict(&evaluation, "SRC-05", "acme-demo/web-app");
    assert_eq!(status, "fail");
    assert!(reason.contains("release/1.4") && !reason.contains("main"), "{reason}");
    let (status, reason) = evaluated_verdict(&evaluation, "SRC-12", "acme-demo/payments-api");
    assert_eq!(status, "pass", "{reason}");
    assert!(reason.contains("main (default), release/2.2, release/2.3"), "{reason}");
    let (status, reason) = evaluated_verdict(&evaluation, "SRC-10", "acme-demo/web-app");
    assert_eq!(status, "fail");
    assert!(reason.contains("release/1.4: not protected"), "{reason}");
    let (status, reason) = evaluated_verdict(&evaluation, "SRC-05", "acme-demo/infra-terraform");
    assert_eq!((status.as_str(), reason.contains("no release branches match")), ("pass", true), "{reason}");
}

#[test]
fn release_branches_the_token_cannot_list_or_read_make_unknown_never_pass() {
    let dir = tempfile::tempdir().unwrap();
    let (store, _, _) = collect(dir.path(), 1, |path, interaction| {
        let forbidden = serde_json::json!({"message": "Resource not accessible by integration"});
        if path.starts_with("/repos/acme-demo/infra-terraform/git/matching-refs/")
            || path == "/repos/acme-demo/payments-api/branches/release/2.2/protection"
        {
            interaction["status"] = 403.into();
            interaction["body"] = forbidden;
        }
    });
    let evaluation = evaluate_now(&store);
    let (status, reason) = evaluated_verdict(&evaluation, "SRC-05", "acme-demo/infra-terraform");
    assert_eq!(status, "unknown");
    assert!(reason.contains("could not be listed") && reason.contains("HTTP 403"), "{reason}");
    let (status, reason) = evaluated_verdict(&evaluation, "SRC-12", "acme-demo/payments-api");
    assert_eq!(status, "unknown");
    assert!(reason.starts_with("release/2.2: GitHub answered HTTP 403"), "{reason}");
    let leaked =
        store_texts(&store, "SELECT count(*)::VARCHAR FROM evidence WHERE provenance::VARCHAR LIKE '%SECRET%'");
    assert_eq!(leaked, ["0"], "the token is never in provenance");
}
