//! The GitHub collector over real HTTP against the replay server: headers, pagination, visibility, secrets.

mod common;

use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::config::GithubConfig;
use pipeproof::store::Store;

const TOKEN: &str = "ghs_0123456789abcdefSECRET";

fn demo_cassette() -> Cassette {
    let path = common::demo_fixtures().join("github/cassette.json");
    Cassette::parse(&std::fs::read_to_string(&path).unwrap(), "cassette").unwrap()
}

fn config(base_url: String, per_page: u32) -> GithubConfig {
    GithubConfig { org: "acme-demo".into(), api_url: base_url, token_env: "UNUSED".into(), per_page }
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn collects_org_repositories_and_protection_following_links() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(demo_cassette())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();

    let summary =
        pipeproof::collect::github::collect(&store, &config(server.base_url(), 4), Token::new(TOKEN.into())).unwrap();
    assert_eq!(summary.repositories, 6);
    assert_eq!(summary.branches_visible, 5);
    assert_eq!(summary.branches_not_visible, 1);

    let received = server.received();
    let paths: Vec<&str> = received.iter().map(|r| r.path.as_str()).collect();
    assert!(
        paths.contains(&"/organizations/90210001/repos?type=all&per_page=4&page=2"),
        "next link followed verbatim: {paths:?}"
    );
    for request in &received {
        assert_eq!(request.headers.get("x-github-api-version").map(String::as_str), Some("2022-11-28"));
        assert_eq!(request.headers.get("authorization").map(String::as_str), Some(format!("Bearer {TOKEN}").as_str()));
        assert!(request.headers["accept"].contains("application/vnd.github+json"));
        assert!(!request.path.contains(TOKEN));
    }

    assert_eq!(count(&store, "SELECT count(*) FROM repositories_history"), 6);
    assert_eq!(count(&store, "SELECT count(*) FROM branch_rules_history WHERE NOT visible"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM branch_rules_history WHERE visible AND NOT protected"), 2);
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM evidence WHERE kind = 'github.repos' AND provenance->>'pagination_complete' = 'true'"
        ),
        1
    );
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE status = 'succeeded'"), 1);
    let leaked = count(&store, &format!("SELECT count(*) FROM blobs WHERE contains(decode(body), '{TOKEN}')"))
        + count(&store, &format!("SELECT count(*) FROM evidence WHERE contains(provenance::VARCHAR, '{TOKEN}')"));
    assert_eq!(leaked, 0, "the token is never stored");
}

#[test]
fn a_rejected_token_fails_the_run_without_storing_or_leaking() {
    let cassette = Cassette::parse(
        r#"{"interactions":[{"path":"/orgs/acme-demo","status":401,"body":{"message":"Bad credentials"}}]}"#,
        "inline",
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let error = pipeproof::collect::github::collect(&store, &config(server.base_url(), 100), Token::new(TOKEN.into()))
        .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("HTTP 401"), "{message}");
    assert!(!message.contains(TOKEN), "{message}");
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE status = 'failed'"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM evidence"), 0);
}
