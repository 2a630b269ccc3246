//! The REST client against the replay server: rate limits, retries, timeouts, empty answers, secrets.

use std::time::{Duration, Instant};

use pipeproof::collect::http::{ApiClient, Token};
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

#[test]
fn persistent_server_errors_give_up_with_a_clear_error_and_no_token() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 500, "body": { "message": "Server Error" } }
    ]));
    let error = format!("{:#}", s.get("/x").unwrap_err());
    assert!(error.contains("HTTP 500 after 3 attempts"), "{error}");
    assert!(!error.contains(TOKEN), "{error}");
    assert_eq!(s.server.received().len(), 3);
}

#[test]
fn a_wait_longer_than_the_run_accepts_is_an_error_saying_so() {
    let s = setup(serde_json::json!([
        { "path": "/x", "status": 429, "headers": { "retry-after": "3600" }, "body": { "message": "slow down" } }
    ]));
    let error = format!("{:#}", s.get("/x").unwrap_err());
    assert!(error.contains("wait 3600s") && error.contains("run again later"), "{error}");
    assert_eq!(s.server.received().len(), 1);
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
