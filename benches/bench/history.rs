//! Benchmark: 365 daily evaluations of 60 controls × 2,000 resources (about 1 % of findings change each day),
//! each folded into the history as `evaluate` does. Prints store size, history size, and the wall time of `drift`
//! between the last two evaluations and of listing the history (goals: drift < 1 s; the history grows with changes,
//! not with evaluations × resources). Scale with PIPEPROOF_BENCH_DAYS, _CONTROLS and _RESOURCES.
//! Run with `./x bench history`.

use std::time::Instant;

use crate::measure::env_number;

use duckdb::params;
use pipeproof::controls::Catalogue;
use pipeproof::evaluate::EvaluatedCatalogue;
use pipeproof::store::Store;

/// Folds a year of daily evaluations into the history, then times drift and the history listing.
pub fn run() -> anyhow::Result<()> {
    let days = env_number("PIPEPROOF_BENCH_DAYS", 365);
    let controls = env_number("PIPEPROOF_BENCH_CONTROLS", 60);
    let resources = env_number("PIPEPROOF_BENCH_RESOURCES", 2_000);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("history.duckdb");
    let store = Store::open(&path)?;
    let conn = store.conn();

    // A catalogue of `controls` controls: copies of a built-in one under new ids, so reports can name them.
    let builtin = Catalogue::load(&[] as &[&std::path::Path])?;
    let template = builtin.controls[0].clone();
    let catalogue = EvaluatedCatalogue {
        controls: (1..=controls)
            .map(|i| {
                let mut control = template.clone();
                control.id = format!("BEN-{i:02}");
                control
            })
            .collect(),
        frameworks: builtin.frameworks.clone(),
        sources: Vec::new(),
    };
    let catalogue_json = serde_json::to_string(&catalogue)?;

    let start = Instant::now();
    let mut record_seconds = 0.0;
    for day in 0..days {
        let as_of = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap().and_hms_opt(2, 0, 0).unwrap()
            + chrono::Duration::days(day);
        store.in_transaction(|conn| {
            conn.execute(
                "INSERT INTO evaluations (evaluation_id, run_id, as_of, tool_version, catalogue_sha256, catalogue) \
                 VALUES (?, 0, ?, 'bench', 'bench', ?)",
                params![day + 1, as_of, catalogue_json],
            )?;
            conn.execute(
                "INSERT INTO control_outcomes SELECT ?, printf('BEN-%02d', c), 'fail', NULL, '{}' FROM range(1, ? + 1) t(c)",
                params![day + 1, controls],
            )?;
            // A finding fails in the weeks its (control, resource, week) hash lands in the bottom 3 %; weeks turn over
            // on different days for different resources, so about 1 % of findings change each day.
            conn.execute(
                "INSERT INTO control_results (evaluation_id, control_id, resource, status, reason, evidence_id) \
                 SELECT ?1, printf('BEN-%02d', c), printf('bench-org/repo-%04d', r), \
                        CASE WHEN hash(c, r, (?1 + r) // 7) % 100 < 3 THEN 'fail' ELSE 'pass' END, \
                        'synthetic finding', NULL \
                 FROM range(1, ?2 + 1) a(c), range(?3) b(r)",
                params![day + 1, controls, resources],
            )?;
            let started = Instant::now();
            pipeproof::evaluate::history::record(conn, day + 1)?;
            record_seconds += started.elapsed().as_secs_f64();
            Ok(())
        })?;
    }
    conn.execute_batch("CHECKPOINT")?;
    let results: i64 = conn.query_row("SELECT count(*) FROM control_results", [], |r| r.get(0))?;
    let history_rows: i64 = conn.query_row("SELECT count(*) FROM finding_history", [], |r| r.get(0))?;
    let changes: i64 = conn.query_row(
        "SELECT count(*) FROM (SELECT status <> lag(status) OVER (PARTITION BY control_id, resource ORDER BY evaluation_id) AS changed \
         FROM control_results) WHERE changed",
        [],
        |r| r.get(0),
    )?;
    println!(
        "setup: {days} evaluations × {controls} controls × {resources} resources = {results} results in {:.0} s \
         (history upkeep {:.1} s in all, {:.0} ms per evaluation)",
        start.elapsed().as_secs_f64(),
        record_seconds,
        record_seconds * 1000.0 / days as f64
    );
    println!(
        "store: {:.0} MB on disk; finding_history {history_rows} rows for {changes} status changes \
         (one row per control and resource, whatever the number of evaluations)",
        std::fs::metadata(&path)?.len() as f64 / 1e6
    );
    drop(store);

    let conn = Store::open_read_only(&path)?;
    let started = Instant::now();
    let drift = pipeproof::drift::compare(&conn, days - 1, days)?;
    println!(
        "drift: evaluation #{} vs #{}: {} changes in {:.2} s (goal < 1 s)",
        days - 1,
        days,
        drift.changes.len(),
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let listed = pipeproof::evaluate::history::list(&conn, Some("BEN-01"), None, None)?;
    println!("history: {} rows for one control listed in {:.3} s", listed.len(), started.elapsed().as_secs_f64());
    let started = Instant::now();
    let all = pipeproof::evaluate::history::list(&conn, None, None, None)?;
    println!("history: all {} rows listed in {:.2} s", all.len(), started.elapsed().as_secs_f64());
    Ok(())
}
