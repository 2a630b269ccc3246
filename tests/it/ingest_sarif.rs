//! SARIF ingest over every real sample in ../shared/samples/sarif, and each malformed file's outcome.

use crate::common;

use common::{pipeproof, samples};

fn sarif_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .expect("shared samples beside the checkout")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sarif"))
        .collect();
    files.sort();
    files
}

fn count(store: &std::path::Path, sql: &str) -> i64 {
    let conn = duckdb::Connection::open(store).unwrap();
    conn.query_row(sql, [], |row| row.get(0)).unwrap()
}

#[test]
fn every_real_sarif_sample_is_ingested() {
    let files = sarif_files(&samples().join("sarif"));
    assert!(files.len() >= 20, "expected the shared SARIF samples, found {}", files.len());
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("store.duckdb");
    let output = pipeproof().arg("--store").arg(&store).arg("ingest").args(&files).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "ingest failed: {stderr}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(stdout.lines().filter(|l| l.starts_with("ingested ")).count(), files.len(), "{stdout}");
    assert_eq!(count(&store, "SELECT count(*) FROM evidence WHERE kind = 'sarif'"), files.len() as i64);
    assert!(count(&store, "SELECT count(*) FROM code_findings_history") > 1000);
    assert!(
        count(&store, "SELECT count(*) FROM code_findings_history WHERE suppressed") > 0,
        "dd-suppression_test has suppressions"
    );
    assert_eq!(
        count(
            &store,
            "SELECT count(*) FROM code_findings_history WHERE level NOT IN ('error','warning','note','none')"
        ),
        0
    );
    assert_eq!(count(&store, "SELECT count(*) FROM runs WHERE status <> 'succeeded'"), 0);
}

#[test]
fn each_malformed_sarif_has_a_clear_outcome() {
    let malformed = samples().join("sarif/malformed");
    let expectations = [
        ("dd-no_runs.sarif", true, "has no runs"),
        ("sarif-sdk-JSON1001.SyntaxError.sarif", false, "line 3, column 3"),
        ("sarif-sdk-binskim-clang.execstack.sarif", false, "line 1063, column 13: invalid JSON: trailing comma"),
        ("sarif-sdk-prerelease-2.0.0.sarif", true, "SARIF 2.0.0 is the pre-standard draft format"),
        ("sarif-sdk-v1.0.0-RecommendedWithSource.sarif", false, "unsupported SARIF version \"1.0.0\""),
    ];
    assert_eq!(sarif_files(&malformed).len(), expectations.len(), "a new malformed sample needs an expectation here");
    for (file, accepted, message) in expectations {
        let dir = tempfile::tempdir().unwrap();
        let path = malformed.join(file);
        let output =
            pipeproof().arg("--store").arg(dir.path().join("s.duckdb")).arg("ingest").arg(&path).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(message), "{file}: expected {message:?} in {stderr}");
        assert!(stderr.contains(file), "{file}: the message names the file: {stderr}");
        assert_eq!(output.status.code(), Some(if accepted { 0 } else { 2 }), "{file}: {stderr}");
    }
}

#[test]
fn one_bad_file_does_not_drop_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    let good = samples().join("sarif/codeql-action-valid-sarif.sarif");
    let bad = samples().join("sarif/malformed/sarif-sdk-JSON1001.SyntaxError.sarif");
    let missing = dir.path().join("missing.sarif");
    let output =
        pipeproof().arg("--store").arg(&store).arg("ingest").arg(&bad).arg(&good).arg(&missing).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("2 of 3 file(s) could not be ingested"), "{stderr}");
    assert!(stderr.contains("missing.sarif: cannot read"), "{stderr}");
    assert_eq!(count(&store, "SELECT count(*) FROM evidence"), 1);

    let again = pipeproof().arg("--store").arg(&store).arg("ingest").arg(&bad).output().unwrap();
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(count(&store, "SELECT count(*) FROM evidence"), 1, "a later bad file loses nothing stored before");
}

#[test]
fn the_repository_comes_from_the_flag_or_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = dir.path().join("s.duckdb");
    pipeproof()
        .arg("--store")
        .arg(&store)
        .args(["ingest", "--repo", "octo/app"])
        .arg(samples().join("sarif/codeql-action-valid-sarif.sarif"))
        .assert()
        .success();
    assert!(count(&store, "SELECT count(*) FROM code_scans_history WHERE repo = 'octo/app'") >= 1);
    assert_eq!(count(&store, "SELECT count(*) FROM code_scans_history WHERE repo IS DISTINCT FROM 'octo/app'"), 0);
}
