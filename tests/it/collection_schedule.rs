//! Each finished collection leaves its manifest as evidence and a `collection_runs` row; GOV-01 reads them to say
//! whether collection ran on schedule over the period.

use crate::common;

use std::path::Path;

use chrono::Duration;
use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::http::Token;
use pipeproof::collect::replay::ReplayServer;
use pipeproof::config::Config;
use pipeproof::controls::Catalogue;
use pipeproof::evaluate::{evaluate, Scope};
use pipeproof::ingest::TrustPolicy;
use pipeproof::store::Store;

fn gov_01(store: &Path, scope: &Scope) -> (String, String) {
    let evaluation = evaluate(store, &Catalogue::load(&[] as &[&Path]).unwrap(), &Config::default(), scope).unwrap();
    let outcome = evaluation.outcomes.iter().find(|o| o.control_id == "GOV-01").unwrap();
    assert!(outcome.error.is_none(), "{:?}", outcome.error);
    let result = outcome.results.iter().find(|r| r.resource == "acme-demo").expect("the organisation is judged");
    (result.status.as_str().to_string(), result.reason.clone())
}

#[test]
fn every_collection_leaves_a_manifest_and_gov_01_sees_the_gaps_between_them() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.duckdb");
    let store = Store::open(&path).unwrap();
    let config = GithubConfig { per_page: 4, ..GithubConfig::for_org("acme-demo", &server.base_url()) };
    for _ in 0..2 {
        pipeproof::collect::github::collect(&store, &config, Token::new("ghs_demo".into()), &TrustPolicy::default())
            .unwrap();
    }
    let row: (i64, i64, i64, String) = store
        .conn()
        .query_row(
            "SELECT count(*), max(repositories), max(not_visible), string_agg(DISTINCT source) FROM collection_runs",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
        )
        .unwrap();
    assert_eq!((row.0, row.1, row.3.as_str()), (2, 6, "github"), "one row per finished collection");
    assert!(row.2 > 0, "what the token could not see is counted");
    let manifest: String = store
        .conn()
        .query_row(
            "SELECT decode(b.body) FROM evidence e JOIN blobs b USING (sha256) \
             WHERE e.kind = 'pipeproof.collection' ORDER BY e.run_id LIMIT 1",
            [],
            |row| row.get(0),
        )
        .unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&manifest).unwrap();
    assert_eq!(manifest["organisation"], "acme-demo");
    assert_eq!(manifest["summary"]["repositories"], 6);
    assert!(!manifest.to_string().contains("ghs_demo"), "never the token");
    drop(store);

    let now = pipeproof::time::now_utc();
    let (status, reason) = gov_01(&path, &Scope::at(now));
    assert_eq!(status, "pass", "{reason}");
    assert!(reason.starts_with("2 collection(s)"), "{reason}");
    let (status, reason) = gov_01(&path, &Scope::at(now + Duration::days(10)));
    assert_eq!(status, "fail", "ten days without a collection: {reason}");
    assert!(reason.contains("longest stretch without one: 10.0 days"), "{reason}");
}
