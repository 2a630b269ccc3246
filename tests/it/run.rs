//! `pipeproof run`: the scheduled job, end to end against the replay server.

use crate::common;

use common::pipeproof;
use pipeproof::collect::replay::{Cassette, ReplayServer};

fn cassette(force_pushes_on_payments: bool) -> Cassette {
    common::demo_cassette(|path, interaction| {
        if path == "/repos/acme-demo/payments-api/branches/main/protection" {
            interaction["body"]["allow_force_pushes"]["enabled"] = serde_json::json!(force_pushes_on_payments);
        }
    })
}

#[test]
fn a_nightly_run_passes_when_nothing_regressed_and_fails_when_something_did() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let nightly = |cassette: Cassette, output: &str| {
        let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
        let config = dir.path().join("fixtures/nightly.yaml");
        std::fs::write(
            &config,
            format!(
                "organisation: Acme Demo Ltd\ngithub:\n  org: acme-demo\n  api_url: {}\n  token_env: PIPEPROOF_RUN_TOKEN\n  per_page: 4\n",
                server.base_url()
            ),
        )
        .unwrap();
        let result = pipeproof()
            .env("PIPEPROOF_RUN_TOKEN", "ghs_nightly")
            .args(["--log-format", "json"])
            .arg("--store")
            .arg(&store)
            .arg("--config")
            .arg(&config)
            .args(["run", "--output"])
            .arg(dir.path().join(output))
            .output()
            .unwrap();
        drop(server);
        result
    };

    let quiet = nightly(cassette(false), "night-1");
    let stdout = String::from_utf8_lossy(&quiet.stdout);
    assert_eq!(quiet.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("drift from evaluation #1") && stdout.contains("to #2"), "{stdout}");
    for line in String::from_utf8_lossy(&quiet.stderr).lines().filter(|l| !l.trim().is_empty()) {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(entry["level"].is_string());
    }
    assert!(dir.path().join("night-1/report.pdf").exists());

    let broken = nightly(cassette(true), "night-2");
    let stdout = String::from_utf8_lossy(&broken.stdout);
    assert_eq!(broken.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("SRC-10   acme-demo/payments-api"), "{stdout}");
    assert!(String::from_utf8_lossy(&broken.stderr).contains("regression since evaluation #2"));
}

#[test]
fn a_run_with_a_bundle_section_writes_a_signed_bundle_chained_to_the_last_one() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let fixtures = dir.path().join("fixtures");
    pipeproof().args(["keygen", "--no-password", "--output"]).arg(fixtures.join("run.key")).assert().success();
    let config = fixtures.join("nightly.yaml");
    std::fs::write(&config, "organisation: Acme Demo Ltd\nbundle:\n  sign: run.key\n").unwrap();
    let output = dir.path().join("nightly");
    let run = || {
        pipeproof()
            .arg("--store")
            .arg(&store)
            .arg("--config")
            .arg(&config)
            .args(["run", "--no-collect", "--output"])
            .arg(&output)
            .assert()
            .success();
        let mut archive = zip::ZipArchive::new(std::fs::File::open(output.join("bundle.zip")).unwrap()).unwrap();
        let manifest: serde_json::Value = serde_json::from_reader(archive.by_name("manifest.json").unwrap()).unwrap();
        manifest
    };
    let first = run();
    assert!(first["previous_root_hash"].is_null());
    let second = run();
    assert_eq!(second["previous_root_hash"], first["root_hash"], "each night's bundle chains to the one it replaces");
    let verified = pipeproof()
        .arg("verify")
        .arg(output.join("bundle.zip"))
        .arg("--pubkey")
        .arg(fixtures.join("run.key.pub"))
        .output()
        .unwrap();
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
    assert!(String::from_utf8_lossy(&verified.stdout).contains("signature: VERIFIED"));
}
