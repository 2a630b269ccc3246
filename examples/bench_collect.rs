//! Benchmark: collect a synthetic 1,000-repository organisation from the local replay server, twice.
//! Prints requests per repository, the share answered 304 on the unchanged second run, and wall time.
//! Run with `just bench` (dev profile, like the tests, so DuckDB is not rebuilt for release).

use std::time::Instant;

use pipeproof::collect::http::Token;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::config::GithubConfig;
use pipeproof::store::Store;

const REPOS: usize = 1_000;
const PER_PAGE: usize = 100;

fn interaction(
    path: String,
    status: u16,
    body: serde_json::Value,
    etag: Option<String>,
    link: Option<String>,
) -> Vec<serde_json::Value> {
    let mut headers = serde_json::Map::new();
    if let Some(link) = link {
        headers.insert("link".into(), link.into());
    }
    let mut answers = Vec::new();
    if let Some(etag) = etag {
        headers.insert("etag".into(), etag.clone().into());
        answers.push(
            serde_json::json!({ "path": path, "status": 304, "if_none_match": etag, "headers": { "etag": etag } }),
        );
    }
    answers.push(serde_json::json!({ "path": path, "status": status, "headers": headers, "body": body }));
    answers
}

fn synthetic_org() -> Cassette {
    let mut interactions = Vec::new();
    interactions.extend(interaction(
        "/orgs/bench".into(),
        200,
        serde_json::json!({ "login": "bench", "two_factor_requirement_enabled": true, "default_repository_permission": "read",
                            "members_can_create_repositories": false, "public_repos": REPOS, "total_private_repos": 0 }),
        Some("W/\"org\"".into()),
        None,
    ));
    let pages = REPOS / PER_PAGE;
    for page in 1..=pages {
        let repos: Vec<serde_json::Value> = ((page - 1) * PER_PAGE..page * PER_PAGE)
            .map(|i| serde_json::json!({ "full_name": format!("bench/repo-{i:04}"), "default_branch": "main", "archived": false,
                                         "visibility": "private", "fork": false, "pushed_at": "2026-11-01T10:00:00Z" }))
            .collect();
        let path = if page == 1 {
            format!("/orgs/bench/repos?type=all&per_page={PER_PAGE}")
        } else {
            format!("/organizations/1/repos?type=all&per_page={PER_PAGE}&page={page}")
        };
        let link = (page < pages).then(|| {
            format!("<{{base}}/organizations/1/repos?type=all&per_page={PER_PAGE}&page={}>; rel=\"next\"", page + 1)
        });
        interactions.extend(interaction(
            path,
            200,
            serde_json::Value::Array(repos),
            Some(format!("W/\"page-{page}\"")),
            link,
        ));
    }
    for i in 0..REPOS {
        let path = format!("/repos/bench/repo-{i:04}/branches/main/protection");
        match i % 10 {
            0..=5 => interactions.extend(interaction(
                path,
                200,
                serde_json::json!({ "required_pull_request_reviews": { "required_approving_review_count": 1 },
                                    "enforce_admins": { "enabled": i % 2 == 0 }, "allow_force_pushes": { "enabled": false } }),
                Some(format!("W/\"p-{i}\"")),
                None,
            )),
            6..=8 => interactions.extend(interaction(path, 404, serde_json::json!({ "message": "Branch not protected" }), None, None)),
            _ => interactions.extend(interaction(path, 403, serde_json::json!({ "message": "Resource not accessible by integration" }), None, None)),
        }
    }
    Cassette::parse(&serde_json::json!({ "interactions": interactions }).to_string(), "synthetic")
        .expect("valid cassette")
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    let server = runtime.block_on(ReplayServer::start(synthetic_org()))?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("bench.duckdb"))?;
    let config = GithubConfig { per_page: PER_PAGE as u32, ..GithubConfig::for_org("bench", &server.base_url()) };
    println!("synthetic organisation: {REPOS} repositories (60 % protected, 30 % unprotected, 10 % not visible); concurrency {}", config.concurrency);

    let started = Instant::now();
    let first = pipeproof::collect::github::collect(&store, &config, Token::new("ghs_bench".into()))?;
    let first_time = started.elapsed();
    let first_requests = server.received().len();
    println!(
        "first run:  {first_requests} requests ({:.2} per repository), {:.2} s, {} repositories stored",
        first_requests as f64 / REPOS as f64,
        first_time.as_secs_f64(),
        first.repositories
    );

    let started = Instant::now();
    let second = pipeproof::collect::github::collect(&store, &config, Token::new("ghs_bench".into()))?;
    let second_time = started.elapsed();
    let second_requests = server.received().len() - first_requests;
    println!(
        "second run: {second_requests} requests, {} answered 304 ({:.1} %: every answer that carried an ETag), {:.2} s",
        second.not_modified,
        second.not_modified as f64 * 100.0 / second_requests as f64,
        second_time.as_secs_f64()
    );
    println!("peak requests in flight: {}", server.most_in_flight());
    Ok(())
}
