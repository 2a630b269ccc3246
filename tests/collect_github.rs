//! The GitHub collector over real HTTP against the replay server: headers, pagination, visibility, secrets.

mod common;

use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::config::GithubConfig;
use pipeproof::store::Store;

const TOKEN: &str = "ghs_0123456789abcdefSECRET";

fn config(base_url: String, per_page: u32) -> GithubConfig {
    GithubConfig { per_page, concurrency: 4, ..GithubConfig::for_org("acme-demo", &base_url) }
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn collects_org_repositories_and_protection_following_links() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
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

#[test]
fn an_unchanged_second_run_is_answered_304_and_reuses_stored_evidence() {
    let mut value = common::demo_cassette_edited(|_, _| {});
    let mut with_304 = Vec::new();
    for interaction in value["interactions"].as_array().unwrap() {
        if let Some(etag) = interaction["headers"]["etag"].as_str() {
            with_304.push(serde_json::json!({
                "path": interaction["path"], "status": 304, "if_none_match": etag,
                "headers": { "etag": etag, "x-ratelimit-remaining": "4999" }
            }));
        }
        with_304.push(interaction.clone());
    }
    value["interactions"] = serde_json::Value::Array(with_304);
    let cassette = Cassette::parse(&value.to_string(), "cassette with 304s").unwrap();

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let first =
        pipeproof::collect::github::collect(&store, &config(server.base_url(), 4), Token::new(TOKEN.into())).unwrap();
    assert_eq!(first.not_modified, 0);
    let blobs_after_first = count(&store, "SELECT count(*) FROM blobs");
    let requests_after_first = server.received().len();

    let second =
        pipeproof::collect::github::collect(&store, &config(server.base_url(), 4), Token::new(TOKEN.into())).unwrap();
    let second_requests: Vec<_> = server.received().into_iter().skip(requests_after_first).collect();
    let conditional = second_requests.iter().filter(|r| r.headers.contains_key("if-none-match")).count();
    assert_eq!(second.repositories, 6, "facts are rebuilt from the stored bodies");
    assert_eq!(second.not_modified, conditional);
    assert_eq!(second_requests.len(), requests_after_first, "the same requests, now conditional");
    assert_eq!(conditional, 6, "every answer that carried an ETag (org, two repo pages, three protected branches)");
    assert_eq!(count(&store, "SELECT count(*) FROM blobs"), blobs_after_first, "nothing stored twice");
    assert_eq!(
        count(&store, "SELECT count(*) FROM evidence WHERE run_id = 2 AND provenance->>'observed_unchanged' = 'true'"),
        second.not_modified as i64
    );
    assert_eq!(count(&store, "SELECT count(*) FROM repositories_history WHERE run_id = 2"), 6);
    assert_eq!(count(&store, "SELECT count(*) FROM branch_rules_history WHERE run_id = 2 AND NOT visible"), 1);
}

#[test]
fn protection_is_fetched_concurrently_within_the_limit_and_stored_in_order() {
    let cassette = common::demo_cassette(|path, interaction| {
        if path.ends_with("/protection") {
            interaction["delay_ms"] = serde_json::json!(600);
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let mut limited = config(server.base_url(), 4);
    limited.concurrency = 3;
    pipeproof::collect::github::collect(&store, &limited, Token::new(TOKEN.into())).unwrap();
    assert_eq!(server.most_in_flight(), 3, "the limit is used and never exceeded");
    let mut statement = store.conn().prepare("SELECT repo FROM branch_rules_history ORDER BY evidence_id").unwrap();
    let repos: Vec<String> = statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect();
    assert_eq!(repos.len(), 6);
    assert_eq!(repos[0], "acme-demo/payments-api", "stored in listing order, whatever order the answers came in");
}

#[test]
fn the_scope_limits_facts_and_requests_but_keeps_the_listing_whole() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(common::demo_cassette(|_, _| {}))).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let scoped = GithubConfig {
        include: vec!["acme-demo/*".into()],
        exclude: vec!["docs-*".into()],
        archived: false,
        ..config(server.base_url(), 4)
    };
    let summary = pipeproof::collect::github::collect(&store, &scoped, Token::new(TOKEN.into())).unwrap();
    assert_eq!(summary.repositories, 4, "docs-site excluded, legacy-tools archived");
    assert_eq!(summary.out_of_scope, 2);
    let asked: Vec<String> =
        server.received().into_iter().map(|r| r.path).filter(|p| p.ends_with("/protection")).collect();
    assert_eq!(asked.len(), 4);
    assert!(!asked.iter().any(|p| p.contains("docs-site") || p.contains("legacy-tools")), "{asked:?}");
    assert_eq!(
        count(&store, "SELECT count(*) FROM evidence WHERE kind = 'github.repos'"),
        2,
        "both listing pages kept"
    );
}
