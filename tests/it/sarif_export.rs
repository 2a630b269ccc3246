//! `report --format sarif`: the failing findings as SARIF 2.1.0, readable by code-scanning tools (and by us).

use crate::common;

use common::{pipeproof, run_demo};

#[test]
fn sarif_of_failing_findings_reads_back_through_our_own_sarif_ingestor() {
    let dir = tempfile::tempdir().unwrap();
    let report = run_demo(dir.path(), None);
    let out = dir.path().join("formats");
    common::report_demo(dir.path(), &["--format", "sarif,json"], &out);
    let mut names: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names, vec![std::ffi::OsString::from("report.json"), "report.sarif".into()], "comma-separated formats");
    let failing = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap())
        .filter(|f| f["status"] == "fail")
        .count();
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.sarif")).unwrap()).unwrap();
    assert_eq!(sarif["runs"][0]["results"].as_array().unwrap().len(), failing);

    let store = dir.path().join("readback.duckdb");
    let output = pipeproof().arg("--store").arg(&store).arg("ingest").arg(out.join("report.sarif")).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains(&format!("(sarif-2.1.0): {failing} findings")), "{stdout}");
}
