//! The REST client against the replay server: rate limits, retries, timeouts, empty answers, secrets.

use std::time::{Duration, Instant};

use pipeproof::collect::http::{ApiClient, ApiResponse, Token, UNANSWERED};
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::collect::retry::RetryPolicy;

const TOKEN: &str = "ghp_0123456789SECRETSECRET";

fn fast_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 3,
        base_backoff: Duration::from_millis(20),
        secondary_wait: Duration::from_millis(300),
        max_wait: Duration::from_secs(10),
        request_timeout: Duration::from_millis(700),
    }
}

struct Setup {
    runtime: tokio::runtime::Runtime,
    server: ReplayServer,
    client: ApiClient,
}

fn setup(interactions: serde_json::Value) -> Setup {
    let cassette = Cassette::parse(&serde_json::json!({ "interactions": interactions }).to_string(), "test").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let client = ApiClient::with_policy(&server.base_url(), Token::new(TOKEN.into()), fast_policy()).unwrap();
    Setup { runtime, server, client }
}

impl Setup {
    fn get(&self, path: &str) -> anyhow::Result<pipeproof::collect::http::ApiResponse> {
        self.runtime.block_on(self.client.get(&self.client.url(path), 1))
    }
}

#[test]
fn a_bad_gateway_is_retried_until_it_answers() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 502, "times": 1, "body": { "message": "Bad Gateway" } },
        { "path": "/x", "status": 200, "body": { "ok": true } }
    ]));
    let response = s.get("/x").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(s.server.received().len(), 2);
}

#[test]
fn retry_after_is_honoured() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 429, "times": 1, "headers": { "retry-after": "1" }, "body": { "message": "slow down" } },
        { "path": "/x", "status": 200, "body": { "ok": true } }
    ]));
    let started = Instant::now();
    assert_eq!(s.get("/x").unwrap().status, 200);
    assert!(started.elapsed() >= Duration::from_millis(950), "waited {:?}", started.elapsed());
    assert_eq!(s.server.received().len(), 2);
}

#[test]
fn an_exhausted_primary_limit_waits_for_its_reset() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 403, "times": 1,
          "headers": { "x-ratelimit-remaining": "0", "x-ratelimit-reset": "{now+2}" },
          "body": { "message": "API rate limit exceeded for installation" } },
        { "path": "/x", "status": 200, "headers": { "x-ratelimit-remaining": "4999" }, "body": { "ok": true } }
    ]));
    let started = Instant::now();
    let response = s.get("/x").unwrap();
    assert_eq!(response.status, 200);
    assert_eq!(response.rate_limit_remaining, Some(4999));
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
}

#[test]
fn a_secondary_limit_without_headers_waits_the_minimum() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 403, "times": 1, "body": { "message": "You have exceeded a secondary rate limit." } },
        { "path": "/x", "status": 200, "body": { "ok": true } }
    ]));
    let started = Instant::now();
    assert_eq!(s.get("/x").unwrap().status, 200);
    assert!(started.elapsed() >= Duration::from_millis(280), "waited {:?}", started.elapsed());
}

#[test]
fn a_forbidden_answer_that_is_not_a_rate_limit_is_returned_at_once() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 403, "headers": { "x-ratelimit-remaining": "4000" }, "body": { "message": "Resource not accessible by integration" } }
    ]));
    assert_eq!(s.get("/x").unwrap().status, 403);
    assert_eq!(s.server.received().len(), 1);
}

#[test]
fn a_timeout_is_retried() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 200, "times": 1, "delay_ms": 2000, "body": { "late": true } },
        { "path": "/x", "status": 200, "body": { "ok": true } }
    ]));
    let response = s.get("/x").unwrap();
    assert_eq!(response.json().unwrap()["ok"], true);
    assert_eq!(s.server.received().len(), 2);
}

/// The reason an unanswered response gives (and that it is one).
fn unanswered(response: &ApiResponse) -> String {
    assert_eq!(response.status, UNANSWERED, "expected no usable answer, got HTTP {}", response.status);
    let why = response.error_message().unwrap();
    assert!(!why.contains(TOKEN) && !String::from_utf8_lossy(&response.body).contains(TOKEN));
    why
}

#[test]
fn persistent_server_errors_give_up_with_a_clear_reason_and_no_token() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 500, "body": { "message": "Server Error" } }
    ]));
    let why = unanswered(&s.get("/x").unwrap());
    assert!(why.contains("HTTP 500, still after 3 attempts"), "{why}");
    assert_eq!(s.server.received().len(), 3);
}

#[test]
fn a_wait_longer_than_the_run_accepts_is_incomplete_and_says_when_to_come_back() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 429, "headers": { "retry-after": "3600" }, "body": { "message": "slow down" } }
    ]));
    let why = unanswered(&s.get("/x").unwrap());
    assert!(why.contains("wait 3600s") && why.contains("collect again after"), "{why}");
    assert_eq!(s.server.received().len(), 1);
}

#[test]
fn a_persistent_rate_limit_is_never_a_permission_verdict() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 429, "headers": { "retry-after": "0" }, "body": { "message": "slow down" } },
        { "path": "/y", "status": 403, "body": { "message": "You have exceeded a secondary rate limit." } }
    ]));
    for path in ["/x", "/y"] {
        let response = s.get(path).unwrap();
        let why = unanswered(&response);
        assert!(why.contains("not a permission verdict"), "{why}");
        let seen = pipeproof::collect::github::coverage::judge("github.members", "read:org", false, &[response]);
        assert!(matches!(seen, pipeproof::collect::github::coverage::Seen::Incomplete(_)), "{seen:?}");
    }
}

/// Starts a second server ("elsewhere") and a first whose cassette can point at it.
fn two_servers(elsewhere: serde_json::Value, first: impl Fn(&str) -> serde_json::Value) -> (Setup, ReplayServer) {
    let cassette = Cassette::parse(&serde_json::json!({ "interactions": elsewhere }).to_string(), "b").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let other = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let cassette = Cassette::parse(&serde_json::json!({ "interactions": first(&other.base_url()) }).to_string(), "a");
    let server = runtime.block_on(ReplayServer::start(cassette.unwrap())).unwrap();
    let client = ApiClient::with_policy(&server.base_url(), Token::new(TOKEN.into()), fast_policy()).unwrap();
    (Setup { runtime, server, client }, other)
}

#[test]
fn a_link_to_another_origin_is_not_followed_and_the_listing_is_incomplete() {
    let (s, other) = two_servers(
        serde_json::json!([{ "path": "/steal*", "status": 200, "body": [{"id": 666}] }]),
        |b| {
            serde_json::json!([{ "path": "/list", "status": 200, "headers": { "link": format!("<{b}/steal?page=2>; rel=\"next\"") },
                              "body": [{"id": 1}] }])
        },
    );
    let pages = s.runtime.block_on(s.client.get_all_pages("/list")).unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].status, 200);
    assert!(unanswered(&pages[1]).contains("off the API origin"));
    assert!(other.received().is_empty(), "nothing, and no token, went to the other origin");
}

#[test]
fn a_redirect_off_the_origin_is_not_followed_even_when_it_would_come_back() {
    let (s, other) = two_servers(
        serde_json::json!([{ "path": "/bounce", "status": 302, "headers": { "location": "{base}/../x" } }]),
        |b| {
            serde_json::json!([
                { "path": "/x", "status": 302, "headers": { "location": format!("{b}/bounce") } },
                { "path": "/moved", "status": 301, "headers": { "location": "{base}/here" } },
                { "path": "/here", "status": 200, "body": { "ok": true } }
            ])
        },
    );
    let why = unanswered(&s.get("/x").unwrap());
    assert!(why.contains("redirected (HTTP 302)") && why.contains("not followed"), "{why}");
    assert!(other.received().is_empty(), "the other origin was never asked");
    let moved = s.get("/moved").unwrap();
    assert_eq!(moved.json().unwrap()["ok"], true, "a redirect within the origin is followed");
    let here = s.server.received().into_iter().find(|r| r.path == "/here").unwrap();
    assert_eq!(here.headers["authorization"], format!("Bearer {TOKEN}"));
}

#[test]
fn a_link_that_loops_or_never_ends_is_cut_and_incomplete() {
    let s = setup(serde_json::json!([
        { "path": "/self", "status": 200, "headers": { "link": "<{base}/self>; rel=\"next\"" }, "body": [1] },
        { "path": "/a", "status": 200, "headers": { "link": "<{base}/b>; rel=\"next\"" }, "body": [1] },
        { "path": "/b", "status": 200, "headers": { "link": "<{base}/a>; rel=\"next\"" }, "body": [2] }
    ]));
    let pages = s.runtime.block_on(s.client.get_all_pages("/self")).unwrap();
    assert_eq!(pages.len(), 2);
    assert!(unanswered(&pages[1]).contains("loops"));
    let pages = s.runtime.block_on(s.client.get_all_pages("/a")).unwrap();
    assert_eq!(pages.iter().map(|p| p.status).collect::<Vec<_>>(), [200, 200, UNANSWERED]);
    assert_eq!(s.server.received().len(), 3, "one request for the self-loop, two for the pair");

    let endless: Vec<serde_json::Value> = (1..=50)
        .map(|n| serde_json::json!({ "path": format!("/p{n}"), "status": 200,
                                     "headers": { "link": format!("<{{base}}/p{}>; rel=\"next\"", n + 1) }, "body": [n] }))
        .collect();
    let s = setup(serde_json::Value::Array(endless));
    let client = ApiClient::with_policy(&s.server.base_url(), Token::new(TOKEN.into()), fast_policy())
        .unwrap()
        .with_max_pages(5);
    let pages = s.runtime.block_on(client.get_all_pages("/p1")).unwrap();
    assert_eq!(pages.len(), 6);
    assert!(unanswered(&pages[5]).contains("more than 5 pages (github.max_pages)"));
    assert_eq!(s.server.received().len(), 5);
}

#[test]
fn an_answer_that_is_not_json_is_retried_then_incomplete() {
    let s = setup(serde_json::json!([{ "path": "/x", "status": 200, "body": "<html>login</html>" }]));
    let response = s.get("/x").unwrap();
    assert_eq!(response.status, 200, "a JSON string is JSON");
    let s = setup(serde_json::json!([{ "path": "/x", "status": 200, "headers": {"content-type": "text/html"} }]));
    assert!(unanswered(&s.get("/x").unwrap()).contains("not JSON"));
    assert_eq!(s.server.received().len(), 3);
}

#[test]
fn an_answer_larger_than_the_cap_is_refused() {
    let huge = "x".repeat(pipeproof::collect::http::MAX_ANSWER_BYTES + 10);
    let s = setup(serde_json::json!([{ "path": "/x", "status": 200, "body": huge }]));
    let patient = RetryPolicy { request_timeout: Duration::from_secs(60), ..fast_policy() };
    let client = ApiClient::with_policy(&s.server.base_url(), Token::new(TOKEN.into()), patient).unwrap();
    let why = unanswered(&s.runtime.block_on(client.get(&client.url("/x"), 1)).unwrap());
    assert_eq!(s.server.received().len(), 1, "not asked again");
    assert!(why.contains("larger than 64 MiB"), "{why}");
}

#[test]
fn no_content_reads_as_an_empty_list_and_provenance_names_the_token_kind() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 204, "headers": { "x-oauth-scopes": "repo, read:org" } }
    ]));
    let response = s.get("/x").unwrap();
    assert_eq!(response.json().unwrap(), serde_json::json!([]));
    let provenance = response.provenance(Some(true)).to_string();
    assert!(provenance.contains("classic personal access token"), "{provenance}");
    assert!(provenance.contains("repo, read:org"), "{provenance}");
    assert!(!provenance.contains(TOKEN));
}

#[test]
fn a_connection_dropped_mid_body_is_retried() {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        for (index, stream) in listener.incoming().take(2).enumerate() {
            let mut stream = stream.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request);
            if index == 0 {
                stream
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{\"trunc",
                    )
                    .unwrap();
            } else {
                stream
                    .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\nconnection: close\r\n\r\n{\"ok\":true}")
                    .unwrap();
            }
        }
    });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = ApiClient::with_policy(&format!("http://{address}"), Token::new(TOKEN.into()), fast_policy()).unwrap();
    let response = runtime.block_on(client.get(&client.url("/x"), 1)).unwrap();
    assert_eq!(response.json().unwrap()["ok"], true);
    server.join().unwrap();
}
