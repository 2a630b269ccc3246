//! Control SQL runs sandboxed: it cannot read files, reach out, change the store or run forever.

use crate::common;

use pipeproof::config::Config;
use pipeproof::controls::Catalogue;
use pipeproof::evaluate::Status;

fn control(id: &str, query: &str) -> (String, String) {
    let indented: String = query.lines().map(|line| format!("  {line}\n")).collect();
    (
        format!("custom/{id}.yaml"),
        format!(
            "id: {id}\ntitle: hostile\ndomain: governance\nkind: state\nseverity: low\nstatement: s\nrationale: r\nremediation: m\n\
             requires: [repositories]\nquery: |\n{indented}"
        ),
    )
}

#[test]
fn hostile_control_sql_fails_clearly_and_evaluation_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let size_before = std::fs::metadata(&store).unwrap().len();

    let escape = dir.path().join("pipeproof-sandbox-escape.csv");
    let other = dir.path().join("pipeproof-other.duckdb");
    let mut files = pipeproof::embedded::framework_files();
    files.extend([
        control("BAD-01", "SELECT * FROM read_csv('/etc/passwd')"),
        control("BAD-02", &format!("COPY (SELECT 1) TO '{}'", escape.display())),
        control("BAD-03", &format!("ATTACH '{}' AS other", other.display())),
        control("BAD-04", "INSTALL httpfs"),
        control("BAD-05", "DELETE FROM evidence"),
        control("BAD-06", "CREATE TABLE planted AS SELECT 1 AS x"),
        control("BAD-07", "SET enable_external_access = true"),
        control("BAD-08", "SELECT sum(a.range * b.range) AS n FROM range(10000000) a, range(10000000) b"),
        control("BAD-09", "INSERT INTO manual_attestations (control, resource) VALUES ('MON-04', '*')"),
        control(
            "BAD-10",
            "SELECT repo AS resource, 'pass' AS status, '' AS reason, evidence_id FROM repositories; DELETE FROM evidence",
        ),
        control(
            "OK-01",
            "SELECT repo AS resource, 'pass' AS status, 'listed' AS reason, evidence_id FROM repositories WHERE forge = 'github'",
        ),
        control(
            "OK-02",
            "SELECT repo AS resource, 'pass' AS status, NULL AS reason, NULL AS evidence_id FROM repositories WHERE forge = 'github'",
        ),
    ]);
    let catalogue = Catalogue::from_files(files).unwrap();
    let evaluation = pipeproof::evaluate::evaluate_with_limit(
        &store,
        &catalogue,
        &Config::default(),
        &pipeproof::evaluate::Scope::at(pipeproof::time::now_utc()),
        std::time::Duration::from_secs(2),
    )
    .unwrap();

    for outcome in &evaluation.outcomes {
        if outcome.control_id.starts_with("BAD-") {
            assert_eq!(outcome.status, Status::Unknown, "{}", outcome.control_id);
            let error = outcome.error.as_deref().unwrap_or_default();
            assert!(error.starts_with("query error:"), "{}: {error}", outcome.control_id);
        }
    }
    let error_of = |id: &str| evaluation.outcomes.iter().find(|o| o.control_id == id).unwrap().error.clone().unwrap();
    assert!(error_of("BAD-01").to_lowercase().contains("disabled"), "{}", error_of("BAD-01"));
    for statement in ["BAD-05", "BAD-09", "BAD-10"] {
        assert!(error_of(statement).contains("must be one SELECT"), "{statement}: {}", error_of(statement));
    }
    assert!(error_of("BAD-08").contains("longer than"), "{}", error_of("BAD-08"));
    let ok = evaluation.outcomes.iter().find(|o| o.control_id == "OK-01").unwrap();
    assert_eq!(ok.status, Status::Pass);
    assert_eq!(ok.results.len(), 6);
    let untyped = evaluation.outcomes.iter().find(|o| o.control_id == "OK-02").unwrap();
    assert_eq!((untyped.status, untyped.results.len()), (Status::Pass, 6), "bare NULL columns are read as absent");
    assert_eq!((untyped.results[0].reason.as_str(), untyped.results[0].evidence_id), ("", None));

    assert!(!escape.exists());
    assert!(!other.exists());
    let conn = duckdb::Connection::open(&store).unwrap();
    let evidence: i64 = conn.query_row("SELECT count(*) FROM evidence", [], |row| row.get(0)).unwrap();
    assert!(evidence > 0, "evidence survived");
    let planted: i64 = conn
        .query_row("SELECT count(*) FROM information_schema.tables WHERE table_name = 'planted'", [], |row| row.get(0))
        .unwrap();
    assert_eq!(planted, 0);
    assert!(std::fs::metadata(&store).unwrap().len() >= size_before);
}

#[test]
fn parameters_are_bound_not_pasted() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let mut files = pipeproof::embedded::framework_files();
    let (name, mut text) = control(
        "PAR-01",
        "SELECT getvariable('label') AS resource, 'pass' AS status, 'bound' AS reason, NULL::BIGINT AS evidence_id",
    );
    text.push_str("params:\n  label:\n    default: \"x'); DROP TABLE evidence; --\"\n    description: hostile text\n");
    files.push((name, text));
    let catalogue = Catalogue::from_files(files).unwrap();
    let evaluation = pipeproof::evaluate::evaluate(
        &store,
        &catalogue,
        &Config::default(),
        &pipeproof::evaluate::Scope::at(pipeproof::time::now_utc()),
    )
    .unwrap();
    let outcome = &evaluation.outcomes[0];
    assert_eq!(outcome.status, Status::Pass, "{:?}", outcome.error);
    assert_eq!(outcome.results[0].resource, "x'); DROP TABLE evidence; --");
}

#[test]
fn a_custom_control_cannot_forge_the_verdicts_of_controls_evaluated_after_it() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let honest = |id: &str| -> Vec<(String, Status)> {
        let catalogue = Catalogue::load(&[] as &[&std::path::Path]).unwrap();
        let evaluation = pipeproof::evaluate::evaluate(
            &store,
            &catalogue,
            &Config::default(),
            &pipeproof::evaluate::Scope::at(pipeproof::time::now_utc()),
        )
        .unwrap();
        let outcome = evaluation.outcomes.iter().find(|o| o.control_id == id).unwrap();
        outcome.results.iter().map(|r| (r.resource.clone(), r.status)).collect()
    };
    let before = honest("SRC-10");
    assert!(before.iter().any(|(_, status)| *status == Status::Fail), "the demo fails SRC-10 somewhere");

    // Each closes the wrapper's parenthesis and runs a statement before its SELECT: a shadowing view, a planted
    // attestation, a moved as-of moment. AAA- sorts first, so every built-in control is evaluated after them.
    let shadow = "SELECT 1 AS resource, 'pass' AS status, '' AS reason, NULL::BIGINT AS evidence_id) \
                  ; CREATE TEMP VIEW branch_rules AS SELECT * REPLACE (true AS protected, false AS allow_force_pushes, \
                  false AS allow_deletions) FROM main.branch_rules; SELECT * FROM (SELECT 1 AS resource, 'pass' AS status, \
                  '' AS reason, NULL::BIGINT AS evidence_id";
    let plant = "SELECT 1 AS resource, 'pass' AS status, '' AS reason, NULL::BIGINT AS evidence_id) \
                 ; INSERT INTO manual_attestations VALUES (1, 'MON-04', '*', 's', 'x', now()::TIMESTAMP, '9999-01-01', 'd', 'h', true) \
                 ; SELECT * FROM (SELECT 1 AS resource, 'pass' AS status, '' AS reason, NULL::BIGINT AS evidence_id";
    let as_of = "SELECT 1 AS resource, 'pass' AS status, '' AS reason, NULL::BIGINT AS evidence_id) \
                 ; SET VARIABLE pp_as_of = TIMESTAMP '1970-01-01'; SELECT * FROM (SELECT 1 AS resource, 'pass' AS status, \
                 '' AS reason, NULL::BIGINT AS evidence_id";
    let via_query = "SELECT * FROM query('CREATE TEMP VIEW branch_rules AS SELECT 1')";
    let mut files = pipeproof::embedded::framework_files();
    files.extend(
        pipeproof::embedded::CONTROLS
            .iter()
            .filter(|(name, _)| {
                name.ends_with(".yaml") && !name.starts_with("frameworks/") && !name.starts_with("crosswalks/")
            })
            .map(|(name, text)| (format!("builtin:controls/{name}"), text.to_string())),
    );
    files.extend([
        control("AAA-01", shadow),
        control("AAA-02", plant),
        control("AAA-03", as_of),
        control("AAA-04", via_query),
    ]);
    let catalogue = Catalogue::from_files(files).unwrap();
    let evaluation = pipeproof::evaluate::evaluate(
        &store,
        &catalogue,
        &Config::default(),
        &pipeproof::evaluate::Scope::at(pipeproof::time::now_utc()),
    )
    .unwrap();
    for id in ["AAA-01", "AAA-02", "AAA-03", "AAA-04"] {
        let outcome = evaluation.outcomes.iter().find(|o| o.control_id == id).unwrap();
        assert_eq!(outcome.status, Status::Unknown, "{id} must not run: {:?}", outcome.error);
    }
    let after: Vec<(String, Status)> = evaluation
        .outcomes
        .iter()
        .find(|o| o.control_id == "SRC-10")
        .unwrap()
        .results
        .iter()
        .map(|r| (r.resource.clone(), r.status))
        .collect();
    assert_eq!(after, before, "SRC-10's verdicts are the evidence's, whatever a control before it tried");
    let mon04 = evaluation.outcomes.iter().find(|o| o.control_id == "MON-04").unwrap();
    assert!(mon04.results.iter().all(|r| r.status != Status::Pass || r.reason.contains("signed off by")));
}

#[test]
fn a_control_cannot_return_unbounded_output() {
    let dir = tempfile::tempdir().unwrap();
    common::run_demo(dir.path(), None);
    let store = dir.path().join("pipeproof-demo.duckdb");
    let mut files = pipeproof::embedded::framework_files();
    files.extend([control(
        "BIG-01",
        "SELECT 'r' || range AS resource, 'fail' AS status, repeat('x', 1000000) AS reason, NULL::BIGINT AS evidence_id \
         FROM range(3)",
    )]);
    let catalogue = Catalogue::from_files(files).unwrap();
    let evaluation = pipeproof::evaluate::evaluate(
        &store,
        &catalogue,
        &Config::default(),
        &pipeproof::evaluate::Scope::at(pipeproof::time::now_utc()),
    )
    .unwrap();
    let outcome = &evaluation.outcomes[0];
    assert_eq!(outcome.results.len(), 3);
    assert!(
        outcome.results.iter().all(|r| r.reason.len() < 10_000 && r.reason.contains("truncated")),
        "reasons are bounded"
    );
}
