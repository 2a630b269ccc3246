//! The store: interrupted runs, locking.

use crate::common;

use common::pipeproof;
use pipeproof::store::Store;

#[test]
fn a_run_killed_half_way_is_marked_failed_on_the_next_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.duckdb");
    {
        let store = Store::open(&path).unwrap();
        store.start_run("collect github").unwrap();
    }
    let store = Store::open(&path).unwrap();
    let (status, detail): (String, String) = store
        .conn()
        .query_row("SELECT status, detail::VARCHAR FROM runs", [], |row| Ok((row.get(0)?, row.get(1)?)))
        .unwrap();
    assert_eq!(status, "failed");
    assert!(detail.contains("interrupted"), "{detail}");
}

#[test]
fn a_second_writer_gets_a_clear_locked_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.duckdb");
    let _held = Store::open(&path).unwrap();
    let sample = common::samples().join("sarif/codeql-action-valid-sarif.sarif");
    let output = pipeproof().arg("--store").arg(&path).arg("ingest").arg(sample).output().unwrap();
    assert_eq!(output.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("is locked by another pipeproof process"), "{stderr}");
}

#[test]
fn the_duckdb_library_linked_is_the_version_the_crate_binds() {
    // The duckdb crate's version encodes DuckDB's (1.10505.0 is DuckDB 1.5.5); the prebuilt library `./x` links
    // and the bundled source must both be that version.
    let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.lock")).unwrap();
    let crate_version = lock
        .split("[[package]]")
        .find(|package| package.contains("name = \"libduckdb-sys\""))
        .and_then(|package| package.lines().find_map(|line| line.strip_prefix("version = \"")))
        .map(|version| version.trim_end_matches('"').to_string())
        .expect("libduckdb-sys in Cargo.lock");
    let encoded: u32 = crate_version.split('.').nth(1).unwrap().parse().unwrap();
    let expected = format!("v{}.{}.{}", encoded / 10_000, encoded / 100 % 100, encoded % 100);
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let linked: String = conn.query_row("SELECT library_version FROM pragma_version()", [], |row| row.get(0)).unwrap();
    assert_eq!(linked, expected, "libduckdb-sys {crate_version} is linked against DuckDB {linked}");
}
