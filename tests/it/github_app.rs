//! Collecting as a GitHub App installation: the JWT is signed with the app's key, exchanged for an installation
//! token, renewed before it expires, and none of the key, the JWT or the tokens is stored.

use crate::common;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::{KeyPair, UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use base64::Engine;
use pipeproof::collect::auth::{AppCredentials, Auth};
use pipeproof::collect::github::GithubConfig;
use pipeproof::collect::replay::{Cassette, ReplayServer};
use pipeproof::ingest::TrustPolicy;
use pipeproof::store::Store;

fn pem(der: &[u8]) -> String {
    let body = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<String> = body.as_bytes().chunks(64).map(|c| String::from_utf8_lossy(c).to_string()).collect();
    format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", lines.join("\n"))
}

#[test]
fn an_app_installation_token_is_obtained_renewed_and_never_stored() {
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der: aws_lc_rs::encoding::Pkcs8V1Der = key.as_der().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("app.pem");
    std::fs::write(&key_path, pem(der.as_ref())).unwrap();

    // The first token is about to expire (2 minutes left), so the next request renews it.
    let mut cassette = common::demo_cassette_edited(|_, _| {});
    let exchanges = serde_json::json!([
        { "method": "POST", "path": "/app/installations/77/access_tokens", "status": 201, "times": 1,
          "body": { "token": "ghs_firstINSTALLATIONtoken", "expires_at": "{days_ago:-0.0014}" } },
        { "method": "POST", "path": "/app/installations/77/access_tokens", "status": 201,
          "body": { "token": "ghs_secondINSTALLATIONtoken", "expires_at": "{days_ago:-0.04}" } }
    ]);
    let interactions = cassette["interactions"].as_array_mut().unwrap();
    for exchange in exchanges.as_array().unwrap().iter().rev() {
        interactions.insert(0, exchange.clone());
    }
    let cassette = Cassette::parse(&cassette.to_string(), "demo cassette with app tokens").unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let config = GithubConfig { per_page: 4, concurrency: 1, ..GithubConfig::for_org("acme-demo", &server.base_url()) };
    let credentials = AppCredentials::load("4242", 77, &key_path).unwrap();
    let summary =
        pipeproof::collect::github::collect(&store, &config, Auth::App(credentials), &TrustPolicy::default()).unwrap();
    assert_eq!(summary.repositories, 6);

    let received = server.received();
    let posts: Vec<_> = received.iter().filter(|r| r.method == "POST" && r.path.ends_with("/access_tokens")).collect();
    assert_eq!(posts.len(), 2, "one exchange, then one renewal before the first token expired");
    let jwt = posts[0].headers["authorization"].strip_prefix("Bearer ").unwrap().to_string();
    let parts: Vec<&str> = jwt.split('.').collect();
    let decode = |part: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&decode(parts[1])).unwrap();
    assert_eq!(claims["iss"], "4242");
    assert!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap() <= 600, "GitHub's 10-minute limit");
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref())
        .verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &decode(parts[2]))
        .expect("the JWT is signed with the app's key");

    let gets: Vec<&str> =
        received.iter().filter(|r| r.method == "GET").map(|r| r.headers["authorization"].as_str()).collect();
    assert_eq!(gets[0], "Bearer ghs_firstINSTALLATIONtoken");
    assert_eq!(gets.last().copied(), Some("Bearer ghs_secondINSTALLATIONtoken"));
    assert!(gets.iter().all(|auth| auth.starts_with("Bearer ghs_")), "the JWT is only used for the exchange");

    let count = |sql: &str| store.conn().query_row(sql, [], |row| row.get::<_, i64>(0)).unwrap();
    assert_eq!(
        count("SELECT count(DISTINCT (provenance->>'token_kind')) FROM evidence WHERE (provenance->>'token_kind') = 'GitHub App installation token'"),
        1
    );
    for secret in ["ghs_firstINSTALLATIONtoken", "ghs_secondINSTALLATIONtoken", parts[2]] {
        let leaked = count(&format!("SELECT count(*) FROM blobs WHERE contains(decode(body), '{secret}')"))
            + count(&format!("SELECT count(*) FROM evidence WHERE contains(provenance::VARCHAR, '{secret}')"));
        assert_eq!(leaked, 0, "never stored");
    }
}

#[test]
fn a_rejected_app_says_what_to_check_without_showing_the_jwt() {
    let key = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der: aws_lc_rs::encoding::Pkcs8V1Der = key.as_der().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("app.pem");
    std::fs::write(&key_path, pem(der.as_ref())).unwrap();
    let cassette = Cassette::parse(
        r#"{"interactions":[{"method":"POST","path":"/app/installations/77/access_tokens","status":401,
            "body":{"message":"A JSON web token could not be decoded"}}]}"#,
        "inline",
    )
    .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let store = Store::open(&dir.path().join("s.duckdb")).unwrap();
    let config = GithubConfig::for_org("acme-demo", &server.base_url());
    let error = pipeproof::collect::github::collect(
        &store,
        &config,
        Auth::App(AppCredentials::load("4242", 77, &key_path).unwrap()),
        &TrustPolicy::default(),
    )
    .unwrap_err();
    let message = format!("{error:#}");
    assert!(message.contains("HTTP 401") && message.contains("github.app.app_id"), "{message}");
    assert!(!message.contains("eyJ"), "no JWT in errors: {message}");
}
