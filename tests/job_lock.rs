//! One job at a time per store: a second job fails naming the holder, or waits with --wait; a job killed with
//! SIGKILL releases the store at once, and the next job finds it consistent.

mod common;

use std::time::Duration;

use common::{pipeproof, run_demo};
use pipeproof::collect::replay::ReplayServer;
use pipeproof::store::JobLock;

#[test]
fn a_second_job_fails_naming_the_holder_or_waits_for_it() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let held = JobLock::acquire(&store, "collect", Duration::ZERO).unwrap();

    let refused = pipeproof().arg("--store").arg(&store).arg("history").output().unwrap();
    assert_eq!(refused.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains(&format!("is locked by PID {} (pipeproof collect", std::process::id())), "{stderr}");
    assert!(stderr.contains("pass --wait"), "{stderr}");

    let release = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(800));
        drop(held);
    });
    let waited = pipeproof().arg("--store").arg(&store).args(["--wait", "30s", "history"]).output().unwrap();
    assert!(waited.status.success(), "{}", String::from_utf8_lossy(&waited.stderr));
    assert!(String::from_utf8_lossy(&waited.stderr).contains("waiting up to 30s"));
    release.join().unwrap();
}

#[test]
fn a_job_killed_mid_run_releases_the_store_and_the_next_run_recovers() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    // A collection that hangs on its first request, so it can be killed while holding the store.
    let cassette = common::demo_cassette(|_, interaction| interaction["delay_ms"] = serde_json::json!(60_000));
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(ReplayServer::start(cassette)).unwrap();
    let config = dir.path().join("fixtures/slow.yaml");
    std::fs::write(
        &config,
        format!("github:\n  org: acme-demo\n  api_url: {}\n  token_env: PIPEPROOF_LOCK_TOKEN\n", server.base_url()),
    )
    .unwrap();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pipeproof"))
        .env("PIPEPROOF_LOCK_TOKEN", "ghs_slow")
        .arg("--store")
        .arg(&store)
        .arg("--config")
        .arg(&config)
        .arg("collect")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock_file = dir.path().join("pipeproof-demo.duckdb.lock");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&lock_file).unwrap_or_default().is_empty() {
        assert!(std::time::Instant::now() < deadline, "the collect job never took the lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    let evaluated = pipeproof().arg("--store").arg(&store).arg("evaluate").output().unwrap();
    assert!(evaluated.status.success(), "{}", String::from_utf8_lossy(&evaluated.stderr));
    let history = pipeproof().arg("--store").arg(&store).args(["history", "--format", "json"]).output().unwrap();
    assert!(history.status.success());
    let conn = pipeproof::store::Store::open_read_only(&store).unwrap();
    let statuses: Vec<(String, String)> = conn
        .prepare("SELECT command, status FROM runs ORDER BY run_id")
        .unwrap()
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(
        statuses.iter().any(|(command, status)| command.starts_with("collect") && status == "failed"),
        "the killed collection is marked failed: {statuses:?}"
    );
    drop(server);
}
