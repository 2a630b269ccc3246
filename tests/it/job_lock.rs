//! One job at a time per store: a second job fails naming the holder, or waits with --wait; a job killed with
//! SIGKILL releases the store at once, and the next job finds it consistent.

use crate::common;

use std::time::Duration;

use common::{pipeproof, run_demo};
use pipeproof::collect::replay::ReplayServer;
use pipeproof::store::JobLock;

/// Starts `pipeproof --store STORE ARGS…`, waits until it holds the store's job lock, lets it work for `after`, and
/// kills it with SIGKILL.
fn kill_once_it_holds_the_store(store: &std::path::Path, args: &[&str], after: Duration) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pipeproof"))
        .env("PIPEPROOF_LOCK_TOKEN", "ghs_slow")
        .arg("--store")
        .arg(store)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock_file = std::path::PathBuf::from(format!("{}.lock", store.display()));
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&lock_file).unwrap_or_default().is_empty() {
        assert!(std::time::Instant::now() < deadline, "{args:?} never took the store's lock");
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

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
fn reading_a_store_that_does_not_exist_leaves_no_lock_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("absent.duckdb");
    let output = pipeproof().arg("--store").arg(&store).arg("history").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("does not exist"));
    assert!(!dir.path().join("absent.duckdb.lock").exists());
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
    let config_arg = config.display().to_string();
    kill_once_it_logs(
        &store,
        &["--config", &config_arg, "collect"],
        "collecting acme-demo as run",
        Duration::from_millis(300),
    );

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

#[test]
fn an_evaluation_killed_mid_query_leaves_no_partial_evaluation_behind() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let slow = dir.path().join("slow-controls");
    std::fs::create_dir_all(&slow).unwrap();
    std::fs::write(
        slow.join("SLOW-01.yaml"),
        "id: SLOW-01\ntitle: slow\ndomain: governance\nkind: state\nseverity: low\nstatement: s\nrationale: r\n\
         remediation: m\nrequires: [repositories]\nquery: |\n  SELECT sum(a.range * b.range)::VARCHAR AS resource, 'pass' AS status, \
         '' AS reason, NULL AS evidence_id FROM range(100000000) a, range(100000000) b\n",
    )
    .unwrap();
    let slow_arg = slow.display().to_string();
    kill_once_it_holds_the_store(&store, &["evaluate", "--controls", &slow_arg], Duration::from_millis(1500));

    let evaluations = |store: &std::path::Path| -> i64 {
        let conn = pipeproof::store::Store::open_read_only(store).unwrap();
        conn.query_row("SELECT count(*) FROM evaluations", [], |row| row.get(0)).unwrap()
    };
    assert_eq!(evaluations(&store), 1, "nothing of the killed evaluation was stored");
    let again = pipeproof().arg("--store").arg(&store).arg("evaluate").output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(evaluations(&store), 2);
    let conn = pipeproof::store::Store::open_read_only(&store).unwrap();
    // Control queries run before the evaluation's run is recorded; a kill there leaves no trace but the lock file.
    let running: i64 =
        conn.query_row("SELECT count(*) FROM runs WHERE status = 'running'", [], |row| row.get(0)).unwrap();
    assert_eq!(running, 0, "no run is left looking alive");
    let succeeded: i64 = conn
        .query_row("SELECT count(*) FROM runs WHERE command = 'evaluate' AND status = 'succeeded'", [], |row| {
            row.get(0)
        })
        .unwrap();
    assert_eq!(succeeded, 2, "the demo's evaluation and the one after the kill");
}

/// A JSON Lines GitHub audit log of `events` events, about 250 bytes each.
fn write_audit_log(path: &std::path::Path, events: usize) {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..events {
        writeln!(
            out,
            "{{\"@timestamp\":{},\"_document_id\":\"doc-{i:09}\",\"action\":\"repo.access\",\"actor\":\"user{}\",\
             \"org\":\"acme\",\"repo\":\"acme/repo-{}\",\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64)\"}}",
            1_719_792_000_000i64 + i as i64,
            i % 97,
            i % 500
        )
        .unwrap();
    }
}

#[test]
fn an_ingest_killed_at_any_point_stores_nothing_and_the_next_one_stores_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    write_audit_log(&log, 400_000);
    let store = dir.path().join("store.duckdb");
    let log_arg = log.display().to_string();
    let first = common::samples().join("trivy-json/trivy-alpine-310.json");
    assert!(pipeproof().arg("--store").arg(&store).arg("ingest").arg(first).output().unwrap().status.success());
    let events = |store: &std::path::Path| -> (i64, i64) {
        let conn = pipeproof::store::Store::open_read_only(store).unwrap();
        let events = conn.query_row("SELECT count(*) FROM audit_events_history", [], |row| row.get(0)).unwrap();
        let evidence = conn.query_row("SELECT count(*) FROM evidence", [], |row| row.get(0)).unwrap();
        (events, evidence)
    };
    // Killed while hashing and copying the file, and while DuckDB reads it.
    for after in [Duration::from_millis(100), Duration::from_millis(1500), Duration::from_millis(3000)] {
        kill_once_it_holds_the_store(&store, &["ingest", &log_arg], after);
        let (stored, evidence) = events(&store);
        assert!(
            (stored, evidence) == (0, 1) || (stored, evidence) == (400_000, 2),
            "after {after:?}: all or nothing, found {stored} events and {evidence} evidence items"
        );
    }
    let again = pipeproof().arg("--store").arg(&store).args(["ingest", &log_arg]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(events(&store), (400_000, 2), "each event once, one evidence item for the log");
    let conn = pipeproof::store::Store::open_read_only(&store).unwrap();
    let running: i64 =
        conn.query_row("SELECT count(*) FROM runs WHERE status = 'running'", [], |row| row.get(0)).unwrap();
    assert_eq!(running, 0, "killed runs are marked failed");
    let failed: i64 = conn
        .query_row("SELECT count(*) FROM runs WHERE command = 'ingest' AND status = 'failed'", [], |row| row.get(0))
        .unwrap();
    assert!(failed >= 1, "a kill landed while ingesting: {failed} failed runs");
    let kept = std::path::PathBuf::from(format!("{}.evidence", store.display()));
    let partials = std::fs::read_dir(&kept)
        .map(|dirs| dirs.flatten().flat_map(|d| std::fs::read_dir(d.path()).unwrap().flatten()).count())
        .unwrap_or(0);
    assert!(partials >= 1, "the log is kept beside the store");
}

/// Starts `pipeproof --store STORE ARGS…` with debug logs, waits until it logs `marker`, lets it work for `after`,
/// and kills it with SIGKILL.
fn kill_once_it_logs(store: &std::path::Path, args: &[&str], marker: &str, after: Duration) {
    let mut child = spawn_until_it_logs(store, args, marker);
    std::thread::sleep(after);
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// How long the command runs after it logs `marker`, left to finish.
fn time_after_it_logs(store: &std::path::Path, args: &[&str], marker: &str) -> Duration {
    let mut child = spawn_until_it_logs(store, args, marker);
    let logged = std::time::Instant::now();
    assert!(child.wait().unwrap().success(), "{args:?} failed");
    logged.elapsed()
}

/// Starts the command and returns once it has logged `marker` (its stderr is drained meanwhile).
fn spawn_until_it_logs(store: &std::path::Path, args: &[&str], marker: &str) -> std::process::Child {
    use std::io::BufRead;
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pipeproof"))
        .env("PIPEPROOF_LOCK_TOKEN", "ghs_slow")
        .env("PIPEPROOF_LOG", "pipeproof=debug")
        .arg("--store")
        .arg(store)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    assert!(lines.any(|line| line.unwrap().contains(marker)), "{args:?} never logged {marker:?}");
    // The rest of its log is read away so a full pipe never stalls it.
    std::thread::spawn(move || lines.for_each(drop));
    child
}

#[test]
fn an_evaluation_killed_while_it_is_stored_keeps_all_of_it_or_none() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    // A control judging 200,000 resources: storing its results and their history takes a while. An evaluation left
    // to finish says how long, and the kills below land at fractions of that, inside the transaction that stores
    // the evaluation (or, at worst, after it committed), however fast this build and machine are.
    let many = dir.path().join("many-controls");
    std::fs::create_dir_all(&many).unwrap();
    std::fs::write(
        many.join("MANY-01.yaml"),
        "id: MANY-01\ntitle: many\ndomain: governance\nkind: operation\nseverity: low\nstatement: s\nrationale: r\n\
         remediation: m\nrequires: [repositories]\nquery: |\n  SELECT 'resource-' || range AS resource, 'pass' AS status, \
         NULL AS reason, NULL AS evidence_id FROM range(200000)\n",
    )
    .unwrap();
    let many_arg = many.display().to_string();
    let stored = |store: &std::path::Path| -> Vec<(i64, i64)> {
        let conn = pipeproof::store::Store::open_read_only(store).unwrap();
        let mut statement = conn
            .prepare(
                "SELECT e.evaluation_id, (SELECT count(*) FROM control_results r
                                          WHERE r.evaluation_id = e.evaluation_id AND r.control_id = 'MANY-01')
                 FROM evaluations e ORDER BY 1",
            )
            .unwrap();
        statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?))).unwrap().map(Result::unwrap).collect()
    };
    let storing = time_after_it_logs(&store, &["evaluate", "--controls", &many_arg], "storing the evaluation");
    let statuses = |store: &std::path::Path| -> Vec<String> {
        let conn = pipeproof::store::Store::open(store).unwrap();
        let mut statement =
            conn.conn().prepare("SELECT status FROM runs WHERE command = 'evaluate' ORDER BY run_id").unwrap();
        statement.query_map([], |row| row.get(0)).unwrap().map(Result::unwrap).collect()
    };
    // The time measured can be longer than a later run's (other tests load the machine unevenly): after the first
    // three kills, ever earlier ones until one lands inside the transaction.
    let mut before = stored(&store);
    for (tried, fraction) in [0.1, 0.4, 0.7, 0.05, 0.02, 0.01, 0.0].into_iter().enumerate() {
        if tried >= 3 && statuses(&store).iter().any(|s| s == "failed") {
            break;
        }
        let after = storing.mul_f64(fraction);
        kill_once_it_logs(&store, &["evaluate", "--controls", &many_arg], "storing the evaluation", after);
        let now = stored(&store);
        assert!(
            now == before || (now.len() == before.len() + 1 && now.last().unwrap().1 == 200_000),
            "after {after:?}: the killed evaluation is stored whole or not at all: {now:?}"
        );
        before = now;
    }
    let killed = statuses(&store);
    assert!(!killed.iter().any(|s| s == "running"), "killed runs are marked failed: {killed:?}");
    assert!(killed.iter().any(|s| s == "failed"), "a kill landed inside the storing transaction: {killed:?}");
    let evaluations = before.len();
    assert_eq!(evaluations, killed.iter().filter(|s| *s == "succeeded").count(), "stored exactly when it succeeded");

    let again = pipeproof().arg("--store").arg(&store).args(["evaluate", "--controls", &many_arg]).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    assert_eq!(stored(&store).last().unwrap().1, 200_000, "the next evaluation stores everything");
    let conn = pipeproof::store::Store::open_read_only(&store).unwrap();
    let history: i64 = conn
        .query_row("SELECT count(*) FROM finding_history WHERE control_id = 'MANY-01'", [], |row| row.get(0))
        .unwrap();
    assert_eq!(history, 200_000, "one history row per resource, however many evaluations were killed");
}
