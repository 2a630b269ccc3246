//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `pipeproof` binary under test.
pub fn pipeproof() -> Command {
    let mut command = Command::cargo_bin("pipeproof").expect("binary built");
    command.env_remove("GITHUB_TOKEN").env("PIPEPROOF_LOG", "warn");
    command
}

/// `../shared/samples`, beside the checkout.
pub fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/samples")
}

/// The repository's demo fixtures.
pub fn demo_fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo")
}

/// The demo's output on its built-in fixtures: `pipeproof demo`, run once per test process (the first test to ask
/// runs it; the others wait), then copied for each test that asks.
fn demo_once() -> &'static Path {
    static DEMO: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        run_demo_fresh(dir.path(), None);
        dir
    })
    .path()
}

/// The demo's output in `dir` (a copy of one run per process on the built-in fixtures, a run of its own on other
/// fixtures) and its parsed report.json.
pub fn run_demo(dir: &Path, fixtures: Option<&Path>) -> serde_json::Value {
    match fixtures {
        Some(_) => run_demo_fresh(dir, fixtures),
        None => {
            copy_tree(demo_once(), dir);
            let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
            serde_json::from_str(&text).expect("report.json is JSON")
        }
    }
}

/// Runs `pipeproof demo` into `dir` (optionally on other fixtures) and returns the parsed report.json.
pub fn run_demo_fresh(dir: &Path, fixtures: Option<&Path>) -> serde_json::Value {
    let mut command = pipeproof();
    command.arg("demo").arg("--output").arg(dir);
    if let Some(fixtures) = fixtures {
        command.arg("--fixtures").arg(fixtures);
    }
    command.assert().success();
    let text = std::fs::read_to_string(dir.join("report.json")).expect("report.json written");
    serde_json::from_str(&text).expect("report.json is JSON")
}

/// A control's finding on a resource in a report model.
pub fn finding(report: &serde_json::Value, control: &str, resource: &str) -> serde_json::Value {
    let control = report["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == control)
        .unwrap_or_else(|| panic!("control {control} in report"));
    control["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"] == resource)
        .unwrap_or_else(|| panic!("{control} has no finding for {resource}"))
        .clone()
}

/// The status a control gave a resource in a report model.
pub fn verdict(report: &serde_json::Value, control: &str, resource: &str) -> String {
    finding(report, control, resource)["status"].as_str().unwrap().to_string()
}

/// The status a control gave the one resource whose name starts with `prefix` (names that carry a time of day).
pub fn verdict_starting(report: &serde_json::Value, control: &str, prefix: &str) -> String {
    let control = report["controls"].as_array().unwrap().iter().find(|c| c["id"] == control).unwrap();
    let found: Vec<&serde_json::Value> = control["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"].as_str().is_some_and(|r| r.starts_with(prefix)))
        .collect();
    assert_eq!(found.len(), 1, "one finding of {} starts with {prefix}: {found:?}", control["id"]);
    found[0]["status"].as_str().unwrap().to_string()
}

/// The rolled-up status of a control in a report model.
pub fn control_status(report: &serde_json::Value, control: &str) -> String {
    report["controls"].as_array().unwrap().iter().find(|c| c["id"] == control).unwrap()["status"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Copies a directory tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The demo cassette as JSON, with `edit(path, interaction)` applied to every recorded interaction.
pub fn demo_cassette_edited(edit: impl Fn(&str, &mut serde_json::Value)) -> serde_json::Value {
    let path = demo_fixtures().join("github/cassette.json");
    let mut cassette: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for interaction in cassette["interactions"].as_array_mut().unwrap() {
        let path = interaction["path"].as_str().unwrap().to_string();
        edit(&path, interaction);
    }
    cassette
}

/// The demo cassette, parsed, with `edit` applied (see [`demo_cassette_edited`]).
pub fn demo_cassette(edit: impl Fn(&str, &mut serde_json::Value)) -> pipeproof::collect::replay::Cassette {
    pipeproof::collect::replay::Cassette::parse(&demo_cassette_edited(edit).to_string(), "edited demo cassette")
        .unwrap()
}

/// A copy of the demo fixtures whose cassette has `edit` applied (see [`demo_cassette_edited`]).
pub fn demo_fixtures_edited(edit: impl Fn(&str, &mut serde_json::Value)) -> tempfile::TempDir {
    let fixtures = tempfile::tempdir().unwrap();
    copy_tree(&demo_fixtures(), fixtures.path());
    let cassette = demo_cassette_edited(edit);
    std::fs::write(fixtures.path().join("github/cassette.json"), cassette.to_string()).unwrap();
    fixtures
}

/// Runs `report` on a demo folder's store with extra arguments (formats, paper), writing into `out`.
pub fn report_demo(demo: &Path, args: &[&str], out: &Path) {
    pipeproof()
        .arg("--store")
        .arg(demo.join("pipeproof-demo.duckdb"))
        .arg("report")
        .args(args)
        .arg("--output")
        .arg(out)
        .assert()
        .success();
}

/// Renders `report.json` for the store's latest evaluation into `out` and returns it parsed.
pub fn report_json(store: &Path, config: Option<&Path>, out: &Path) -> serde_json::Value {
    let mut command = pipeproof();
    command.arg("--store").arg(store);
    if let Some(config) = config {
        command.arg("--config").arg(config);
    }
    command.args(["report", "--format", "json", "--output"]).arg(out).assert().success();
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

/// The first column of each row `sql` returns from a store, as text (opened read-only).
pub fn store_texts(store: &Path, sql: &str) -> Vec<String> {
    let conn = pipeproof::store::Store::open_read_only(store).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    statement.query_map([], |row| row.get::<_, String>(0)).unwrap().map(Result::unwrap).collect()
}

/// Evaluates the built-in catalogue on a store now, with the default config.
pub fn evaluate_now(store: &Path) -> pipeproof::evaluate::Evaluation {
    let scope = pipeproof::evaluate::Scope::at(pipeproof::time::now_utc());
    let catalogue = pipeproof::controls::Catalogue::load(&[] as &[&Path]).unwrap();
    pipeproof::evaluate::evaluate(store, &catalogue, &pipeproof::config::Config::default(), &scope).unwrap()
}

/// A control's status and reason for a resource in an evaluation; panics when the control erred or did not judge it.
pub fn evaluated_verdict(
    evaluation: &pipeproof::evaluate::Evaluation,
    control: &str,
    resource: &str,
) -> (String, String) {
    let outcome = evaluation.outcomes.iter().find(|o| o.control_id == control).expect("the control ran");
    assert!(outcome.error.is_none(), "{control}: {:?}", outcome.error);
    let result = outcome.results.iter().find(|r| r.resource == resource).expect("the resource was judged");
    (result.status.as_str().to_string(), result.reason.clone())
}
