//! `pipeproof export`: the store as Hive-partitioned Parquet with a manifest, incremental, readable by DuckDB.

use crate::common;

use common::{pipeproof, run_demo};

fn manifest(lake: &std::path::Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(lake.join("manifest.json")).unwrap()).unwrap()
}

#[test]
fn the_lake_holds_every_fact_and_evaluation_and_grows_by_new_runs_only() {
    let dir = tempfile::tempdir().unwrap();
    run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let lake = dir.path().join("lake");
    pipeproof().arg("--store").arg(&store).args(["export", "-o"]).arg(&lake).assert().success();
    let first = manifest(&lake);
    assert_eq!(first["format"], "pipeproof-lake");
    let files = first["files"].as_array().unwrap();
    for file in files {
        let bytes = std::fs::read(lake.join(file["path"].as_str().unwrap())).unwrap();
        assert_eq!(file["sha256"].as_str().unwrap(), pipeproof::store::sha256_hex(&bytes));
    }
    let tables: Vec<&str> = files.iter().map(|f| f["table"].as_str().unwrap()).collect();
    for table in ["repositories_history", "merge_requests_history", "evidence", "evaluations", "control_results"] {
        assert!(tables.contains(&table), "{table} exported");
    }
    assert!(!tables.contains(&"blobs"), "raw bytes stay content-addressed in the store");
    assert!(files.iter().any(|f| f["path"].as_str().unwrap().starts_with("repositories_history/lake_org=acme-demo/")));

    // Everything the store holds, read back through DuckDB with Hive partitioning.
    let conn = duckdb::Connection::open_in_memory().unwrap();
    let count = |table: &str| -> i64 {
        let glob = lake.join(table).join("*/*/*.parquet");
        conn.query_row(
            &format!("SELECT count(*) FROM read_parquet('{}', hive_partitioning = true)", glob.display()),
            [],
            |row| row.get(0),
        )
        .unwrap()
    };
    let stored = |table: &str| -> i64 {
        let conn = pipeproof::store::Store::open_read_only(&store).unwrap();
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |row| row.get(0)).unwrap()
    };
    for table in ["branch_rules_history", "control_results", "evidence"] {
        assert_eq!(count(table), stored(table), "{table}");
    }

    // A second export with nothing new adds no file; after another evaluation, only its rows.
    pipeproof().arg("--store").arg(&store).args(["export", "-o"]).arg(&lake).assert().success();
    assert_eq!(manifest(&lake)["files"], first["files"]);
    let evaluated = pipeproof().arg("--store").arg(&store).arg("evaluate").output().unwrap();
    assert!(matches!(evaluated.status.code(), Some(0 | 1)));
    pipeproof().arg("--store").arg(&store).args(["export", "-o"]).arg(&lake).assert().success();
    let second = manifest(&lake);
    let added: Vec<&serde_json::Value> = second["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| !files.iter().any(|old| old["path"] == f["path"]))
        .collect();
    assert!(added.iter().any(|f| f["table"] == "control_results"), "{added:?}");
    assert!(added.iter().all(|f| f["table"] != "repositories_history"), "no collection since: no new facts");
    assert_eq!(count("control_results"), stored("control_results"));
    assert_eq!(second["exports"].as_array().unwrap().len(), 3);

    // A folder that is not a lake is refused.
    let other = dir.path().join("other");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    let refused = pipeproof().arg("--store").arg(&store).args(["export", "-o"]).arg(&other).output().unwrap();
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("not empty"));
}
