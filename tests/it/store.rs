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
