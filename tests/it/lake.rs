//! A DuckLake store on PostgreSQL: concurrent collections into one lake judge exactly as one file that collected
//! the same, and a writer killed mid-run leaves nothing of its own visible. `.ci/run` starts PostgreSQL and
//! provides DuckDB's extensions (`PIPEPROOF_TEST_POSTGRES`, `PIPEPROOF_DUCKDB_EXTENSIONS`); elsewhere these tests
//! say they were skipped, unless `PIPEPROOF_REQUIRE_LAKE` is set.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common;
use pipeproof::collect::replay::{Cassette, ReplayServer};

/// A fresh, empty lake: its `--store` value and its data folder.
struct Lake {
    store: String,
    data: tempfile::TempDir,
}

impl Lake {
    /// A new PostgreSQL database for a lake, or None (saying so) where no PostgreSQL is configured.
    fn create() -> Option<Lake> {
        let Ok(server) = std::env::var("PIPEPROOF_TEST_POSTGRES") else {
            assert!(
                std::env::var_os("PIPEPROOF_REQUIRE_LAKE").is_none(),
                "PIPEPROOF_REQUIRE_LAKE is set but PIPEPROOF_TEST_POSTGRES is not"
            );
            eprintln!("skipped: no PostgreSQL for a DuckLake store (set PIPEPROOF_TEST_POSTGRES, as .ci/run does)");
            return None;
        };
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("pp_lake_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let created = std::process::Command::new("psql")
            .arg(format!("{server} dbname=postgres"))
            .args(["-q", "-c", &format!("DROP DATABASE IF EXISTS {name}"), "-c", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("psql runs");
        assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
        Some(Lake { store: format!("ducklake:postgres:{server} dbname={name}"), data: tempfile::tempdir().unwrap() })
    }

    fn path(&self) -> PathBuf {
        PathBuf::from(&self.store)
    }

    /// `pipeproof collect` of one organisation into this lake, started in the background.
    fn collect(&self, config: &Path) -> Child {
        self.start(&["--config".into(), config.into(), "collect".into()])
    }

    /// `pipeproof ARGS` on this lake, started in the background.
    fn start(&self, args: &[std::ffi::OsString]) -> Child {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("pipeproof"))
            .env("PIPEPROOF_LOG", "warn")
            .env("PIPEPROOF_LAKE_DATA", self.data.path())
            .env("LAKE_TEST_TOKEN", "ghs_lake_test")
            .arg("--store")
            .arg(&self.store)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// The demo organisation's recorded answers, renamed to `org` (paths and bodies alike, audit events given ids of
/// their own, as GitHub's are unique across organisations), with `edit` applied.
fn organisation(org: &str, edit: impl Fn(&str, &mut serde_json::Value)) -> Cassette {
    let cassette = common::demo_cassette_edited(|path, interaction| {
        if path.contains("/audit-log") {
            for event in interaction["body"].as_array_mut().into_iter().flatten() {
                if let Some(id) = event["_document_id"].as_str() {
                    event["_document_id"] = serde_json::json!(format!("{org}-{id}"));
                }
            }
        }
        edit(path, interaction);
    });
    let text = cassette.to_string().replace("acme-demo", org);
    Cassette::parse(&text, org).unwrap()
}

fn config(dir: &Path, org: &str, server: &ReplayServer) -> PathBuf {
    let path = dir.join(format!("{org}.yaml"));
    std::fs::write(
        &path,
        format!(
            "organisation: Two Orgs Ltd\ngithub:\n  org: {org}\n  api_url: {}\n  token_env: LAKE_TEST_TOKEN\n  per_page: 4\n",
            server.base_url()
        ),
    )
    .unwrap();
    path
}

fn collect_into_file(store: &Path, config: &Path) {
    common::pipeproof()
        .env("LAKE_TEST_TOKEN", "ghs_lake_test")
        .arg("--store")
        .arg(store)
        .arg("--config")
        .arg(config)
        .arg("collect")
        .assert()
        .success();
}

fn finished(child: Child) {
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

/// Every verdict of an evaluation: control, resource, status and reason (evidence ids, which differ between
/// stores, and times of day, which the replay fills in relative to each collection, left out).
fn verdicts(evaluation: &pipeproof::evaluate::Evaluation) -> Vec<(String, String, String, String)> {
    let ids = regex::Regex::new(r"\bE\d+\b").unwrap();
    let times = regex::Regex::new(r"\b\d{2}:\d{2}(:\d{2})?\b").unwrap();
    let plain = |text: &str| times.replace_all(&ids.replace_all(text, "E#"), "hh:mm").into_owned();
    let mut all: Vec<_> = evaluation
        .outcomes
        .iter()
        .flat_map(|outcome| {
            outcome.results.iter().map(|result| {
                (
                    outcome.control_id.clone(),
                    plain(&result.resource),
                    result.status.as_str().to_string(),
                    plain(&result.reason),
                )
            })
        })
        .collect();
    all.sort();
    all
}

/// Fails naming only the verdicts that differ.
fn assert_same_verdicts(lake: &pipeproof::evaluate::Evaluation, file: &pipeproof::evaluate::Evaluation) {
    let (lake, file) = (verdicts(lake), verdicts(file));
    let only_lake: Vec<_> = lake.iter().filter(|v| !file.contains(v)).collect();
    let only_file: Vec<_> = file.iter().filter(|v| !lake.contains(v)).collect();
    assert!(
        only_lake.is_empty() && only_file.is_empty(),
        "only in the lake: {only_lake:#?}\nonly in the file: {only_file:#?}"
    );
    assert_eq!(lake.len(), file.len());
}

fn evaluate(store: &Path, at: chrono::NaiveDateTime) -> pipeproof::evaluate::Evaluation {
    let catalogue = pipeproof::controls::Catalogue::load(&[] as &[&Path]).unwrap();
    let config = pipeproof::config::Config { organisation: Some("Two Orgs Ltd".into()), ..Default::default() };
    pipeproof::evaluate::evaluate(store, &catalogue, &config, &pipeproof::evaluate::Scope::at(at)).unwrap()
}

fn count(store: &Path, sql: &str) -> i64 {
    let conn = pipeproof::store::Store::open_read_only(store).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn two_collections_at_once_into_one_lake_judge_as_one_file_that_collected_both() {
    let Some(lake) = Lake::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let north = runtime.block_on(ReplayServer::start(organisation("north-demo", |_, _| {}))).unwrap();
    let south = runtime.block_on(ReplayServer::start(organisation("south-demo", |_, _| {}))).unwrap();
    let (north_config, south_config) =
        (config(dir.path(), "north-demo", &north), config(dir.path(), "south-demo", &south));

    let scans = ["web-app.codeql.sarif", "payments-api.codeql.sarif"]
        .map(|name| common::demo_fixtures().join("sarif").join(name));
    let ingest: Vec<std::ffi::OsString> = [
        "ingest".into(),
        "--repo".into(),
        "south-demo/web-app".into(),
        scans[0].clone().into(),
        scans[1].clone().into(),
    ]
    .into();
    let writers = [lake.collect(&north_config), lake.collect(&south_config), lake.start(&ingest)];
    writers.into_iter().for_each(finished);
    let file = dir.path().join("both.duckdb");
    collect_into_file(&file, &north_config);
    collect_into_file(&file, &south_config);
    common::pipeproof().arg("--store").arg(&file).args(&ingest).assert().success();

    let at = pipeproof::time::now_utc();
    let (in_lake, in_file) = (evaluate(&lake.path(), at), evaluate(&file, at));
    let lake_verdicts = verdicts(&in_lake);
    assert!(lake_verdicts.iter().any(|v| v.1.starts_with("north-demo/")));
    assert!(lake_verdicts.iter().any(|v| v.1.starts_with("south-demo/")));
    assert!(lake_verdicts.iter().any(|v| v.2 == "fail") && lake_verdicts.iter().any(|v| v.2 == "pass"));
    assert_same_verdicts(&in_lake, &in_file);

    for sql in [
        "SELECT count(*) FROM runs WHERE status = 'succeeded'",
        "SELECT count(*) FROM code_findings_history",
        "SELECT count(DISTINCT evidence_id) FROM evidence",
        "SELECT count(*) FROM merge_requests_history",
    ] {
        assert_eq!(count(&lake.path(), sql), count(&file, sql), "{sql}");
    }
    let ids = "SELECT count(*) - count(DISTINCT evidence_id) FROM evidence";
    assert_eq!(count(&lake.path(), ids), 0, "every evidence id is taken once across writers");
    let token = "SELECT count(*) FROM evidence e JOIN blobs b USING (sha256) WHERE contains(b.body::VARCHAR, 'ghs_lake_test') OR contains(e.provenance::VARCHAR, 'ghs_lake_test')";
    assert_eq!(count(&lake.path(), token), 0, "the token is stored nowhere");
}

#[test]
fn a_writer_killed_mid_run_leaves_nothing_of_its_own_visible() {
    let Some(lake) = Lake::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let north = runtime.block_on(ReplayServer::start(organisation("north-demo", |_, _| {}))).unwrap();
    // The south organisation's audit log, read after everything else, answers only after the writer is killed.
    let south = runtime
        .block_on(ReplayServer::start(organisation("south-demo", |path, interaction| {
            if path.contains("audit-log") {
                interaction["delay_ms"] = serde_json::json!(120_000);
            }
        })))
        .unwrap();
    let (north_config, south_config) =
        (config(dir.path(), "north-demo", &north), config(dir.path(), "south-demo", &south));

    let mut killed = lake.collect(&south_config);
    let kept = lake.collect(&north_config);
    finished(kept);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !south.received().iter().any(|request| request.path.contains("audit-log")) {
        assert!(std::time::Instant::now() < deadline, "the south collection never reached its audit log");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    killed.kill().unwrap();
    killed.wait().unwrap();

    let store = lake.path();
    assert_eq!(
        count(&store, "SELECT count(*) FROM runs WHERE status = 'running'"),
        1,
        "the killed run is left running"
    );
    for sql in [
        "SELECT count(*) FROM evidence WHERE subject LIKE 'south-demo%'",
        "SELECT count(*) FROM evidence e JOIN runs r USING (run_id) WHERE r.status = 'running'",
        "SELECT count(*) FROM merge_requests_history WHERE repo LIKE 'south-demo/%'",
    ] {
        assert_eq!(count(&store, sql), 0, "{sql}");
    }
    let file = dir.path().join("north.duckdb");
    collect_into_file(&file, &north_config);
    let at = pipeproof::time::now_utc();
    assert_same_verdicts(&evaluate(&store, at), &evaluate(&file, at));
}

#[test]
fn a_reader_sees_one_snapshot_of_the_lake_while_writers_commit() {
    let Some(lake) = Lake::create() else { return };
    let sarif = crate::common::samples().join("sarif");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&sarif).unwrap().map(|entry| entry.unwrap().path()).collect();
    files.sort();
    finished(lake.start(&["ingest".into(), files[0].clone().into()]));
    let reader = pipeproof::store::Store::open_read_only(&lake.path()).unwrap();
    let evidence = |conn: &duckdb::Connection| -> i64 {
        conn.query_row("SELECT count(*) FROM evidence", [], |row| row.get(0)).unwrap()
    };
    let before = evidence(&reader);
    assert!(before >= 1);
    finished(lake.start(&["ingest".into(), files[1].clone().into()]));
    assert_eq!(evidence(&reader), before, "a reader opened before the ingest keeps the state it opened on");
    assert_eq!(count(&lake.path(), "SELECT count(*) FROM evidence"), before + 1, "a new reader sees the ingest");
}

#[test]
fn control_sql_cannot_reach_the_lake_catalog_database_or_its_files() {
    let Some(lake) = Lake::create() else { return };
    let dir = tempfile::tempdir().unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let north = runtime.block_on(ReplayServer::start(organisation("north-demo", |_, _| {}))).unwrap();
    finished(lake.collect(&config(dir.path(), "north-demo", &north)));
    let control = |id: &str, query: &str| {
        (
            format!("custom/{id}.yaml"),
            format!(
                "id: {id}\ntitle: hostile\ndomain: governance\nkind: state\nseverity: low\nstatement: s\nrationale: r\n\
                 remediation: m\nrequires: [repositories]\nquery: |\n  {query}\n"
            ),
        )
    };
    let select = "SELECT repo AS resource, 'pass' AS status";
    let mut files = pipeproof::embedded::framework_files();
    files.extend([
        control("BAD-01", &format!("{select}, v::VARCHAR AS reason FROM repositories, postgres_query('__ducklake_metadata_pipeproof_lake', 'SELECT 1 AS v')")),
        control("BAD-02", &format!("{select}, 'r' AS reason FROM repositories, __ducklake_metadata_pipeproof_lake.ducklake_snapshot")),
        control("BAD-03", &format!("{select}, 'r' AS reason FROM repositories, ducklake_cleanup_old_files('pipeproof_lake', cleanup_all => true)")),
        control("BAD-04", &format!("{select}, content AS reason FROM repositories, read_text('/etc/hostname')")),
        control("BAD-05", &format!("{select}, 'r' AS reason FROM repositories, read_parquet('{}/**/*.parquet')", lake.data.path().display())),
        control("BAD-06", "DELETE FROM evidence"),
        control("BAD-07", &format!("{select}, v::VARCHAR AS reason FROM repositories, query('SELECT * FROM postgres_query(''__ducklake_metadata_pipeproof_lake'', ''SELECT 1 AS v'')')")),
        control("OK-01", &format!("{select}, 'listed' AS reason, evidence_id FROM repositories")),
    ]);
    let catalogue = pipeproof::controls::Catalogue::from_files(files).unwrap();
    let store = lake.path();
    let evidence = count(&store, "SELECT count(*) FROM evidence");
    let evaluation = pipeproof::evaluate::evaluate(
        &store,
        &catalogue,
        &pipeproof::config::Config::default(),
        &pipeproof::evaluate::Scope::at(pipeproof::time::now_utc()),
    )
    .unwrap();
    for outcome in &evaluation.outcomes {
        if outcome.control_id.starts_with("BAD-") {
            assert!(outcome.error.is_some(), "{} ran: {:?}", outcome.control_id, outcome.results);
        } else {
            assert!(outcome.error.is_none(), "{}: {:?}", outcome.control_id, outcome.error);
            assert!(outcome.results.iter().any(|r| r.resource.starts_with("north-demo/")));
        }
    }
    assert_eq!(count(&store, "SELECT count(*) FROM evidence"), evidence, "control SQL changed nothing");
}
